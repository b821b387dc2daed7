// Safe defaults: development mode (the development issuer and identity provider, anonymous
// introspection, loopback webhooks) only when asked for; a gateway against MONGODB_URI or in
// production refuses to start without its own encryption key and trusted issuers, or with the
// development issuer; the limit of webhook endpoints holds under concurrent registration.
import { afterAll, describe, expect, it } from 'vitest';
import { DEV_ISSUER } from '../src/auth/dev-issuer.ts';
import { loadConfig, servingProblems } from '../src/config.ts';
import { MAX_ENDPOINTS_PER_ORGANISATION } from '../src/modules/webhooks/webhook.service.ts';
import { codes, startGateway, uniqueDbName, type TestGateway } from './helpers/gateway.ts';
import { ecKeyPair } from './helpers/keys.ts';
import { killAll, productionLike, runGateway } from './helpers/process.ts';

const gateways: TestGateway[] = [];
afterAll(async () => {
  killAll();
  for (const g of gateways) await g.close();
});

const REGISTER = `mutation ($url: String!, $events: [String!]!) { registerWebhook(url: $url, events: $events) {
  secret endpoint { id status version } } }`;
type Registered = { registerWebhook: { secret: string; endpoint: { id: string; status: string; version: number } } };

describe('development mode is asked for explicitly', () => {
  it('is off unless ERIN_DEV_MODE=true or --dev, and never with NODE_ENV=production', () => {
    expect(loadConfig({}).devMode).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test' }).devMode).toBe(false);
    expect(loadConfig({ ERIN_DEV_MODE: 'true' }).devMode).toBe(true);
    expect(loadConfig({}, { dev: true }).devMode).toBe(true);
    expect(() => loadConfig({ ERIN_DEV_MODE: 'yes' })).toThrow(/ERIN_DEV_MODE/);
    const key = Buffer.alloc(32, 1).toString('base64');
    expect(() =>
      loadConfig({ NODE_ENV: 'production', ERIN_DEV_MODE: 'true', ERIN_ENCRYPTION_KEY: key, ERIN_TRUST: 'trust.yaml' }),
    ).toThrow(/ERIN_DEV_MODE/);
    // Against a real store: an encryption key and trusted issuers of its own, no development mode.
    const external = loadConfig({ MONGODB_URI: 'mongodb://db:27017/erin', ERIN_DEV_MODE: 'true' });
    expect(servingProblems(external).join('\n')).toMatch(/ERIN_ENCRYPTION_KEY[\s\S]*ERIN_DEV_MODE[\s\S]*ERIN_TRUST/);
    expect(servingProblems(loadConfig({ ERIN_DEV_MODE: 'true' }))).toEqual([]);
  });

  it('without it: development tokens, anonymous introspection, loopback webhooks and the development sign-in are refused', async () => {
    const prod = productionLike('unused');
    const gw = await startGateway({ env: { ERIN_DEV_MODE: 'false', ERIN_TRUST: prod.trustFile } });
    gateways.push(gw);
    const introspection = await gw.gql('{ __schema { queryType { name } } }');
    expect(introspection.status).toBe(401);
    expect(codes(introspection)).toEqual(['UNAUTHENTICATED']);
    // A token of the development issuer is not trusted.
    expect((await gw.gql('{ me { subject } }', {}, { token: gw.token('NL', 'coordinator') })).status).toBe(401);
    expect(() => gw.gateway.startDevIdentityProvider(gw.url)).toThrow(/only in development mode/);
    expect((await fetch(`${gw.url}/idp/.well-known/openid-configuration`)).status).toBe(404);
    // A token of a trusted issuer works; loopback receivers are refused for it.
    const token = prod.token('NL', ['coordinator']);
    const me = await gw.gql<{ me: { subject: string } }>('{ me { subject } }', {}, { token });
    expect(me.data?.me.subject).toBe('test-coordinator@NL');
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'http://localhost:8080/hook',
      'https://localhost/hook',
      'https://[::1]/hook',
    ]) {
      const r = await gw.gql(REGISTER, { url, events: ['*'] }, { token });
      expect(codes(r), url).toEqual(['BAD_USER_INPUT']);
    }
    expect(codes(await gw.gql(REGISTER, { url: 'https://hooks.example.org/nl', events: ['*'] }, { token }))).toEqual([]);
  });

  it('with it: the development issuer, anonymous introspection and loopback receivers work', async () => {
    const gw = await startGateway({ env: { ERIN_DEV_MODE: 'true' } });
    gateways.push(gw);
    const introspection = await gw.gql<{ __schema: { queryType: { name: string } } }>('{ __schema { queryType { name } } }');
    expect(introspection.data?.__schema.queryType.name).toBe('Query');
    const r = await gw.as('NL', 'coordinator').gql(REGISTER, { url: 'http://127.0.0.1:8080/hook', events: ['*'] });
    expect(r.errors).toBeUndefined();
  });
});

