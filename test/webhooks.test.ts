// Webhooks as a member state's receiver sees them: signed POSTs over real HTTP, retried
// with backoff, parked and redelivered, and nothing lost or duplicated (beyond the
// at-least-once a receiver dedupes by delivery id) when the gateway restarts mid-retry.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyErinSignature } from '../examples/verify-webhook.ts';
import { backgroundJobs } from '../src/services.ts';
import { codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow } from './helpers/factories.ts';

const FAST = {
  ERIN_WEBHOOK_INTERVAL: '50ms',
  ERIN_WEBHOOK_RETRY_BASE: '50ms',
  ERIN_WEBHOOK_RETRY_MAX: '200ms',
  ERIN_WEBHOOK_MAX_ATTEMPTS: '5',
  ERIN_WEBHOOK_TIMEOUT: '2s',
  // Blocks of a few events: dispatch reads most of the log from sealed segments.
  ERIN_FEED_BLOCK_SIZE: '20',
};

async function gateway(options: Parameters<typeof startGateway>[0] = {}): Promise<TestGateway> {
  const gw = await startGateway({ ...options, env: { ...FAST, ...options.env } });
  gw.services.jobs.start(backgroundJobs(gw.services));
  return gw;
}

type Delivery = {
  deliveryId: string;
  endpointId: string;
  attempt: number;
  change: { cursor: string; kind: string; aggregateId: string; version: number; type: string; removed: boolean };
};
type Request = { headers: IncomingHttpHeaders; body: string; status: number; delivery: Delivery };

