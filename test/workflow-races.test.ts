// Conflicting workflow writes on one case, a case team, an extract and the directory, made at once through
// two gateways on one store (two busy offices, or an adversary): each invariant holds whatever
// the interleaving — one decision per version, nothing written on a case after its closure or
// erasure, no administrator's change silently overwritten.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyChain } from '../src/events/log.ts';
import { SYSTEM_PRINCIPAL } from '../src/auth/principal.ts';
import { clockAt, codes, startGateway, type GqlResponse, type TestGateway } from './helpers/gateway.ts';
import { trainingComponent, workflow, type CaseView } from './helpers/factories.ts';
import { uploadFile } from './helpers/implementation.ts';
import { approvedExtract, builtExtract, downloadExtract } from './helpers/extracts.ts';
import { samplePdf } from '../src/seed/sample-files.ts';

let gw: TestGateway;
let other: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
  other = await startGateway({ dbName: gw.dbName, dataDir: gw.dataDir, seed: false });
});
afterAll(async () => {
  await other?.close({ keepData: true });
  await gw?.close();
});

const DECIDE = `mutation ($id: ID!, $v: Int!, $d: PlanDecision!, $c: String) {
  decidePlan(caseId: $id, decision: $d, comment: $c, expectedVersion: $v) { id version status } }`;
const WITHDRAW = `mutation ($id: ID!, $v: Int!) { withdrawConsent(id: $id, expectedVersion: $v) { id version } }`;
const CLOSE = `mutation ($id: ID!, $v: Int!) { closeCase(id: $id, reason: OPTED_OUT, expectedVersion: $v) { id version status } }`;
const UPDATE = `mutation ($id: ID!, $v: Int!, $n: String) { updateCase(id: $id, input: { needsAssessment: $n }, expectedVersion: $v) { id version } }`;
const ERASE = `mutation ($id: ID!) { eraseCase(caseId: $id, reason: SUBJECT_REQUEST) { id version erasedAt } }`;
const CASE = `query ($id: ID!) { case(id: $id) { id version status erasedAt needsAssessment plan { planVersion status } planInForce { planVersion } } }`;

type Flow = ReturnType<typeof workflow>;
/** The same offices on the second gateway. */
const there = () => workflow(other);

const history = async (id: string) => (await gw.services.log.history(id)).map((e) => e.type);

describe('plan decisions racing each other and the consent', () => {
  it('coordinators on two gateways deciding one submitted plan at once: one decision, every other a CONFLICT, and the plan and the case agree', async () => {
    // A loser reads the case at its version, then the plan the winner has just written (a
    // write's records are stored before its case): its rule refused that mix ("no plan awaits
    // a decision", from PLAN_SUBMITTED) instead of answering the lost race as CONFLICT.
    for (let round = 0; round < 3; round += 1) {
      const flow = workflow(gw);
      const submitted = await flow.submit(await flow.draft(await flow.arrived(), { components: [trainingComponent(70000)] }));
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? there().state : flow.state).gql(DECIDE, {
            id: submitted.id,
            v: submitted.version,
            d: i % 4 < 2 ? 'APPROVE' : 'REQUEST_CHANGES',
            c: i % 4 < 2 ? null : `changes ${i}`,
          }),
        ),
      );
      expect(results.filter((r) => !r.errors)).toHaveLength(1);
      const losers = results.filter((r) => r.errors);
      expect(losers.map((r) => [codes(r)[0], r.errors![0]!.extensions.currentVersion])).toEqual(
        losers.map(() => ['CONFLICT', submitted.version + 1]),
      );
      const { case: c } = await flow.state.ok<{
        case: { version: number; status: string; plan: { status: string }; planInForce: { planVersion: number } | null };
      }>(CASE, { id: submitted.id });
      expect(c.version).toBe(submitted.version + 1);
      expect([c.status, c.plan.status]).toEqual(
        c.status === 'PLAN_APPROVED' ? ['PLAN_APPROVED', 'APPROVED'] : ['CHANGES_REQUESTED', 'CHANGES_REQUESTED'],
      );
      const decisions = (await history(submitted.id)).filter((t) => t === 'PlanApproved' || t === 'PlanChangesRequested');
      expect(decisions).toHaveLength(1);
      // A loser that reloads is refused by the rule, on the case as it now stands.
      const again = await there().state.gql(DECIDE, { id: submitted.id, v: c.version, d: 'APPROVE', c: null });
      expect(codes(again)).toEqual(['INVALID_TRANSITION']);
    }
  });

  it('a consent withdrawn while the plan is approved on another gateway: one of them, never both on one version', async () => {
    const flow = workflow(gw);
    const submitted = await flow.submit(await flow.draft(await flow.arrived(), { components: [trainingComponent(70000)] }));
    const [approval, withdrawal] = await Promise.all([
      flow.state.gql(DECIDE, { id: submitted.id, v: submitted.version, d: 'APPROVE', c: null }),
      there().state.gql(WITHDRAW, { id: submitted.id, v: submitted.version }),
    ]);
    expect([approval, withdrawal].filter((r) => !r.errors)).toHaveLength(1);
    expect([approval, withdrawal].filter((r) => codes(r)[0] === 'CONFLICT')).toHaveLength(1);
    const types = await history(submitted.id);
    expect(types.filter((t) => t === 'PlanApproved' || t === 'ConsentWithdrawn')).toHaveLength(1);
  });
});

