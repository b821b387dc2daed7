// Conflicting writes on one case, as two offices on slow links would make them.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AlreadyCommitted, verifyChain } from '../src/events/log.ts';
import { codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { CASE_FIELDS, caseInput, CREATE_CASE, trainingComponent, workflow, type CaseView } from './helpers/factories.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

const SAVE = `mutation ($id: ID!, $p: PlanInput!, $v: Int!, $k: String) { saveDraftPlan(caseId: $id, plan: $p, expectedVersion: $v, idempotencyKey: $k) { ${CASE_FIELDS} } }`;

describe('optimistic concurrency', () => {
  it('20 concurrent saveDraftPlan calls with the same expectedVersion: one wins, 19 conflict, nothing is lost', async () => {
    const flow = workflow(gw);
    const arrived = await flow.arrived();
    const before = await gw.services.log.lastSeq();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        flow.officer.gql<{ saveDraftPlan: CaseView }>(SAVE, {
          id: arrived.id,
          v: arrived.version,
          p: { summary: `attempt ${i}`, components: [trainingComponent(1000 + i)] },
        }),
      ),
    );
    const winners = results.filter((r) => !r.errors);
    const conflicts = results.filter((r) => codes(r)[0] === 'CONFLICT');
    expect(winners).toHaveLength(1);
    expect(conflicts).toHaveLength(19);
    for (const c of conflicts) expect(c.errors?.[0]?.extensions.currentVersion).toBe(arrived.version + 1);

    // The winner's plan is the one stored; the case moved exactly one version.
    const winner = winners[0]!.data!.saveDraftPlan;
    const { case: stored } = await flow.officer.ok<{ case: CaseView }>(`query ($id: ID!) { case(id: $id) { ${CASE_FIELDS} } }`, {
      id: arrived.id,
    });
    expect(stored.version).toBe(arrived.version + 1);
    expect(stored.plan?.components[0]?.cost.amount).toBe(winner.plan?.components[0]?.cost.amount);

    // Exactly one event was appended, and the log has no gap and no duplicate.
    expect(await gw.services.log.lastSeq()).toBe(before + 1);
    const history = await gw.services.log.history(arrived.id);
    expect(history.map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
    const events = await gw.services.log.page(0, 10_000);
    expect(events.map((e) => e._id)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
    expect((await verifyChain(gw.services.log)).broken).toBeUndefined();
  });

  it('the losers of a race, on one gateway or two, learn of it from the log by primary key: no query of the events by anything else', async () => {
    const other = await startGateway({ dbName: gw.dbName, dataDir: gw.dataDir, seed: false });
    try {
      const flow = workflow(gw);
      const arrived = await flow.arrived();
      const there = workflow(other).officer;
      // Every read of the events other than by `_id` alone (a scan of the whole log on the embedded store).
      const scans: unknown[] = [];
      const watch = (event: { commandName: string; command: Record<string, unknown> }) => {
        if (event.commandName !== 'find' || event.command.find !== 'events') return;
        const filter = event.command.filter as Record<string, unknown>;
        if (Object.keys(filter).length !== 1 || typeof filter._id !== 'string') scans.push(filter);
      };
      const clients = [gw.store.connection.getClient(), other.store.connection.getClient()];
      for (const client of clients) client.on('commandStarted', watch);
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? there : flow.officer).gql<{ saveDraftPlan: CaseView }>(SAVE, {
            id: arrived.id,
            v: arrived.version,
            p: { summary: `racer ${i}`, components: [trainingComponent(3000 + i)] },
          }),
        ),
      );
      for (const client of clients) client.off('commandStarted', watch);
      expect(results.filter((r) => !r.errors)).toHaveLength(1);
      const conflicts = results.filter((r) => codes(r)[0] === 'CONFLICT');
      expect(conflicts).toHaveLength(11);
      for (const c of conflicts) expect(c.errors?.[0]?.extensions.currentVersion).toBe(arrived.version + 1);
      expect(scans).toEqual([]);
    } finally {
      await other.close({ keepData: true });
    }
  });

  it('keyed writes refused (a race lost, a stale version) are answered without searching the log or the keys but by _id', async () => {
    // Every client of the portal sends a key; on the embedded store a search of the events by
    // key reads the whole log (seconds at a few thousand cases), a filter on the idempotency
    // records beside `_id` reads them all (a second at 20,000), and a conflict is common.
    const flow = workflow(gw);
    const arrived = await flow.arrived();
    const scans: unknown[] = [];
    const byIdAlone = (filter: Record<string, unknown>) => Object.keys(filter).length === 1 && typeof filter._id === 'string';
    const watch = (event: { commandName: string; command: Record<string, unknown> }) => {
      const { command } = event;
      const filters =
        command.find === 'events' || command.find === 'idempotency'
          ? [command.filter]
          : command.delete === 'idempotency'
            ? (command.deletes as { q: unknown }[]).map((d) => d.q)
            : command.update === 'idempotency'
              ? (command.updates as { q: unknown }[]).map((u) => u.q)
              : [];
      for (const filter of filters as Record<string, unknown>[]) if (!byIdAlone(filter)) scans.push(filter);
    };
    const client = gw.store.connection.getClient();
    client.on('commandStarted', watch);
    let results;
    let stale;
    try {
      results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          flow.officer.gql<{ saveDraftPlan: CaseView }>(SAVE, {
            id: arrived.id,
            v: arrived.version,
            p: { summary: `keyed racer ${i}`, components: [trainingComponent(5000 + i)] },
            k: `keyed-racer-${i}`,
          }),
        ),
      );
      stale = await flow.officer.gql(SAVE, {
        id: arrived.id,
        v: arrived.version,
        p: { components: [trainingComponent(6000)] },
        k: 'keyed-stale-01',
      });
    } finally {
      client.off('commandStarted', watch);
    }
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.filter((r) => codes(r)[0] === 'CONFLICT')).toHaveLength(5);
    expect(codes(stale)).toEqual(['CONFLICT']);
    expect(scans).toEqual([]);
    // Their keys are free again: a loser that reloads retries with its key and is written.
    const loser = results.findIndex((r) => r.errors);
    const retried = await flow.officer.ok<{ saveDraftPlan: CaseView }>(SAVE, {
      id: arrived.id,
      v: arrived.version + 1,
      p: { summary: `keyed racer ${loser}`, components: [trainingComponent(5000 + loser)] },
      k: `keyed-racer-${loser}`,
    });
    expect(retried.saveDraftPlan.version).toBe(arrived.version + 2);
  });

  it('a losing writer that reloads and retries succeeds: no update is lost', async () => {
    const flow = workflow(gw);
    const arrived = await flow.arrived();
    const plans = Array.from({ length: 5 }, (_, i) => ({ summary: `writer ${i}`, components: [trainingComponent(2000 + i)] }));
    // Each writer retries on CONFLICT with the version the error names, the way a client should.
    const saved = await Promise.all(
      plans.map(async (plan) => {
        let version = arrived.version;
        for (;;) {
          const r = await flow.officer.gql<{ saveDraftPlan: CaseView }>(SAVE, { id: arrived.id, v: version, p: plan });
          if (!r.errors) return r.data!.saveDraftPlan.version;
          expect(codes(r)).toEqual(['CONFLICT']);
          version = r.errors[0]!.extensions.currentVersion as number;
        }
      }),
    );
    expect([...saved].sort((a, b) => a - b)).toEqual([5, 6, 7, 8, 9]);
    const history = await gw.services.log.history(arrived.id);
    expect(history.filter((e) => e.type === 'PlanDraftSaved')).toHaveLength(5);
  });

  it('concurrent retries with one idempotency key write once and all get the same answer', async () => {
    const flow = workflow(gw);
    const arrived = await flow.arrived();
    const before = await gw.services.log.lastSeq();
    const plan = { components: [trainingComponent(4242)] };
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        flow.officer.gql<{ saveDraftPlan: CaseView }>(SAVE, {
          id: arrived.id,
          v: arrived.version,
          p: plan,
          k: 'draft-once-0001',
        }),
      ),
    );
    for (const r of results) expect(r.errors).toBeUndefined();
    expect(new Set(results.map((r) => JSON.stringify(r.data))).size).toBe(1);
    expect(await gw.services.log.lastSeq()).toBe(before + 1);
    // A retry much later (the version moved on meanwhile) still gets the first answer, not a conflict.
    await flow.submit(results[0]!.data!.saveDraftPlan);
    const late = await flow.officer.gql<{ saveDraftPlan: CaseView }>(SAVE, {
      id: arrived.id,
      v: arrived.version,
      p: plan,
      k: 'draft-once-0001',
    });
    expect(late.data).toEqual(results[0]!.data);
  });

  it('a write whose idempotency record was lost is still applied once: the log itself refuses the key twice', async () => {
    // What a crash between the commit and its answer can leave (or a purge of old records):
    // the event is in the log, the idempotency record is not.
    const officer = gw.as('NL', 'caseworker');
    const input = caseInput();
    const first = await officer.ok<{ createCase: CaseView }>(CREATE_CASE, { input, key: 'intake-lost-claim-01' });
    const db = await gw.raw();
    expect((await db.collection('idempotency').deleteOne({ _id: 'NL:intake-lost-claim-01' as never })).deletedCount).toBe(1);
    const retried = await officer.ok<{ createCase: CaseView }>(CREATE_CASE, { input, key: 'intake-lost-claim-01' });
    expect(retried.createCase.id).toBe(first.createCase.id);
    const created = (await gw.services.log.page(0, 100_000)).filter((e) => e.idempotencyKey === 'NL:intake-lost-claim-01');
    expect(created).toHaveLength(1);
    // The key reused for another request is refused, not answered with the first request's case.
    await db.collection('idempotency').deleteOne({ _id: 'NL:intake-lost-claim-01' as never });
    const before = await gw.services.log.lastSeq();
    const reused = await officer.gql(CREATE_CASE, {
      input: caseInput({ needsAssessment: 'Another person entirely.' }),
      key: 'intake-lost-claim-01',
    });
    expect(codes(reused)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(reused.errors)).toContain('different request');
    expect(await gw.services.log.lastSeq()).toBe(before);

    // An update whose record is gone (purged after its retention) and whose retry its decision
    // refuses (the case moved on, by this very write) is a new request: CONFLICT, written once.
    const flow = workflow(gw);
    const arrived = await flow.arrived();
    const vars = { id: arrived.id, v: arrived.version, p: { components: [trainingComponent(1234)] }, k: 'draft-lost-claim-01' };
    await flow.officer.ok<{ saveDraftPlan: CaseView }>(SAVE, vars);
    // (The partner's key: this deleted nothing, and so proved nothing, while it named NL's.)
    expect((await db.collection('idempotency').deleteOne({ _id: 'P-AF-HOPE:draft-lost-claim-01' as never })).deletedCount).toBe(
      1,
    );
    const again = await flow.officer.gql<{ saveDraftPlan: CaseView }>(SAVE, vars);
    expect(codes(again)).toEqual(['CONFLICT']);
    expect((await gw.services.log.history(arrived.id)).filter((e) => e.type === 'PlanDraftSaved')).toHaveLength(1);
  });

  it('an update whose attempt ended without learning its outcome gets its first answer when retried, not a conflict with its own write', async () => {
    // The write commits, then its projection fails and the log cannot be read to find it: the
    // client gets an error, and the record says the outcome is unknown (it is not freed).
    const flow = workflow(gw);
    const arrived = await flow.arrived();
    const vars = { id: arrived.id, v: arrived.version, p: { components: [trainingComponent(4321)] }, k: 'draft-unknown-01' };
    const unavailable = new Error('store unavailable (test)');
    const projection = vi.spyOn(gw.services.log, 'applyChanges').mockRejectedValue(unavailable);
    const search = vi.spyOn(gw.services.log, 'findByIdempotencyKey').mockRejectedValue(unavailable);
    let failed;
    try {
      failed = await flow.officer.gql<{ saveDraftPlan: CaseView }>(SAVE, vars);
    } finally {
      projection.mockRestore();
      search.mockRestore();
    }
    expect(failed.errors).toBeDefined();
    const db = await gw.raw();
    expect(await db.collection('idempotency').findOne({ _id: 'P-AF-HOPE:draft-unknown-01' as never })).toMatchObject({
      status: 'unknown',
    });
    // The retry's decision would refuse it (the case is at the next version): it is answered from the log.
    const again = await flow.officer.gql<{ saveDraftPlan: CaseView }>(SAVE, vars);
    expect(again.errors).toBeUndefined();
    expect(again.data?.saveDraftPlan.version).toBe(arrived.version + 1);
    expect(again.data?.saveDraftPlan.plan?.components[0]?.cost.amount).toBe(4321);
    expect((await gw.services.log.history(arrived.id)).filter((e) => e.type === 'PlanDraftSaved')).toHaveLength(1);
    expect(await db.collection('idempotency').findOne({ _id: 'P-AF-HOPE:draft-unknown-01' as never })).toMatchObject({
      status: 'done',
    });
  });

  it('two gateways appending events for one request key at once: the store takes one', async () => {
    const other = await startGateway({ dbName: gw.dbName, dataDir: gw.dataDir, seed: false });
    try {
      const draft = (aggregateId: string) => ({
        aggregateType: 'Probe',
        aggregateId,
        version: 1,
        type: 'ProbeRecorded',
        actor: { subject: 'test', organisation: 'NL', roles: [] },
        audience: ['NL'],
        data: {},
        changes: [],
        idempotencyKey: 'NL:probe-request-01',
      });
      const results = await Promise.allSettled([
        gw.services.log.append(draft('probe-a')),
        other.services.log.append(draft('probe-b')),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected');
      expect(refused?.reason).toBeInstanceOf(AlreadyCommitted);
      const winner = results.find((r) => r.status === 'fulfilled')!.value;
      expect((refused?.reason as AlreadyCommitted).event._id).toBe(winner._id);
      expect((await verifyChain(gw.services.log)).broken).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('an idempotency key is per organisation: two states may use the same key for different cases', async () => {
    const nl = await gw
      .as('NL', 'caseworker')
      .ok<{ createCase: CaseView }>(CREATE_CASE, { input: caseInput(), key: 'case-intake-2026-001' });
    const se = await gw
      .as('SE', 'caseworker')
      .ok<{ createCase: CaseView }>(CREATE_CASE, { input: caseInput({ partner: 'P-AF-HOPE' }), key: 'case-intake-2026-001' });
    expect(nl.createCase.id).not.toBe(se.createCase.id);
    expect(se.createCase.reference).toMatch(/^SE-/);
  });

  it("another organisation sending a state's key with the same request gets a fresh request's answer, never the stored one", async () => {
    const flow = workflow(gw, 'SE');
    const draft = await flow.create();
    const refer = `mutation ($id: ID!, $v: Int!, $k: String) { referCase(id: $id, expectedVersion: $v, idempotencyKey: $k) { id reference status } }`;
    const request = { id: draft.id, v: draft.version, k: 'se-referral-0001' };
    const stored = await flow.state.ok<{ referCase: { reference: string } }>(refer, request);
    const before = await gw.services.log.lastSeq();
    // Another state's caseworker, and the partner of the case: each answered as if the key were new to it.
    for (const [org, role, code] of [
      ['NL', 'caseworker', 'NOT_FOUND'],
      ['P-AF-HOPE', 'partner-officer', 'FORBIDDEN'],
    ] as const) {
      const r = await gw.as(org, role).gql(refer, request);
      expect(codes(r), org).toEqual([code]);
      expect(JSON.stringify(r), org).not.toContain(stored.referCase.reference);
    }
    // A key the state used is free for another organisation: it blocks nothing there, and tells nothing.
    const nl = await gw.as('NL', 'caseworker').ok<{ createCase: CaseView }>(CREATE_CASE, {
      input: caseInput(),
      key: 'se-referral-0001',
    });
    expect(nl.createCase.reference).toMatch(/^NL-/);
    expect(await gw.services.log.lastSeq()).toBe(before + 1);
    // The same key for another operation within the state is refused clearly, and writes nothing.
    const reused = await gw
      .as('SE', 'caseworker', 'a-colleague')
      .gql(CREATE_CASE, { input: caseInput(), key: 'se-referral-0001' });
    expect(codes(reused)).toEqual(['BAD_USER_INPUT']);
    expect(reused.errors?.[0]?.message).toMatch(/already used for a different request/);
    expect(await gw.services.log.lastSeq()).toBe(before + 1);
  });

  it('a refused write releases its key: the corrected request with the same key goes through', async () => {
    const flow = workflow(gw);
    const arrived = await flow.arrived();
    const tooMuch = { components: [trainingComponent(999_999)] };
    const drafted = await flow.officer.ok<{ saveDraftPlan: CaseView }>(SAVE, { id: arrived.id, v: arrived.version, p: tooMuch });
    const submit = `mutation ($id: ID!, $v: Int!, $k: String) { submitPlan(caseId: $id, expectedVersion: $v, idempotencyKey: $k) { status } }`;
    const refused = await flow.officer.gql(submit, { id: arrived.id, v: drafted.saveDraftPlan.version, k: 'submit-0001' });
    expect(codes(refused)).toEqual(['BUDGET_EXCEEDED']);
    const fixed = await flow.officer.ok<{ saveDraftPlan: CaseView }>(SAVE, {
      id: arrived.id,
      v: drafted.saveDraftPlan.version,
      p: { components: [trainingComponent(1000)] },
    });
    const again = await flow.officer.ok<{ submitPlan: { status: string } }>(submit, {
      id: arrived.id,
      v: fixed.saveDraftPlan.version,
      k: 'submit-0001',
    });
    expect(again.submitPlan.status).toBe('PLAN_SUBMITTED');
  });
});

describe('two gateway instances on one store', () => {
  it('conflicting writes through both: one wins, and the log stays gap-free and chained', async () => {
    const other = await startGateway({ dbName: gw.dbName, dataDir: gw.dataDir, seed: false });
    try {
      const flow = workflow(gw);
      const arrived = await flow.arrived();
      const viaOther = workflow(other);
      const attempts = Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? flow.officer : viaOther.officer).gql<{ saveDraftPlan: CaseView }>(SAVE, {
          id: arrived.id,
          v: arrived.version,
          p: { components: [trainingComponent(3000 + i)] },
        }),
      );
      // Meanwhile both instances write other cases too, so their sequence claims collide.
      const unrelated = Array.from({ length: 10 }, (_, i) => workflow(i % 2 ? gw : other).create());
      const results = await Promise.all(attempts);
      await Promise.all(unrelated);
      expect(results.filter((r) => !r.errors)).toHaveLength(1);
      expect(results.filter((r) => codes(r)[0] === 'CONFLICT')).toHaveLength(19);
      const events = await gw.services.log.page(0, 100_000);
      expect(events.map((e) => e._id)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
      expect((await verifyChain(other.services.log)).broken).toBeUndefined();
      // Each instance sees the other's writes.
      const { case: seen } = await workflow(other).state.ok<{ case: CaseView }>(
        `query ($id: ID!) { case(id: $id) { ${CASE_FIELDS} } }`,
        { id: arrived.id },
      );
      expect(seen.version).toBe(arrived.version + 1);
    } finally {
      await other.close();
    }
  });

  it('concurrent creations claim distinct references (one insert each on one gateway, unique across two) and make their keys without reading', async () => {
    const other = await startGateway({ dbName: gw.dbName, dataDir: gw.dataDir, seed: false });
    try {
      const here = workflow(gw, 'BE', 'P-AF-HOPE');
      const there = workflow(other, 'BE', 'P-AF-HOPE');
      // This gateway knows the newest BE reference of the year (the other's came first).
      await there.create();
      await here.create();
      // On one gateway, six at once take six numbers: no insert collides with a sibling's.
      let inserts = 0;
      let keyReads = 0;
      const count = (event: { commandName: string; command: Record<string, unknown> }) => {
        if (event.commandName === 'insert' && event.command.insert === 'case_references') inserts += 1;
        // A new case's key is made with one insert, not looked for first.
        if (event.commandName === 'find' && event.command.find === 'case_keys') keyReads += 1;
      };
      const client = gw.store.connection.getClient();
      client.on('commandStarted', count);
      const mine = await Promise.all(Array.from({ length: 6 }, () => here.create()));
      client.off('commandStarted', count);
      expect(inserts).toBe(6);
      expect(keyReads).toBe(0);
      // Both gateways at once: they collide with each other (and retry), never on a reference.
      const both = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? here : there).create()));
      const references = [...mine, ...both].map((c) => c.reference);
      expect(new Set(references).size).toBe(18);
      for (const reference of references) expect(reference).toMatch(/^BE-\d{4}-\d{6}$/);
    } finally {
      await other.close();
    }
  });
});