describe('a gateway against MONGODB_URI or in production refuses to start unsafe', () => {
  it('without an encryption key, with development mode, or with the development issuer in its trust file: a clear error and a non-zero exit', async () => {
    const dbName = uniqueDbName('refuse');
    const prod = productionLike(dbName);
    const { ERIN_ENCRYPTION_KEY: _key, ...withoutKey } = prod.env;
    const devKey = ecKeyPair();
    const trustingDev = productionLike(dbName, {
      extraIssuers: [
        {
          issuer: DEV_ISSUER,
          organisationKinds: ['MEMBER_STATE'],
          algorithms: ['ES256'],
          keys: [{ kid: 'dev-1', pem: devKey.publicPem }],
        },
      ],
    });
    const [noKey, devMode, devFlag, devIssuer, productionDev] = await Promise.all([
      runGateway(withoutKey),
      runGateway({ ...prod.env, ERIN_DEV_MODE: 'true' }),
      runGateway(prod.env, ['--dev']),
      runGateway({ ...trustingDev.env, NODE_ENV: 'production' }),
      runGateway({ NODE_ENV: 'production', ERIN_ENCRYPTION_KEY: prod.env.ERIN_ENCRYPTION_KEY, ERIN_TRUST: prod.trustFile }, [
        '--dev',
      ]),
    ]);
    const refusal = (outcome: typeof noKey) => {
      if (outcome.kind === 'listening') throw new Error(`it started:\n${outcome.gateway.logs.join('\n')}`);
      return outcome;
    };
    expect(refusal(noKey).code).toBe(2);
    expect(refusal(noKey).logs.join('\n')).toMatch(/ERIN_ENCRYPTION_KEY: required with MONGODB_URI/);
    expect(refusal(devMode).code).toBe(2);
    expect(refusal(devMode).logs.join('\n')).toMatch(/ERIN_DEV_MODE: development mode .* refused with MONGODB_URI/);
    expect(refusal(devFlag).code).toBe(2);
    expect(refusal(devFlag).logs.join('\n')).toMatch(/ERIN_DEV_MODE/);
    expect(refusal(devIssuer).code).not.toBe(0);
    expect(refusal(devIssuer).logs.join('\n')).toMatch(/development issuer urn:erin:dev-issuer is never trusted/);
    expect(refusal(productionDev).code).toBe(2);
    expect(refusal(productionDev).logs.join('\n')).toMatch(
      /ERIN_DEV_MODE: development mode \(or --dev\) never runs with NODE_ENV=production/,
    );

    // The same store with a key and its own issuers starts, and trusts no development token.
    const started = await runGateway(prod.env);
    if (started.kind !== 'listening') throw new Error(`did not start:\n${started.logs.join('\n')}`);
    const { gateway } = started;
    const anonymous = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }),
    });
    expect(anonymous.status).toBe(401);
    expect((await fetch(`${gateway.url}/idp/.well-known/openid-configuration`)).status).toBe(404);
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
  }, 300_000);
});

describe('the limit of webhook endpoints per organisation', () => {
  it('holds under concurrent registration, and a disabled endpoint frees its slot', async () => {
    const gw = await startGateway();
    gateways.push(gw);
    const nl = gw.as('NL', 'coordinator');
    const attempts = 2 * MAX_ENDPOINTS_PER_ORGANISATION;
    const results = await Promise.all(
      Array.from({ length: attempts }, (_, i) =>
        nl.gql<Registered>(REGISTER, { url: `https://hooks.example.org/nl/${i}`, events: ['*'] }),
      ),
    );
    const registered = results.filter((r) => r.data?.registerWebhook);
    expect(registered).toHaveLength(MAX_ENDPOINTS_PER_ORGANISATION);
    for (const r of results.filter((x) => !x.data?.registerWebhook)) {
      expect(codes(r)).toEqual(['BAD_USER_INPUT']);
      expect(r.errors?.[0]?.message).toMatch(/at most 10 active endpoints/);
    }
    const db = await gw.raw();
    const active = () => db.collection('webhook_endpoints').countDocuments({ organisation: 'NL', status: 'ACTIVE' });
    expect(await active()).toBe(MAX_ENDPOINTS_PER_ORGANISATION);
    // Another organisation's limit is its own.
    expect(codes(await gw.as('SE', 'coordinator').gql(REGISTER, { url: 'https://hooks.example.org/se', events: ['*'] }))).toEqual(
      [],
    );

    // Disable one, then register concurrently again: exactly one gets the freed slot.
    const victim = registered[0]!.data!.registerWebhook.endpoint;
    const disabled = await nl.gql(`mutation ($id: ID!, $v: Int!) { disableWebhook(id: $id, expectedVersion: $v) { status } }`, {
      id: victim.id,
      v: victim.version,
    });
    expect(disabled.errors).toBeUndefined();
    const again = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        nl.gql<Registered>(REGISTER, { url: `https://hooks.example.org/again/${i}`, events: ['*'] }),
      ),
    );
    expect(again.filter((r) => r.data?.registerWebhook)).toHaveLength(1);
    expect(await active()).toBe(MAX_ENDPOINTS_PER_ORGANISATION);
  }, 60_000);
});