/** A receiver on loopback that answers what `answer` says (a status code) and records every request. */
async function receiver(answer: (request: Omit<Request, 'status'>, index: number) => number | Promise<number>) {
  const requests: Request[] = [];
  let waiters: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const incoming = { headers: req.headers, body, delivery: JSON.parse(body) as Delivery };
      void Promise.resolve(answer(incoming, requests.length)).then((status) => {
        requests.push({ ...incoming, status });
        res.writeHead(status).end();
        const current = waiters;
        waiters = [];
        for (const w of current) w();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/erin`,
    requests,
    /** Accepted (2xx) deliveries, deduplicated by delivery id, as a receiver should keep them. */
    accepted(): Delivery[] {
      const seen = new Map<string, Delivery>();
      for (const r of requests) if (r.status < 300) seen.set(r.delivery.deliveryId, r.delivery);
      return [...seen.values()];
    },
    async until(predicate: () => boolean): Promise<void> {
      while (!predicate()) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const REGISTER = `mutation ($url: String!, $events: [String!]!) { registerWebhook(url: $url, events: $events) {
  secret endpoint { id url events status version } } }`;

type Registered = { registerWebhook: { secret: string; endpoint: { id: string; version: number } } };

let gw: TestGateway;
beforeAll(async () => {
  gw = await gateway();
});
afterAll(async () => {
  await gw?.close();
});

describe('webhook registration', () => {
  it('refuses schemes other than http(s), credentials in the URL, plain http off loopback, and private or link-local targets', async () => {
    const nl = gw.as('NL', 'coordinator');
    for (const url of [
      'ftp://127.0.0.1/x',
      'file:///etc/passwd',
      'https://user:secret@example.org/hook',
      'http://example.org/hook',
      'https://10.1.2.3/hook',
      'https://192.168.0.10/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://[fe80::1]/hook',
      'https://[::ffff:10.0.0.1]/hook',
      'not a url',
    ]) {
      const r = await nl.gql(REGISTER, { url, events: ['*'] });
      expect(codes(r), url).toEqual(['BAD_USER_INPUT']);
    }
    const ok = await nl.gql<Registered>(REGISTER, { url: 'https://erin-receiver.example.org/hook', events: ['CaseReferred'] });
    expect(ok.errors).toBeUndefined();
    expect(ok.data?.registerWebhook.secret).toMatch(/^whsec_/);
  });

  it('a partner or member state without the role cannot manage webhooks, and the Return Experts Group has none', async () => {
    const r = await gw.as('EMN-REG', 'reg-analyst').gql(REGISTER, { url: 'https://reg.example.org/hook', events: ['*'] });
    expect(codes(r)).toEqual(['FORBIDDEN']);
  });
});

describe('webhook delivery', () => {
  it('POSTs each change with a delivery id and a signature the receiver verifies, and no case content', async () => {
    const hook = await receiver(() => 204);
    const flow = workflow(gw, 'DE', 'P-IQ-TIGRIS');
    const { registerWebhook } = await flow.state.ok<Registered>(REGISTER, { url: hook.url, events: ['*'] });
    const c = await flow.refer(await flow.create({ originCountry: 'IQ', needsAssessment: 'a German secret' }));
    await hook.until(() => hook.accepted().filter((d) => d.change.aggregateId === c.id).length === 2);
    for (const r of hook.requests) {
      expect(
        verifyErinSignature({
          secrets: [registerWebhook.secret],
          header: r.headers['x-erin-signature'] as string,
          rawBody: r.body,
        }),
      ).toBe(true);
      expect(r.headers['x-erin-delivery']).toBe(r.delivery.deliveryId);
      // Another secret, an altered body, or the same request replayed later does not verify.
      expect(
        verifyErinSignature({ secrets: ['whsec_wrong'], header: r.headers['x-erin-signature'] as string, rawBody: r.body }),
      ).toBe(false);
      expect(
        verifyErinSignature({
          secrets: [registerWebhook.secret],
          header: r.headers['x-erin-signature'] as string,
          rawBody: r.body.replace('"attempt":1', '"attempt":2'),
        }),
      ).toBe(false);
      expect(
        verifyErinSignature({
          secrets: [registerWebhook.secret],
          header: r.headers['x-erin-signature'] as string,
          rawBody: r.body,
          nowSeconds: Math.floor(Date.now() / 1000) + 301,
        }),
      ).toBe(false);
    }
    // Deliveries may arrive in any order; the version orders them.
    const forCase = hook.accepted().filter((d) => d.change.aggregateId === c.id);
    expect(forCase.sort((a, b) => a.change.version - b.change.version).map((d) => d.change.type)).toEqual([
      'CaseCreated',
      'CaseReferred',
    ]);
    expect(hook.requests.map((r) => r.body).join()).not.toContain('a German secret');
    await hook.close();
  });

  it('a receiver that fails three times and then recovers gets every event', async () => {
    const hook = await receiver((_, index) => (index < 3 ? 503 : 200));
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    await flow.state.ok<Registered>(REGISTER, { url: hook.url, events: ['*'] });
    const a = await flow.accept(await flow.refer(await flow.create()));
    const b = await flow.refer(await flow.create());
    const expected = [
      [a.id, 1],
      [a.id, 2],
      [a.id, 3],
      [b.id, 1],
      [b.id, 2],
    ].map(([id, v]) => `${id}@${v}`);
    const got = () => hook.accepted().map((d) => `${d.change.aggregateId}@${d.change.version}`);
    await hook.until(() => expected.every((e) => got().includes(e)));
    expect(
      got()
        .filter((e) => expected.includes(e))
        .sort(),
    ).toEqual([...expected].sort());
    expect(hook.requests.filter((r) => r.status >= 500)).toHaveLength(3);
    // The failed ones were retried under the same delivery id.
    for (const failed of hook.requests.filter((r) => r.status >= 500)) {
      expect(hook.accepted().map((d) => d.deliveryId)).toContain(failed.delivery.deliveryId);
    }
    await hook.close();
  });

  it('a delivery that keeps failing is parked, listed, and sent again by redeliver under the same id', async () => {
    let up = false;
    const hook = await receiver(() => (up ? 200 : 500));
    const flow = workflow(gw, 'BE', 'P-MA-ATLAS');
    await flow.state.ok<Registered>(REGISTER, { url: hook.url, events: ['CaseCreated'] });
    const c = await flow.create({ originCountry: 'MA' });
    type Page = {
      webhookDeliveries: {
        deliveries: { id: string; status: string; attempts: number; aggregateId: string; lastStatusCode: number | null }[];
      };
    };
    const parked = async () =>
      (
        await flow.state.ok<Page>(
          '{ webhookDeliveries(status: PARKED) { deliveries { id status attempts aggregateId lastStatusCode } } }',
        )
      ).webhookDeliveries.deliveries.filter((d) => d.aggregateId === c.id);
    await hook.until(() => hook.requests.filter((r) => r.delivery.change.aggregateId === c.id).length >= 5);
    let list = await parked();
    while (list.length === 0) list = await parked(); // the fifth failure is being recorded
    expect(list).toEqual([{ id: list[0]!.id, status: 'PARKED', attempts: 5, aggregateId: c.id, lastStatusCode: 500 }]);
    up = true;
    const again = await flow.state.ok<{ redeliver: { id: string; status: string } }>(
      'mutation ($id: ID!) { redeliver(id: $id) { id status } }',
      { id: list[0]!.id },
    );
    expect(again.redeliver).toEqual({ id: list[0]!.id, status: 'PENDING' });
    await hook.until(() => hook.accepted().some((d) => d.deliveryId === list[0]!.id));
    expect(await parked()).toEqual([]);
    const audit = (await gw.services.log.page(0, 100_000)).filter((e) => e.type === 'WebhookRedeliveryRequested');
    expect(audit.map((e) => e.actor.organisation)).toEqual(['BE']);
    // Someone else's delivery does not exist for you.
    expect(
      codes(await gw.as('NL', 'coordinator').gql('mutation ($id: ID!) { redeliver(id: $id) { id } }', { id: list[0]!.id })),
    ).toEqual(['NOT_FOUND']);
    await hook.close();
  });

  it('an organisation’s endpoint gets none of another organisation’s events', async () => {
    const hook = await receiver(() => 200);
    const fr = gw.as('FR', 'coordinator');
    await fr.ok(REGISTER, { url: hook.url, events: ['*'] });
    const se = workflow(gw, 'SE', 'P-ET-HORN');
    const c = await se.refer(await se.create({ originCountry: 'ET' }));
    // A change France sees, after Sweden's: once it is delivered, Sweden's would have been.
    const admin = gw.as('ERIN-NET', 'network-admin');
    const { organisation } = await admin.ok<{ organisation: { version: number } }>('{ organisation(code: "FR") { version } }');
    await admin.ok(
      'mutation ($v: Int!) { updateOrganisation(code: "FR", input: { name: "France" }, expectedVersion: $v) { code } }',
      {
        v: organisation.version,
      },
    );
    await hook.until(() => hook.accepted().some((d) => d.change.kind === 'ORGANISATION' && d.change.aggregateId === 'FR'));
    expect(hook.requests.map((r) => r.body).join()).not.toContain(c.id);
    await hook.close();
  });

  it('a unit’s endpoint is told of a case it is on as present (removed: false), and removed: true once taken off', async () => {
    const hook = await receiver(() => 200);
    const police = gw.as('NL-POLITIE', 'agency-officer');
    await police.ok(REGISTER, { url: hook.url, events: ['*'] });
    const nl = workflow(gw, 'NL', 'P-AF-HOPE');
    const c = await nl.create();
    const TEAM = `mutation ($id: ID!, $unit: ID!, $v: Int!) { inviteToCaseTeam(caseId: $id, unit: $unit, expectedVersion: $v) { version } }`;
    const formed = await nl.state.ok<{ formCaseTeam: { version: number } }>(
      'mutation ($id: ID!, $v: Int!) { formCaseTeam(caseId: $id, lead: null, expectedVersion: $v) { version } }',
      { id: c.id, v: c.version },
    );
    let v = (
      await nl.state.ok<{ inviteToCaseTeam: { version: number } }>(TEAM, {
        id: c.id,
        unit: 'NL-POLITIE',
        v: formed.formCaseTeam.version,
      })
    ).inviteToCaseTeam.version;
    v = (await nl.state.ok<{ inviteToCaseTeam: { version: number } }>(TEAM, { id: c.id, unit: 'NL-NGO-HAVEN', v }))
      .inviteToCaseTeam.version;
    const forCase = () => hook.accepted().filter((d) => d.change.aggregateId === c.id);
    // Delivered while the police is on the team: the case as it may see it.
    await hook.until(() => forCase().length === 2);
    expect(
      forCase()
        .map((d) => [d.change.type, d.change.version, d.change.removed])
        .sort(),
    ).toEqual([
      ['CaseTeamMemberInvited', v - 1, false],
      ['CaseTeamMemberInvited', v, false],
    ]);
    // As its own feed says.
    type Page = { changes: { changes: { aggregateId: string; removed: boolean }[]; endCursor: string; hasMore: boolean } };
    const FEED =
      'query ($after: Cursor) { changes(after: $after, first: 1000) { changes { aggregateId removed } endCursor hasMore } }';
    const mine: boolean[] = [];
    for (let after: string | null = null, more = true; more;) {
      const page: Page = await police.ok<Page>(FEED, { after });
      mine.push(...page.changes.changes.filter((ch) => ch.aggregateId === c.id).map((ch) => ch.removed));
      [after, more] = [page.changes.endCursor, page.changes.hasMore];
    }
    expect(mine).toEqual([false, false]);

    await nl.state.ok(
      'mutation ($id: ID!, $unit: ID!, $v: Int!) { removeFromCaseTeam(caseId: $id, unit: $unit, expectedVersion: $v) { version } }',
      { id: c.id, unit: 'NL-POLITIE', v },
    );
    await hook.until(() => forCase().length === 3);
    const removal = forCase().find((d) => d.change.version === v + 1)!;
    expect([removal.change.type, removal.change.removed]).toEqual(['CaseTeamMemberRemoved', true]);
    await hook.close();
  });

  it('which endpoint gets a withheld change does not tell its type: an endpoint for CaseChanged gets each one', async () => {
    const control = await receiver(() => 200);
    const both = await receiver(() => 200);
    const withheld = await receiver(() => 200);
    const nl = workflow(gw, 'NL', 'P-AF-HOPE');
    // The member state's endpoint, dispatched in the same round as the partner's.
    await nl.state.ok(REGISTER, { url: control.url, events: ['*'] });
    // With the type a change of the team really is: were it asked before the change is
    // withheld, this endpoint would get the invitation alone, and so tell it from the forming.
    const a = await nl.officer.ok<Registered>(REGISTER, { url: both.url, events: ['CaseChanged', 'CaseTeamMemberInvited'] });
    const b = await nl.officer.ok<Registered>(REGISTER, { url: withheld.url, events: ['CaseChanged'] });
    const c = await nl.accept(await nl.refer(await nl.create()));
    const formed = await nl.state.ok<{ formCaseTeam: { version: number } }>(
      'mutation ($id: ID!, $v: Int!) { formCaseTeam(caseId: $id, lead: null, expectedVersion: $v) { version } }',
      { id: c.id, v: c.version },
    );
    await nl.state.ok(
      'mutation ($id: ID!, $v: Int!) { inviteToCaseTeam(caseId: $id, unit: "NL-POLITIE", expectedVersion: $v) { version } }',
      { id: c.id, v: formed.formCaseTeam.version },
    );
    const teamChanges = (h: typeof control) =>
      h.accepted().filter((d) => d.change.aggregateId === c.id && d.change.version > c.version);
    await control.until(() => teamChanges(control).length === 2);
    expect(
      teamChanges(control)
        .map((d) => d.change.type)
        .sort(),
    ).toEqual(['CaseTeamFormed', 'CaseTeamMemberInvited']);
    // Each of the partner's endpoints has both changes, as CaseChanged.
    const deliveries = (await gw.raw()).collection('webhook_deliveries');
    for (const endpoint of [a, b]) {
      const made = await deliveries
        .find({ endpointId: endpoint.registerWebhook.endpoint.id, aggregateId: c.id, aggregateVersion: { $gt: c.version } })
        .toArray();
      expect(made.map((d) => d.eventType)).toEqual(['CaseChanged', 'CaseChanged']);
    }
    await Promise.all([control.close(), both.close(), withheld.close()]);
  });

  it('a unit of a member state that was deactivated is pushed nothing more', async () => {
    const own = await gateway();
    try {
      const hook = await receiver(() => 200);
      const control = await receiver(() => 200);
      const police = own.as('NL-POLITIE', 'agency-officer');
      const { registerWebhook } = await police.ok<Registered>(REGISTER, { url: hook.url, events: ['*'] });
      const nl = workflow(own, 'NL', 'P-AF-HOPE');
      await nl.officer.ok(REGISTER, { url: control.url, events: ['*'] });
      const c = await nl.create();
      const formed = await nl.state.ok<{ formCaseTeam: { version: number } }>(
        'mutation ($id: ID!, $v: Int!) { formCaseTeam(caseId: $id, lead: null, expectedVersion: $v) { version } }',
        { id: c.id, v: c.version },
      );
      const invited = await nl.state.ok<{ inviteToCaseTeam: { version: number } }>(
        'mutation ($id: ID!, $v: Int!) { inviteToCaseTeam(caseId: $id, unit: "NL-POLITIE", expectedVersion: $v) { version } }',
        { id: c.id, v: formed.formCaseTeam.version },
      );
      const referred = await nl.refer({ ...c, version: invited.inviteToCaseTeam.version });
      const forCase = (h: typeof hook) => h.accepted().filter((d) => d.change.aggregateId === c.id);
      await hook.until(() => forCase(hook).length === 2); // its invitation and the referral
      const admin = own.as('ERIN-NET', 'network-admin');
      const { organisation } = await admin.ok<{ organisation: { version: number } }>('{ organisation(code: "NL") { version } }');
      await admin.ok(
        'mutation ($v: Int!) { updateOrganisation(code: "NL", input: { active: false }, expectedVersion: $v) { active } }',
        {
          v: organisation.version,
        },
      );

      // The partner takes the case on: its own endpoint is told; the police's is not, its state is cut off.
      const accepted = await nl.accept(referred);
      await control.until(() => forCase(control).some((d) => d.change.version === accepted.version));
      await new Promise((r) => setTimeout(r, 500)); // a few more dispatch rounds
      expect(forCase(hook)).toHaveLength(2);
      const deliveries = (await own.raw()).collection('webhook_deliveries');
      expect(await deliveries.countDocuments({ endpointId: registerWebhook.endpoint.id, aggregateId: c.id })).toBe(2);
      await hook.close();
      await control.close();
    } finally {
      await own.close();
    }
  });

  it('after a rotation both secrets sign for a while; a disabled endpoint gets nothing more', async () => {
    const hook = await receiver(() => 200);
    const flow = workflow(gw, 'AT', 'P-PK-INDUS');
    const { registerWebhook } = await flow.state.ok<Registered>(REGISTER, { url: hook.url, events: ['*'] });
    const { rotateWebhookSecret } = await flow.state.ok<{
      rotateWebhookSecret: { secret: string; endpoint: { version: number } };
    }>('mutation ($id: ID!, $v: Int!) { rotateWebhookSecret(id: $id, expectedVersion: $v) { secret endpoint { version } } }', {
      id: registerWebhook.endpoint.id,
      v: registerWebhook.endpoint.version,
    });
    const c = await flow.create({ originCountry: 'PK' });
    await hook.until(() => hook.accepted().some((d) => d.change.aggregateId === c.id));
    const signed = hook.requests.find((r) => r.delivery.change.aggregateId === c.id)!;
    const header = signed.headers['x-erin-signature'] as string;
    expect(header.match(/v1=/g)).toHaveLength(2);
    for (const secret of [registerWebhook.secret, rotateWebhookSecret.secret])
      expect(verifyErinSignature({ secrets: [secret], header, rawBody: signed.body })).toBe(true);

    await flow.state.ok('mutation ($id: ID!, $v: Int!) { disableWebhook(id: $id, expectedVersion: $v) { status } }', {
      id: registerWebhook.endpoint.id,
      v: rotateWebhookSecret.endpoint.version,
    });
    const after = await flow.create({ originCountry: 'PK' });
    // Let the dispatcher read the log past that write: no delivery is made for the disabled endpoint.
    const head = await gw.services.log.lastSeq();
    while ((await (await gw.raw()).collection('webhook_dispatch').findOne({}))!.seq < head)
      await gw.services.webhookDelivery.dispatch();
    const { webhookDeliveries } = await flow.state.ok<{ webhookDeliveries: { deliveries: { aggregateId: string }[] } }>(
      'query ($e: ID) { webhookDeliveries(endpointId: $e, first: 100) { deliveries { aggregateId } } }',
      { e: registerWebhook.endpoint.id },
    );
    expect(webhookDeliveries.deliveries.map((d) => d.aggregateId)).toContain(c.id);
    expect(webhookDeliveries.deliveries.map((d) => d.aggregateId)).not.toContain(after.id);
    await hook.close();
  });
});

describe('webhook delivery from two instances', () => {
  it('two instances dispatching and sending at once make one delivery per event, and the receiver gets each', async () => {
    const key = { ERIN_ENCRYPTION_KEY: Buffer.alloc(32, 43).toString('base64') };
    const first = await gateway({ env: key });
    const second = await gateway({ dbName: first.dbName, seed: false, env: key });
    const hook = await receiver(() => 200);
    const flow = workflow(first, 'NL', 'P-AF-HOPE');
    const other = workflow(second, 'NL', 'P-AF-HOPE');
    await flow.state.ok<Registered>(REGISTER, { url: hook.url, events: ['*'] });
    const cases = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const f = i % 2 === 0 ? flow : other;
        return f.refer(await f.create());
      }),
    );
    const expected = cases.flatMap((c) => [`${c.id}@1`, `${c.id}@2`]);
    const got = () => hook.accepted().map((d) => `${d.change.aggregateId}@${d.change.version}`);
    await hook.until(() => expected.every((e) => got().includes(e)));
    expect(got().sort()).toEqual([...expected].sort());
    const deliveries = await (await first.raw()).collection('webhook_deliveries').find({}).toArray();
    expect(deliveries).toHaveLength(expected.length);
    await second.close({ keepData: true });
    await first.close();
    await hook.close();
  });
});

describe('webhook delivery across a restart', () => {
  it('the gateway is stopped mid-retry and restarted: after dedupe by delivery id the receiver has each event exactly once', async () => {
    let failing = true;
    const hook = await receiver(async () => {
      // Slow answers, so the stop finds attempts in flight.
      await new Promise((resolve) => setTimeout(resolve, 20));
      return failing ? 502 : 200;
    });
    const patient = {
      ERIN_WEBHOOK_MAX_ATTEMPTS: '100',
      ERIN_WEBHOOK_RETRY_BASE: '100ms',
      ERIN_WEBHOOK_RETRY_MAX: '300ms',
      // Instances of one deployment share the key that seals endpoint secrets.
      ERIN_ENCRYPTION_KEY: Buffer.alloc(32, 42).toString('base64'),
    };
    const first = await gateway({ env: patient });
    const flow = workflow(first, 'NO', 'P-ET-HORN');
    await flow.state.ok<Registered>(REGISTER, { url: hook.url, events: ['*'] });
    const cases = [];
    for (let i = 0; i < 3; i += 1) cases.push(await flow.refer(await flow.create({ originCountry: 'ET' })));
    const expected = cases.flatMap((c) => [`${c.id}@1`, `${c.id}@2`]);
    // Every event has failed at least once: the deliveries are mid-retry.
    await hook.until(() =>
      expected.every((e) => hook.requests.some((r) => `${r.delivery.change.aggregateId}@${r.delivery.change.version}` === e)),
    );
    const pending = await (await first.raw()).collection('webhook_deliveries').countDocuments({ status: 'PENDING' });
    expect(pending).toBeGreaterThan(0);
    await first.close({ keepData: true });

    const second = await gateway({ dbName: first.dbName, seed: false, env: patient });
    failing = false;
    const got = () => hook.accepted().map((d) => `${d.change.aggregateId}@${d.change.version}`);
    await hook.until(() => {
      return expected.every((e) => got().includes(e));
    });
    const mine = hook.accepted().filter((d) => expected.includes(`${d.change.aggregateId}@${d.change.version}`));
    expect(mine.map((d) => `${d.change.aggregateId}@${d.change.version}`).sort()).toEqual([...expected].sort());
    // One delivery id per event: a redelivery is the same delivery, never a second one.
    const idsPerEvent = new Map<string, Set<string>>();
    for (const r of hook.requests) {
      const key = `${r.delivery.change.aggregateId}@${r.delivery.change.version}`;
      idsPerEvent.set(key, (idsPerEvent.get(key) ?? new Set()).add(r.delivery.deliveryId));
    }
    for (const ids of idsPerEvent.values()) expect(ids.size).toBe(1);
    await second.close();
    await hook.close();
  });
});