describe('the entitlement ceiling, while another office corrects the household', () => {
  const HOUSEHOLD = `mutation ($id: ID!, $v: Int!, $h: [HouseholdMemberInput!]) {
    updateCase(id: $id, input: { household: $h }, expectedVersion: $v) { id version entitlement { total { amount } } } }`;

  it('a plan within the entitlement when submitted is not approved once the entitlement fell below it', async () => {
    const flow = workflow(gw);
    const family = [
      { yearOfBirth: 1990, gender: 'MALE', relation: 'PRINCIPAL' },
      { yearOfBirth: 2018, gender: 'FEMALE', relation: 'CHILD' },
    ];
    const arrived = await flow.arrived({ household: family });
    const { case: before } = await flow.state.ok<{ case: { entitlement: { total: { amount: number } } } }>(
      'query ($id: ID!) { case(id: $id) { entitlement { total { amount } } } }',
      { id: arrived.id },
    );
    const total = before.entitlement.total.amount;
    // The partner submits a plan just within it; the member state's other office corrects the
    // household at the same moment (the child was registered by mistake), on the other gateway.
    const submitted = await flow.submit(await flow.draft(arrived, { components: [trainingComponent(total - 100)] }));
    const corrected = await there().state.ok<{ updateCase: { version: number; entitlement: { total: { amount: number } } } }>(
      HOUSEHOLD,
      { id: arrived.id, v: submitted.version, h: family.slice(0, 1) },
    );
    expect(corrected.updateCase.entitlement.total.amount).toBeLessThan(total - 100);
    // The coordinator approves the plan awaiting a decision: it costs more than the case may
    // now receive. Without the check at approval, it was put in force over the entitlement.
    const approval = await flow.state.gql(DECIDE, { id: arrived.id, v: corrected.updateCase.version, d: 'APPROVE', c: null });
    expect(codes(approval)).toEqual(['BUDGET_EXCEEDED']);
    const { case: now } = await flow.state.ok<{ case: { status: string; planInForce: unknown } }>(CASE, { id: arrived.id });
    expect(now).toMatchObject({ status: 'PLAN_SUBMITTED', planInForce: null });
    // Asking for changes is still possible, and a plan within the new entitlement is approved.
    const changes = await flow.state.ok<{ decidePlan: { version: number } }>(DECIDE, {
      id: arrived.id,
      v: corrected.updateCase.version,
      d: 'REQUEST_CHANGES',
      c: 'The household changed: the plan must fit the new entitlement.',
    });
    const redrafted = await flow.draft(
      { ...submitted, version: changes.decidePlan.version },
      { components: [trainingComponent(corrected.updateCase.entitlement.total.amount)] },
    );
    const approved = await flow.approve(await flow.submit(redrafted));
    expect(approved.status).toBe('PLAN_APPROVED');
  });
});

