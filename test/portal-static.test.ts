// The portal's parts that need no browser: its GraphQL operations are valid against the schema,
// every catalogue has every key (and every word the API and the survey configuration can send),
// the files are served with their security headers and small, and the development identity
// provider never runs in production.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { isEnumType, parse, validate } from 'graphql';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTypeDefs } from '../src/graphql/schema.ts';
import { buildPortalAssets, operationsOf } from '../src/portal/portal.assets.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { PERSONAL_DATA_READ, SPECIAL_CATEGORY_READ } from '../src/modules/audit/access.ts';
import { PERSONAL_FIELDS } from '../src/modules/cases/case.sealing.ts';
import { catalogue, keysOf, type Language } from './helpers/portal.ts';

const LANGUAGES: Language[] = ['en', 'fr', 'ar'];
const schema = makeExecutableSchema({ typeDefs: loadTypeDefs() });

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

describe('the portal’s GraphQL operations', () => {
  const files = walk('portal/graphql').filter((f) => f.endsWith('.graphql'));

  it.each(files)('%s is valid against the schema', (file) => {
    const document = parse(readFileSync(file, 'utf8'));
    expect(validate(schema, document).map((e) => e.message)).toEqual([]);
  });

  it('every operation the views import exists, with the fragments it uses', () => {
    const operations = Object.assign({}, ...files.map((f) => operationsOf(readFileSync(f, 'utf8')))) as Record<string, string>;
    const imported = walk('portal/src')
      .filter((f) => f.endsWith('.js'))
      .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/import \{([^}]+)\} from '[./]+\/graphql\/[^']+\.graphql'/g)])
      .flatMap((m) => m[1]!.split(',').map((n) => n.trim()));
    expect(imported.length).toBeGreaterThan(10);
    for (const name of imported) {
      expect(operations[name], name).toBeDefined();
      expect(validate(schema, parse(operations[name]!)).map((e) => e.message)).toEqual([]);
    }
  });
});

describe('the catalogues', () => {
  const keys = Object.fromEntries(LANGUAGES.map((l) => [l, new Set(keysOf(catalogue(l)))])) as Record<Language, Set<string>>;

  it('every language has every key of every other', () => {
    for (const a of LANGUAGES)
      for (const b of LANGUAGES) {
        expect(
          [...keys[a]].filter((k) => !keys[b].has(k)),
          `${a} keys missing in ${b}`,
        ).toEqual([]);
      }
  });

  it('every plural has the forms its language needs', () => {
    const flat = (cat: ReturnType<typeof catalogue>, prefix = ''): string[] =>
      Object.entries(cat).flatMap(([k, v]) => (typeof v === 'string' ? [`${prefix}${k}`] : flat(v, `${prefix}${k}.`)));
    for (const language of LANGUAGES) {
      const all = new Set(flat(catalogue(language)));
      const plurals = [...all].filter((k) => k.endsWith('_other')).map((k) => k.slice(0, -'_other'.length));
      const forms = new Intl.PluralRules(language).resolvedOptions().pluralCategories;
      for (const key of plurals)
        for (const form of forms) expect(all.has(`${key}_${form}`), `${language}: ${key}_${form}`).toBe(true);
    }
  });

  it('every key the portal’s code asks for is in the catalogues', () => {
    const used = walk('portal/src')
      .filter((f) => f.endsWith('.js'))
      .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/\bt[x]?\('([a-zA-Z]+(?:\.[a-zA-Z-]+)+)'/g)].map((m) => m[1]!));
    expect(used.length).toBeGreaterThan(100);
    for (const language of LANGUAGES)
      expect(
        used.filter((k) => !keys[language].has(k)),
        language,
      ).toEqual([]);
  });

  it('every value of the enums the portal shows has words in every language', () => {
    const groups: Record<string, string> = {
      CaseStatus: 'status',
      CaseAction: 'action',
      ProgressKind: 'progressKind',
      ShipmentStatus: 'shipmentStatus',
      EvidenceKind: 'evidenceKind',
      ComponentKind: 'componentKind',
      ClosureReason: 'closure',
      ServiceCategory: 'serviceCategory',
      Procurement: 'procurement',
      PlanStatus: 'planStatus',
      DeadlineKind: 'deadline',
      DeadlineStatus: 'deadlineStatus',
      Gender: 'gender',
      HouseholdRelation: 'relation',
      ReturnType: 'returnType',
      SurveyDimension: 'dimension',
      ConsentPurpose: 'consentPurpose',
      ConsentStatus: 'consentStatus',
    };
    for (const [enumName, group] of Object.entries(groups)) {
      const type = schema.getType(enumName);
      if (!isEnumType(type)) throw new Error(`${enumName} is not an enum`);
      for (const language of LANGUAGES)
        for (const value of type.getValues())
          expect(keys[language].has(`${group}.${value.name}`), `${language}: ${group}.${value.name}`).toBe(true);
    }
  });

  it('every personal field an audit entry can name, and the entry itself, has words in every language', () => {
    for (const language of LANGUAGES)
      for (const field of PERSONAL_FIELDS) expect(keys[language].has(`field.${field}`), `${language}: field.${field}`).toBe(true);
    // The audit entries of those reads, current and older.
    for (const language of LANGUAGES)
      for (const type of [PERSONAL_DATA_READ, SPECIAL_CATEGORY_READ])
        expect(keys[language].has(`event.${type}`), `${language}: ${type}`).toBe(true);
  });

  it('every question and answer of the configured survey has words in every language', () => {
    const survey = YAML.parse(readFileSync('config/sustainability-survey.yaml', 'utf8')) as {
      indicators: { code: string; answers: { code: string }[] }[];
    };
    for (const language of LANGUAGES)
      for (const indicator of survey.indicators) {
        expect(keys[language].has(`survey.q.${indicator.code}`), `${language}: ${indicator.code}`).toBe(true);
        for (const answer of indicator.answers)
          expect(
            keys[language].has(`survey.a.${indicator.code}.${answer.code}`),
            `${language}: ${indicator.code}.${answer.code}`,
          ).toBe(true);
      }
  });
});

