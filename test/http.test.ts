// The HTTP surface: health, readiness, metrics, and how malformed requests are answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, startGateway, uniqueDbName, type TestGateway } from './helpers/gateway.ts';
import { productionLike } from './helpers/process.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

describe('open endpoints', () => {
  it('healthz and readyz answer without a token', async () => {
    expect(await (await fetch(`${gw.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', store: 'up' });
  });

  it('metrics count HTTP requests and GraphQL operations and report the store up', async () => {
    await gw.as('NL', 'caseworker').ok('query Dashboard { organisations { code } }');
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(text).toMatch(/erin_graphql_operations_total\{operation="Dashboard",type="query",outcome="ok"\} 1/);
    expect(text).toMatch(/erin_http_requests_total\{method="POST",route="\/graphql",status="200"\} \d+/);
    expect(text).toMatch(/erin_graphql_operation_duration_seconds_count\{operation="Dashboard",type="query"\} 1/);
    expect(text).toMatch(/erin_store_up 1/);
    expect(text).toMatch(/erin_store_commands_total\{command="find"\} \d+/);
  });

  it('a document is compiled when it comes a second time, not for a text sent once', async () => {
    const compiled = async () => {
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      return Number(/erin_graphql_compiled_documents_total\{variant="open"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const client = gw.as('NL', 'caseworker');
    const before = await compiled();
    // A hundred texts sent once each (what a client trying queries, or an attacker, sends): none compiled.
    for (let i = 0; i < 100; i += 1) {
      const r = await client.ok<{ me: Record<string, unknown> }>(`{ once${i}: me { roles } }`);
      expect(r).toEqual({ [`once${i}`]: { roles: ['caseworker'] } });
    }
    expect(await compiled()).toBe(before);
    // The same text again: compiled once, and its answer unchanged.
    const query = '{ again: me { roles organisation { code } } }';
    const first = await client.ok(query);
    for (let i = 0; i < 3; i += 1) expect(await client.ok(query)).toEqual(first);
    expect(await compiled()).toBe(before + 1);
  });

  it('client-chosen operation names cannot grow the metrics without bound', async () => {
    const client = gw.as('NL', 'caseworker');
    for (let i = 0; i < 260; i += 1) await client.gql(`query Flood${i} { ping }`);
    await client.gql('query Weird$name { ping }').catch(() => undefined);
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const names = new Set([...text.matchAll(/erin_graphql_operations_total\{operation="([^"]+)"/g)].map((m) => m[1]));
    expect(names.size).toBeLessThanOrEqual(202);
    expect(names).toContain('other');
  });

  it('every response carries a request id, and a sane one given by the client is kept', async () => {
    const given = await fetch(`${gw.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const hostile = await fetch(`${gw.url}/healthz`, { headers: { 'x-request-id': 'a\tb<script>' } });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('personal data in answers', () => {
  it('no cache keeps a GraphQL answer, a refusal or a persisted query run by GET, and none is sniffed', async () => {
    const token = gw.token('NL', 'caseworker');
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const query = '{ cases(first: 1) { edges { node { reference } } } }';
    const answered = await fetch(`${gw.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query }) });
    expect(answered.status).toBe(200);
    const refused = await fetch(`${gw.url}/graphql`, { method: 'POST', headers, body: '{"query": ' });
    expect(refused.status).toBe(400);
    const anonymous = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    const byGet = await fetch(`${gw.url}/graphql?query=${encodeURIComponent(query)}`, {
      headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
    });
    expect(byGet.status).toBe(200);
    for (const response of [answered, refused, anonymous, byGet]) {
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });
});

describe('metrics behind a token', () => {
  it('with ERIN_METRICS_TOKEN set, /metrics answers only to that bearer token', async () => {
    const secret = 'metrics-scraper-token-0123456789';
    const guarded = await startGateway({ seed: false, env: { ERIN_METRICS_TOKEN: secret } });
    try {
      const scrape = (authorization?: string) =>
        fetch(`${guarded.url}/metrics`, { headers: authorization ? { authorization } : {} });
      for (const wrong of [undefined, 'Bearer wrong', `Bearer ${secret}x`, `Basic ${secret}`, `Bearer ${secret.slice(0, 8)}`]) {
        const refused = await scrape(wrong);
        expect(refused.status, String(wrong)).toBe(401);
        expect(await refused.text()).not.toContain('erin_');
      }
      const allowed = await scrape(`Bearer ${secret}`);
      expect(allowed.status).toBe(200);
      expect(await allowed.text()).toContain('erin_');
      // Liveness and readiness stay open (load balancers and orchestrators have no token).
      expect((await fetch(`${guarded.url}/healthz`)).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});

describe('metrics in production', () => {
  it('without ERIN_METRICS_TOKEN, /metrics is off (404) and the gateway says so at start; with it, it answers to the token', async () => {
    const prod = productionLike(uniqueDbName('metrics'));
    const env = { NODE_ENV: 'production', ERIN_TRUST: prod.trustFile, ERIN_ENCRYPTION_KEY: prod.env.ERIN_ENCRYPTION_KEY };
    const lines: string[] = [];
    const open = await startGateway({ seed: false, env: { ...env, LOG_LEVEL: 'info' }, logLines: lines });
    try {
      const scraped = await fetch(`${open.url}/metrics`);
      expect(scraped.status).toBe(404);
      expect(await scraped.text()).not.toContain('erin_');
      expect((await fetch(`${open.url}/healthz`)).status).toBe(200);
      expect(lines.join('')).toMatch(/"level":40,.*ERIN_METRICS_TOKEN/);
    } finally {
      await open.close();
    }
    const secret = 'metrics-scraper-token-0123456789';
    const guarded = await startGateway({ seed: false, env: { ...env, ERIN_METRICS_TOKEN: secret } });
    try {
      expect((await fetch(`${guarded.url}/metrics`)).status).toBe(401);
      const allowed = await fetch(`${guarded.url}/metrics`, { headers: { authorization: `Bearer ${secret}` } });
      expect(allowed.status).toBe(200);
      expect(await allowed.text()).toContain('erin_');
    } finally {
      await guarded.close();
    }
  });
});

describe('transport security', () => {
  const HSTS = /^max-age=(\d+); includeSubDomains$/;

  it('behind an https public address every response carries Strict-Transport-Security, of a year or more', async () => {
    const secure = await startGateway({ seed: false, env: { ERIN_PUBLIC_URL: 'https://erin.example.org' } });
    try {
      const responses = [
        await fetch(`${secure.url}/healthz`),
        await fetch(`${secure.url}/metrics`),
        await fetch(`${secure.url}/portal/`),
        await fetch(`${secure.url}/portal`, { redirect: 'manual' }),
        await fetch(`${secure.url}/no-such-page`),
        await fetch(`${secure.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }),
        await fetch(`${secure.url}/evidence/nothing`),
      ];
      for (const r of responses) {
        const value = r.headers.get('strict-transport-security') ?? '';
        expect(value, `${r.url} ${r.status}`).toMatch(HSTS);
        expect(Number(HSTS.exec(value)?.[1])).toBeGreaterThanOrEqual(365 * 24 * 3600);
      }
    } finally {
      await secure.close();
    }
  });

  it('on plain http (development) it is not sent', async () => {
    for (const path of ['/healthz', '/portal/', '/no-such-page']) {
      expect((await fetch(`${gw.url}${path}`)).headers.get('strict-transport-security')).toBeNull();
    }
  });
});

describe('the portal’s address', () => {
  it('/portal without its slash is sent permanently to /portal/, with its query string', async () => {
    for (const [given, expected] of [
      ['/portal', '/portal/'],
      ['/portal?code=abc&state=x%2Fy', '/portal/?code=abc&state=x%2Fy'],
    ] as const) {
      const r = await fetch(`${gw.url}${given}`, { redirect: 'manual' });
      expect([301, 308], given).toContain(r.status);
      expect(new URL(r.headers.get('location') ?? '', `${gw.url}${given}`).href).toBe(`${gw.url}${expected}`);
    }
    // The portal itself and its files are served where they are.
    const page = await fetch(`${gw.url}/portal/?code=abc`, { redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('app.js');
    expect((await fetch(`${gw.url}/portal/app.js`, { redirect: 'manual' })).status).toBe(200);
  });

  it('the portal’s page is never stored (no signed-out page for Back to bring again); its files are revalidated', async () => {
    const page = await fetch(`${gw.url}/portal/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const script = await fetch(`${gw.url}/portal/app.js`);
    expect(script.headers.get('cache-control')).toBe('no-cache');
    expect(script.headers.get('etag')).toBeTruthy();
  });
});

describe('persisted queries', () => {
  it('GET /graphql runs a query by its hash once it is known (automatic persisted queries)', async () => {
    const { createHash } = await import('node:crypto');
    const query = '{ organisations(kind: MEMBER_STATE) { code } }';
    const hash = createHash('sha256').update(query).digest('hex');
    const extensions = encodeURIComponent(JSON.stringify({ persistedQuery: { version: 1, sha256Hash: hash } }));
    const headers = { authorization: `Bearer ${gw.token('NL', 'caseworker')}`, 'apollo-require-preflight': 'true' };
    const unknown = (await (await fetch(`${gw.url}/graphql?extensions=${extensions}`, { headers })).json()) as {
      errors: { extensions: { code: string } }[];
    };
    expect(unknown.errors[0]?.extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    // The client registers it once with a POST…
    const registered = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }),
    });
    expect(registered.status).toBe(200);
    // …then GETs it by hash, a request small enough for a slow link and cacheable by proxies.
    const byHash = (await (await fetch(`${gw.url}/graphql?extensions=${extensions}`, { headers })).json()) as {
      data: { organisations: unknown[] };
    };
    expect(byHash.data.organisations).toHaveLength(7);
  });

  it('a GET cannot run a mutation', async () => {
    const r = await fetch(`${gw.url}/graphql?query=${encodeURIComponent('mutation { ping }')}`, {
      headers: { authorization: `Bearer ${gw.token('NL', 'caseworker')}`, 'apollo-require-preflight': 'true' },
    });
    expect(r.status).toBe(405);
  });
});

describe('slow links', () => {
  it('the portal and GraphQL answers are compressed for clients that accept it', async () => {
    const script = await fetch(`${gw.url}/portal/app.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(script.status).toBe(200);
    expect(script.headers.get('content-encoding')).toBe('gzip');
    const answer = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'accept-encoding': 'gzip',
        authorization: `Bearer ${gw.token('NL', 'caseworker')}`,
      },
      body: JSON.stringify({ query: '{ organisations { code kind name countries } contracts { id originCountries } }' }),
    });
    expect(answer.headers.get('content-encoding')).toBe('gzip');
  });
});

describe('malformed requests', () => {
  it('an unknown field is BAD_USER_INPUT', async () => {
    const r = await gw.as('NL', 'caseworker').gql('{ organisations { code secretField } }');
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors?.[0]?.message).toContain('secretField');
    // application/json clients get 200 with the errors; graphql-response+json clients get 400.
    expect(r.status).toBe(200);
    const strict = await gw.gql(
      '{ organisations { code secretField } }',
      {},
      { token: gw.token('NL', 'caseworker'), headers: { accept: 'application/graphql-response+json' } },
    );
    expect(strict.status).toBe(400);
  });

  it('a query that does not parse is BAD_USER_INPUT', async () => {
    const r = await gw.as('NL', 'caseworker').gql('{ organisations { code ');
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
  });

  it('a variable of the wrong type is BAD_USER_INPUT', async () => {
    const r = await gw
      .as('NL', 'caseworker')
      .gql('query ($k: OrganisationKind) { organisations(kind: $k) { code } }', { k: 'PIRATE' });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
  });

  it('a body that is not JSON gets a GraphQL-shaped 400, not a stack trace', async () => {
    const response = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.token('NL', 'caseworker')}` },
      body: '{"query": "{ organisations { code } }"',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('an oversized body is refused with 413', async () => {
    const response = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ organisations { code } } # ${'x'.repeat(2 * 1024 * 1024)}` }),
    });
    expect(response.status).toBe(413);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('a query nested too deeply is refused before it runs', async () => {
    const deep = `{ contracts { memberState { contracts { partner { contracts { memberState { contracts { partner { contracts { memberState { contracts { partner { contracts { id } } } } } } } } } } } } } }`;
    const r = await gw.as('NL', 'caseworker').gql(deep);
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors?.[0]?.message).toMatch(/deeper than the limit of 12 levels/);
  });
});