describe('closing a case racing the work on it', () => {
  it('progress posted on one gateway while the case is closed on the other: nothing is posted after the closure', async () => {
    const flow = workflow(gw);
    const approved = await flow.approved({ components: [trainingComponent(70000)] });
    const POST = `mutation ($id: ID!, $v: Int!, $input: ProgressUpdateInput!) { postProgressUpdate(caseId: $id, input: $input, expectedVersion: $v) { case { version } } }`;
    const retrying = async (client: Flow['officer'], query: string, vars: Record<string, unknown>) => {
      let v = approved.version;
      for (;;) {
        const r: GqlResponse = await client.gql(query, { ...vars, id: approved.id, v });
        if (codes(r)[0] !== 'CONFLICT') return r;
        v = r.errors![0]!.extensions.currentVersion as number;
      }
    };
    const results = await Promise.all([
      ...Array.from({ length: 5 }, (_, i) =>
        retrying(i % 2 ? there().officer : flow.officer, POST, {
          input: { kind: 'OTHER', narrative: `visit ${i}`, language: 'en', occurredOn: '2026-11-27' },
        }),
      ),
      retrying(there().state, CLOSE, {}),
    ]);
    const closed = results.at(-1)!;
    expect(closed.errors).toBeUndefined();
    const types = await history(approved.id);
    const closedAt = types.indexOf('CaseClosed');
    expect(closedAt).toBeGreaterThan(0);
    // Every post after the closure was refused; none reached the log after it.
    expect(types.slice(closedAt + 1)).toEqual([]);
    const posted = results.slice(0, 5).filter((r) => !r.errors).length;
    expect(types.filter((t) => t === 'ProgressPosted')).toHaveLength(posted);
    for (const r of results.slice(0, 5).filter((x) => x.errors)) expect(codes(r)).toEqual(['INVALID_TRANSITION']);
  });
});