describe('serving the portal', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ devIdp: {} });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('with a Content-Security-Policy without inline script, no framing and no referrer', async () => {
    for (const file of ['/portal/', '/portal/app.js', '/portal/config.json', '/portal/locales/ar.json']) {
      const response = await fetch(`${gw.url}${file}`);
      expect(response.status, file).toBe(200);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const html = await (await fetch(`${gw.url}/portal/`)).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('no page on the portal’s origin runs another site’s script: a browser opening /graphql gets no Apollo landing page', async () => {
    // Apollo's landing page loads its script from Apollo's CDN (an unpinned "_latest"); on this
    // origin that script could read the portal tab's session storage (the tokens) and replace the
    // files the service worker serves the portal from (Cache Storage is the origin's).
    const response = await fetch(`${gw.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.headers.get('content-type') ?? '').not.toContain('text/html');
    expect(await response.text()).not.toMatch(/<script|apollographql\.com/);
  });

  it('compressed, and answered 304 when unchanged', async () => {
    const response = await fetch(`${gw.url}/portal/app.js`, { headers: { 'accept-encoding': 'br' } });
    expect(response.headers.get('content-encoding')).toBe('br');
    const again = await fetch(`${gw.url}/portal/app.js`, { headers: { 'if-none-match': response.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('offers the sign-in providers of the trust configuration, the development one included outside production', async () => {
    const config = (await (await fetch(`${gw.url}/portal/config.json`)).json()) as {
      providers: { issuer: string; clientId: string }[];
      tokenPaste: boolean;
    };
    expect(config.providers).toEqual([expect.objectContaining({ issuer: `${gw.url}/idp`, clientId: 'erin-portal' })]);
    expect(config.tokenPaste).toBe(true);
    const discovery = (await (await fetch(`${gw.url}/idp/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({ issuer: `${gw.url}/idp`, code_challenge_methods_supported: ['S256'] });
  });

  it('the development provider names its endpoints at the gateway’s address, whatever Host or X-Forwarded-Host a request claims', async () => {
    // The discovery document says where the portal sends the password (authorization) and the
    // code with its PKCE verifier (token): a shared cache keeping one answered to a forged host
    // would send every later sign-in elsewhere.
    const { request } = await import('node:http');
    const { hostname, port } = new URL(gw.url);
    const discovery = (headers: Record<string, string>) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        request({ hostname, port, path: '/idp/.well-known/openid-configuration', headers }, (res) => {
          let body = '';
          res.on('data', (piece: Buffer) => (body += piece.toString()));
          res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
        })
          .on('error', reject)
          .end();
      });
    const forged: Record<string, string>[] = [
      { host: 'evil.example' },
      { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
    ];
    for (const headers of forged) {
      const document = await discovery(headers);
      for (const name of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'end_session_endpoint']) {
        expect(String(document[name]), `${name} with ${JSON.stringify(headers)}`).toMatch(new RegExp(`^${gw.url}/idp/`));
      }
    }
  });

  it('the sign-in pages cannot be framed by another site', async () => {
    const authorize = new URL(`${gw.url}/idp/auth`);
    authorize.search = new URLSearchParams({
      client_id: 'erin-portal',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: `${gw.url}/portal/`,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 'state-1',
      nonce: 'nonce-1',
    }).toString();
    const started = await fetch(authorize, { redirect: 'manual' });
    expect(started.status).toBe(303);
    const cookies = started.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const login = await fetch(new URL(started.headers.get('location')!, gw.url), { headers: { cookie: cookies } });
    expect(await login.text()).toContain('<form');
    for (const response of [started, login]) {
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('the development identity provider never runs in production', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(path.join(tmpdir(), 'trust-'));
    const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' });
    writeFileSync(path.join(dir, 'network.pem'), pem);
    writeFileSync(
      path.join(dir, 'trust.yaml'),
      YAML.stringify({
        issuers: [
          {
            issuer: 'https://idp.erin-network.example/realms/partners',
            organisationKinds: ['PARTNER'],
            algorithms: ['ES256'],
            keys: [{ kid: 'k1', pemFile: 'network.pem' }],
            portal: { clientId: 'erin-portal', name: 'ERIN network sign-in' },
          },
        ],
      }),
    );
    const production = await startGateway({
      env: {
        NODE_ENV: 'production',
        ERIN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
        ERIN_TRUST: path.join(dir, 'trust.yaml'),
      },
    });
    try {
      expect(() => production.gateway.startDevIdentityProvider(production.url)).toThrow(/never runs in production/);
      const config = (await (await fetch(`${production.url}/portal/config.json`)).json()) as {
        providers: { issuer: string; clientId: string; scope: string }[];
        tokenPaste: boolean;
        timeoutMs: number;
        idleMs: number;
      };
      expect(config).toEqual({
        providers: [
          expect.objectContaining({
            issuer: 'https://idp.erin-network.example/realms/partners',
            clientId: 'erin-portal',
            scope: 'openid',
          }),
        ],
        tokenPaste: false,
        // How long the portal waits for the provider or a read (ERIN_PORTAL_TIMEOUT's default).
        timeoutMs: 30_000,
        // How long the portal stays signed in without input (ERIN_PORTAL_IDLE's default).
        idleMs: 900_000,
      });
      expect((await fetch(`${production.url}/idp/.well-known/openid-configuration`)).status).toBe(404);
      const landing = await fetch(`${production.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await landing.text()).not.toMatch(/<script|apollographql\.com/);
      // The portal may talk to that provider (discovery, tokens) and to nothing else.
      const csp = (await fetch(`${production.url}/portal/`)).headers.get('content-security-policy');
      expect(csp).toContain("connect-src 'self' https://idp.erin-network.example;");
    } finally {
      await production.close();
    }
  });

  it('a token claiming the development provider but signed with another key is refused', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const jwt = (await import('jsonwebtoken')).default;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const forged = jwt.sign({ org: 'P-AF-HOPE', roles: ['partner-officer'] }, privateKey, {
      algorithm: 'ES256',
      keyid: 'dev-idp-1',
      issuer: `${gw.url}/idp`,
      audience: gw.config.tokenAudience,
      subject: 'demo-p-af-hope-officer',
      expiresIn: 600,
    });
    const response = await gw.gql('{ me { subject } }', {}, { token: forged });
    expect(response.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
  });
});

it('the first load stays small: HTML, script, styles and the largest catalogue under 60 KB compressed', async () => {
  const assets = await buildPortalAssets('portal/');
  const largest = Math.max(...[...assets.entries()].filter(([k]) => k.startsWith('/locales/')).map(([, a]) => a.gzip.length));
  const total = ['/index.html', '/app.js', '/style.css'].reduce((sum, name) => sum + assets.get(name)!.gzip.length, largest);
  expect(total).toBeLessThan(60 * 1024);
});