describe('an erasure racing writes on the same case', () => {
  /** The case's key in the other gateway's memory: it has just written on the case. */
  async function warmCase() {
    const flow = workflow(gw);
    const created = await flow.create({ needsAssessment: 'before the erasure' });
    const warm = await there().state.ok<{ updateCase: CaseView }>(UPDATE, { id: created.id, v: created.version, n: 'warm' });
    return { flow, id: created.id, version: warm.updateCase.version };
  }

  it('an office writing on the case without pause through another gateway does not outrun its erasure', async () => {
    const { flow, id, version } = await warmCase();
    // The other office writes as fast as it can, taking each conflict's version, until refused.
    let stop = false;
    const writer = (async () => {
      let v = version;
      for (let i = 0; !stop && i < 1000; i += 1) {
        const r = await there().state.gql<{ updateCase: CaseView }>(UPDATE, { id, v, n: `note ${i}` });
        if (!r.errors) v = r.data!.updateCase.version;
        else if (codes(r)[0] === 'CONFLICT') v = r.errors[0]!.extensions.currentVersion as number;
        else return r.errors[0]!.extensions;
      }
      return null;
    })();
    await new Promise((resolve) => setTimeout(resolve, 150));
    const erased = await flow.state.gql<{ eraseCase: { erasedAt: string | null } }>(ERASE, { id });
    stop = true;
    const refusal = await writer;
    // Without the key's destruction refusing writes, the erasure lost five races in a row and
    // answered CONFLICT, the case not erased, while the other gateway went on taking writes.
    expect(codes(erased)).toEqual([]);
    expect(erased.data?.eraseCase.erasedAt).not.toBeNull();
    expect(refusal).toMatchObject({ code: 'INVALID_TRANSITION', reason: 'ERASED' });
    expect((await history(id)).at(-1)).toBe('CaseErased');
    expect((await verifyChain(gw.services.log)).broken).toBeUndefined();
  });

  it('once the key is destroyed, a write through a gateway that still holds it is refused, not acknowledged and lost', async () => {
    const { id, version } = await warmCase();
    // The erasure's first step, as a gateway that stopped before recording the erasure leaves it.
    await gw.services.caseKeys.destroy(id);
    const before = await history(id);
    const late = await there().state.gql(UPDATE, { id, v: version, n: 'sealed under a key that is gone' });
    // Without the check, the other gateway sealed this with the key it remembered and
    // acknowledged it: content nobody can ever read again, the case not erased.
    expect(late.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_TRANSITION', reason: 'ERASED' });
    expect(await history(id)).toEqual(before);
    // The erasure, asked again, completes.
    const erased = await gw.as('NL', 'coordinator').ok<{ eraseCase: { erasedAt: string | null } }>(ERASE, { id });
    expect(erased.eraseCase.erasedAt).not.toBeNull();
  });

  it('once the key is destroyed, a file uploaded through a gateway that still holds it is refused, not kept unreadable', async () => {
    const flow = workflow(gw);
    const arrived = await flow.arrived();
    // The partner's upload through the other gateway leaves the case's key in its memory.
    const first = await uploadFile(other, there().officer.token, { caseId: arrived.id, kind: 'RECEIPT' }, samplePdf('before'));
    expect(first.status).toBe(201);
    await gw.services.caseKeys.destroy(arrived.id);
    const late = await uploadFile(other, there().officer.token, { caseId: arrived.id, kind: 'RECEIPT' }, samplePdf('after'));
    // Without the check, the file was accepted (201), sealed under the key the gateway remembered.
    expect(late.body.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_TRANSITION', reason: 'ERASED' });
    const uploads = (await gw.services.log.page(0, 100_000)).filter(
      (e) => e.type === 'EvidenceUploaded' && e.caseId === arrived.id,
    );
    expect(uploads).toHaveLength(1);
  });
});

describe('a unit taken off a case while it writes on it through another gateway', () => {
  const INVITE = `mutation ($id: ID!, $unit: ID!, $v: Int!) { inviteToCaseTeam(caseId: $id, unit: $unit, expectedVersion: $v) { version } }`;
  const REMOVE = `mutation ($id: ID!, $unit: ID!, $v: Int!) { removeFromCaseTeam(caseId: $id, unit: $unit, expectedVersion: $v) { version } }`;
  const FORM = `mutation ($id: ID!, $v: Int!) { formCaseTeam(caseId: $id, lead: null, expectedVersion: $v) { version } }`;
  const COUNSEL = `mutation ($id: ID!, $v: Int!, $on: Date!) { recordReturnStep(caseId: $id, step: { kind: COUNSELLING, on: $on, decidedToReturn: true },
    expectedVersion: $v) { version } }`;

  it('writes nothing on the case after its removal, whoever wins each race', async () => {
    const flow = workflow(gw);
    const created = await flow.create();
    const formed = await flow.state.ok<{ formCaseTeam: { version: number } }>(FORM, { id: created.id, v: created.version });
    const invited = await flow.state.ok<{ inviteToCaseTeam: { version: number } }>(INVITE, {
      id: created.id,
      unit: 'NL-NGO-HAVEN',
      v: formed.formCaseTeam.version,
    });
    const ngo = other.as('NL-NGO-HAVEN', 'ngo-worker');
    // The NGO records counselling sessions as fast as it can, taking each conflict's version,
    // until it is refused or the removal is through (a writer without pause can win many
    // rounds in a row: how long the removal takes is not what this test is about).
    let removalDone = false;
    const writer = (async () => {
      let v = invited.inviteToCaseTeam.version;
      for (let i = 0; i < 200 && !removalDone; i += 1) {
        const r = await ngo.gql<{ recordReturnStep: { version: number } }>(COUNSEL, { id: created.id, v, on: '2026-11-02' });
        if (!r.errors) v = r.data!.recordReturnStep.version;
        else if (codes(r)[0] === 'CONFLICT') v = r.errors[0]!.extensions.currentVersion as number;
        else return { v, refused: codes(r) };
      }
      return { v, refused: [] as string[] };
    })();
    await new Promise((resolve) => setTimeout(resolve, 100));
    let removed: GqlResponse<{ removeFromCaseTeam: { version: number } }>;
    let v = (await flow.state.ok<{ case: { version: number } }>(CASE, { id: created.id })).case.version;
    for (;;) {
      removed = await flow.state.gql(REMOVE, { id: created.id, unit: 'NL-NGO-HAVEN', v });
      if (codes(removed)[0] !== 'CONFLICT') break;
      v = removed.errors![0]!.extensions.currentVersion as number;
    }
    removalDone = true;
    expect(removed.errors).toBeUndefined();
    const { refused } = await writer;
    expect(refused.every((code) => code === 'NOT_FOUND')).toBe(true);
    // Taken off, the NGO's next write finds no case, at whatever version it names.
    const late = await ngo.gql(COUNSEL, { id: created.id, v: removed.data!.removeFromCaseTeam.version, on: '2026-11-02' });
    expect(codes(late)).toEqual(['NOT_FOUND']);
    const events = await gw.services.log.history(created.id);
    const removal = events.findIndex((e) => e.type === 'CaseTeamMemberRemoved');
    expect(removal).toBeGreaterThan(0);
    expect(events.slice(removal + 1).filter((e) => e.actor.organisation === 'NL-NGO-HAVEN')).toEqual([]);
    expect(events.at(-1)?.type).toBe('CaseTeamMemberRemoved');
  });
});

describe('two administrators ending one contract at once', () => {
  it('on two gateways: one end, the other CONFLICT, and the contract ends on the winner’s day', async () => {
    const CREATE = `mutation ($input: CreateContractInput!) { createContract(input: $input) { id version } }`;
    const END = `mutation ($id: ID!, $end: Date!, $reason: String!, $v: Int!) {
      endContract(id: $id, endDate: $end, reason: $reason, expectedVersion: $v) { id validTo version } }`;
    const { createContract } = await gw
      .as('ERIN-NET', 'network-admin')
      .ok<{ createContract: { id: string; version: number } }>(CREATE, {
        input: {
          memberState: 'BE',
          partner: 'P-AF-HOPE',
          originCountries: ['AF'],
          programmes: ['EURP-VOL'],
          validFrom: '2026-01-01',
        },
      });
    const ends = await Promise.all(
      ['2027-03-31', '2027-06-30', '2027-09-30', '2027-12-31'].map((end, i) =>
        (i % 2 ? other : gw).as('ERIN-NET', 'network-admin', `admin-${i}`).gql<{ endContract: { validTo: string } }>(END, {
          id: createContract.id,
          end,
          reason: `review ${i}`,
          v: createContract.version,
        }),
      ),
    );
    const won = ends.filter((r) => !r.errors);
    expect(won).toHaveLength(1);
    expect(ends.filter((r) => codes(r)[0] === 'CONFLICT')).toHaveLength(3);
    const { contracts } = await other
      .as('ERIN-NET', 'network-admin')
      .ok<{ contracts: { id: string; validTo: string; version: number }[] }>(
        '{ contracts(memberState: "BE", partner: "P-AF-HOPE") { id validTo version } }',
      );
    const contract = contracts.find((c) => c.id === createContract.id);
    expect(contract).toEqual({
      id: createContract.id,
      validTo: won[0]!.data!.endContract.validTo,
      version: createContract.version + 1,
    });
  });
});

describe('background jobs meeting an erased case', () => {
  it('a referral erased while it waited for its answer does not stop the other referrals from expiring', async () => {
    const clock = clockAt('2026-11-02T09:00:00Z');
    const timed = await startGateway({ clock });
    try {
      const flow = workflow(timed);
      const erased = await flow.refer(await flow.create());
      await flow.state.ok(ERASE, { id: erased.id });
      // Another one, its key destroyed by an erasure that stopped before recording itself.
      const halfErased = await flow.refer(await flow.create());
      await timed.services.caseKeys.destroy(halfErased.id);
      const waiting = await flow.refer(await flow.create());
      clock.advance(8 * 86_400_000);
      // Without the fix the job's run failed on the erased case (its write refused with
      // INVALID_TRANSITION, ERASED), every run, so the other referral never expired.
      expect(await timed.services.cases.expireReferrals(SYSTEM_PRINCIPAL)).toBe(1);
      const { case: expired } = await workflow(timed).state.ok<{ case: { status: string } }>(CASE, { id: waiting.id });
      expect(expired.status).toBe('EXPIRED');
      expect(await timed.services.cases.expireReferrals(SYSTEM_PRINCIPAL)).toBe(0);
    } finally {
      await timed.close();
    }
  });
});

describe('a consent withdrawn while an extract is being built', () => {
  it('the file built from the quarter that held the case is never handed over', async () => {
    const clock = clockAt('2026-08-20T09:00:00Z');
    const timed = await startGateway({ clock });
    try {
      const flow = workflow(timed);
      const summer: CaseView[] = [];
      for (let i = 0; i < 4; i += 1) summer.push(await flow.refer(await flow.create({ arrivedOn: '2026-08-10' })));
      clock.set(new Date('2026-10-05T09:00:00Z'));
      const period = { periodFrom: '2026-07', periodTo: '2026-09' };
      const approved = await approvedExtract<{ id: string; version: number }>(
        timed,
        'race',
        ['MEMBER_STATE', 'AGE_GROUP'],
        'id version',
        period,
      );
      // The build has read the quarter's cases and seals their snapshot: that is when the
      // member state records the withdrawal of one returnee's consent.
      const keys = timed.services.caseKeys;
      const forWriting = keys.forWriting.bind(keys);
      let withdrawn = false;
      const spy = vi.spyOn(keys, 'forWriting').mockImplementation(async (id, options) => {
        if (!withdrawn) {
          withdrawn = true;
          await workflow(timed).state.ok(WITHDRAW, { id: summer[0]!.id, v: summer[0]!.version });
        }
        return forWriting(id, options);
      });
      let built;
      try {
        built = await timed
          .as('R-EVAL', 'researcher')
          .ok<{ buildExtract: { id: string; file: { rows: number; downloadUrl: string } | null } }>(
            'mutation ($id: ID!, $v: Int!) { buildExtract(id: $id, expectedVersion: $v) { id file { rows downloadUrl } } }',
            { id: approved.id, v: approved.version },
          );
      } finally {
        spy.mockRestore();
      }
      expect(withdrawn).toBe(true);
      // The build raced the withdrawal and froze the case in; its file is not handed over.
      const download = await downloadExtract(timed, built.buildExtract.file!.downloadUrl);
      expect(download.status).toBe(410);
      expect(download.text).not.toContain('pseudonym');
    } finally {
      await timed.close();
    }
  });
});

describe('one extract downloaded by several workers at once', () => {
  it('through two gateways: every download is served and recorded once', async () => {
    const clock = clockAt('2026-08-20T09:00:00Z');
    const timed = await startGateway({ clock });
    const twin = await startGateway({ clock, dbName: timed.dbName, dataDir: timed.dataDir, seed: false });
    try {
      const flow = workflow(timed);
      for (let i = 0; i < 4; i += 1) await flow.refer(await flow.create({ arrivedOn: '2026-08-10' }));
      clock.set(new Date('2026-10-05T09:00:00Z'));
      const built = await builtExtract<{ id: string; version: number; file: { downloadUrl: string } }>(
        timed,
        'parallel download',
        ['MEMBER_STATE'],
        'id version file { downloadUrl }',
        { periodFrom: '2026-07', periodTo: '2026-09' },
      );
      const token = timed.as('R-EVAL', 'researcher').token;
      const statuses = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          fetch(`${(i % 2 ? twin : timed).url}${built.file.downloadUrl}`, { headers: { authorization: `Bearer ${token}` } }).then(
            (r) => r.status,
          ),
        ),
      );
      // Each download records an event on the extract, one per version: with five attempts,
      // about half of them were refused with 409 CONFLICT (a read refused for a race it lost).
      expect(statuses).toEqual(statuses.map(() => 200));
      const { extractRequest } = await timed
        .as('R-EVAL', 'researcher')
        .ok<{ extractRequest: { version: number } }>('query ($id: ID!) { extractRequest(id: $id) { version } }', {
          id: built.id,
        });
      expect(extractRequest.version).toBe(built.version + 16);
      expect((await timed.services.log.history(built.id)).filter((e) => e.type === 'ExtractDownloaded')).toHaveLength(16);
    } finally {
      await twin.close({ keepData: true });
      await timed.close();
    }
  });
});

describe('two data-protection officers approving one extract at once', () => {
  it('one decision of the state’s part, the other answered CONFLICT then INVALID_TRANSITION', async () => {
    const { requestExtract } = await gw
      .as('R-EVAL', 'researcher')
      .ok<{ requestExtract: { id: string; version: number } }>(
        `mutation ($input: ExtractRequestInput!) { requestExtract(input: $input) { id version } }`,
        {
          input: {
            purpose: 'race',
            variables: ['ORIGIN_COUNTRY'],
            periodFrom: '2026-01',
            periodTo: '2026-12',
            memberStates: ['NL'],
          },
        },
      );
    const DECIDE_X = `mutation ($id: ID!, $v: Int!) { decideExtract(id: $id, decision: APPROVE, expectedVersion: $v) { id version status } }`;
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 ? other : gw)
          .as('NL', 'data-protection-officer', `dpo-${i}`)
          .gql(DECIDE_X, { id: requestExtract.id, v: requestExtract.version }),
      ),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.filter((r) => codes(r)[0] === 'CONFLICT')).toHaveLength(5);
    const retried = await other
      .as('NL', 'data-protection-officer')
      .gql(DECIDE_X, { id: requestExtract.id, v: requestExtract.version + 1 });
    expect(codes(retried)).toEqual(['INVALID_TRANSITION']);
    expect((await gw.services.log.history(requestExtract.id)).filter((e) => e.type === 'ExtractPartDecided')).toHaveLength(1);
  });
});

describe('two administrators editing the directory at once', () => {
  it('an organisation renamed by one and given other countries by the other, on two gateways: one change, the other CONFLICT, nothing overwritten', async () => {
    const UPD = `mutation ($input: UpdateOrganisationInput!, $v: Int!) { updateOrganisation(code: "P-MA-ATLAS", input: $input, expectedVersion: $v) { name active version } }`;
    const { organisation } = await gw
      .as('ERIN-NET', 'network-admin')
      .ok<{ organisation: { version: number; name: string } }>('{ organisation(code: "P-MA-ATLAS") { version name } }');
    const [renamed, deactivated] = await Promise.all([
      gw.as('ERIN-NET', 'network-admin', 'admin-a').gql(UPD, { input: { name: 'Atlas (renamed)' }, v: organisation.version }),
      other.as('ERIN-NET', 'network-admin', 'admin-b').gql(UPD, { input: { countries: ['MA', 'TN'] }, v: organisation.version }),
    ]);
    expect([renamed, deactivated].filter((r) => !r.errors)).toHaveLength(1);
    expect([renamed, deactivated].filter((r) => codes(r)[0] === 'CONFLICT')).toHaveLength(1);
    const { organisation: now } = await other
      .as('ERIN-NET', 'network-admin')
      .ok<{ organisation: { version: number; name: string; countries: string[] } }>(
        '{ organisation(code: "P-MA-ATLAS") { version name countries } }',
      );
    expect(now.version).toBe(organisation.version + 1);
    // The loser's change is not there, the winner's is.
    if (!renamed.errors) expect(now.name).toBe('Atlas (renamed)');
    else expect(now.countries).toEqual(['MA', 'TN']);
  });
});
