// Forged, expired and otherwise wrong tokens, as an attacker would try them. None is
// accepted, every refusal looks the same to the client, and keys rotate without a restart.
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import YAML from 'yaml';
import { rememberingVerifier, TokenRejected, type VerifyOptions } from '../src/auth/verify.ts';
import type { TrustedIssuer, TrustSnapshot } from '../src/auth/trust.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { ecKeyPair, nowSeconds, rsaKeyPair, sign, unsigned, type Claims } from './helpers/keys.ts';

const NL_ISSUER = 'https://idp.nl.test/realms/erin';
const NETWORK_ISSUER = 'https://idp.network.test/realms/partners';
const nlKey1 = rsaKeyPair();
const nlKey2 = rsaKeyPair();
const networkKey = ecKeyPair();
const attackerRsa = rsaKeyPair();

let gw: TestGateway;
let trustDir: string;

function writeTrust(issuers: unknown[]): void {
  writeFileSync(path.join(trustDir, 'trust.yaml'), YAML.stringify({ issuers }));
}

const baseIssuers = () => [
  {
    issuer: NL_ISSUER,
    organisations: ['NL'],
    // …and the Netherlands' own units (its implementing organisation), whatever their code.
    unitsOf: ['NL'],
    algorithms: ['RS256'],
    keys: [
      { kid: 'nl-1', pem: nlKey1.publicPem },
      { kid: 'nl-2', pem: nlKey2.publicPem },
    ],
  },
  {
    issuer: NETWORK_ISSUER,
    organisationKinds: ['PARTNER', 'EXPERTS_GROUP', 'NETWORK'],
    algorithms: ['ES256'],
    maxTokenAge: '1h',
    keys: [{ kid: 'net-1', pemFile: 'network.pem' }],
  },
];

beforeAll(async () => {
  trustDir = mkdtempSync(path.join(inject('dataDir'), 'trust-'));
  writeFileSync(path.join(trustDir, 'network.pem'), networkKey.publicPem);
  writeTrust(baseIssuers());
  gw = await startGateway({ env: { ERIN_TRUST: path.join(trustDir, 'trust.yaml') }, trustWatchIntervalMs: 100 });
});
afterAll(async () => {
  await gw?.close();
});

const nlClaims = (extra: Claims = {}): Claims => ({
  iss: NL_ISSUER,
  aud: 'erin-exchange',
  sub: 'caseworker-17',
  org: 'NL',
  roles: ['caseworker'],
  iat: nowSeconds(),
  exp: nowSeconds() + 600,
  ...extra,
});

const partnerClaims = (extra: Claims = {}): Claims => ({
  iss: NETWORK_ISSUER,
  aud: 'erin-exchange',
  sub: 'officer-3',
  org: 'P-AF-HOPE',
  roles: ['partner-officer'],
  iat: nowSeconds(),
  exp: nowSeconds() + 600,
  ...extra,
});

async function me(token: string) {
  return gw.gql<{ me: { subject: string; organisation: { code: string }; roles: string[] } }>(
    '{ me { subject organisation { code } roles } }',
    {},
    { token },
  );
}

async function expectRefused(token: string) {
  const r = await me(token);
  expect(r.status).toBe(401);
  expect(r.errors).toEqual([{ message: 'A valid access token is required.', extensions: { code: 'UNAUTHENTICATED' } }]);
  expect(r.data ?? null).toBeNull();
}

describe('valid tokens (the control group)', () => {
  it('a member-state issuer’s token for its own state is accepted', async () => {
    const r = await me(sign(nlClaims(), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' }));
    expect(r.errors).toBeUndefined();
    expect(r.data?.me).toEqual({ subject: 'caseworker-17', organisation: { code: 'NL' }, roles: ['caseworker'] });
  });

  it('the network issuer’s token for a partner is accepted (one key, kid optional)', async () => {
    const r = await me(sign(partnerClaims(), networkKey.privateKey, { alg: 'ES256' }));
    expect(r.data?.me.organisation.code).toBe('P-AF-HOPE');
  });
});

describe('units of a member state', () => {
  const counsellor = (org: string) => nlClaims({ org, roles: ['return-counsellor'], sub: 'counsellor-1' });

  it('the state’s issuer may assert its own units (unitsOf) and no other state’s', async () => {
    const ok = await me(sign(counsellor('IOM-NL'), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' }));
    expect(ok.data?.me).toEqual({ subject: 'counsellor-1', organisation: { code: 'IOM-NL' }, roles: ['return-counsellor'] });
    await expectRefused(sign(counsellor('IOM-BE'), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' }));
  });

  it('an issuer of other kinds may not assert a unit, and a unit may not hold a member state’s role', async () => {
    await expectRefused(
      sign(partnerClaims({ org: 'IOM-NL', roles: ['return-counsellor'] }), networkKey.privateKey, { alg: 'ES256' }),
    );
    await expectRefused(
      sign(nlClaims({ org: 'IOM-NL', roles: ['coordinator'] }), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' }),
    );
  });
});

describe('forged and wrong tokens', () => {
  const cases: [string, () => string][] = [
    ['signed with the wrong key', () => sign(nlClaims(), attackerRsa.privateKey, { alg: 'RS256', kid: 'nl-1' })],
    ['alg: none', () => unsigned(nlClaims(), 'nl-1')],
    [
      'HS256 signed with the issuer’s public key as secret',
      () => sign(nlClaims(), nlKey1.publicPem, { alg: 'HS256', kid: 'nl-1' }),
    ],
    [
      'expired',
      () =>
        sign(nlClaims({ iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' }),
    ],
    [
      'not yet valid (nbf in the future)',
      () => sign(nlClaims({ nbf: nowSeconds() + 600 }), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' }),
    ],
    ['wrong audience', () => sign(nlClaims({ aud: 'another-api' }), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' })],
    ['unknown issuer', () => sign(nlClaims({ iss: 'https://evil.test' }), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' })],
    ['unknown kid', () => sign(nlClaims(), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-9' })],
    [
      'a critical header parameter the gateway does not understand (crit)',
      () => sign(nlClaims(), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1', extra: { crit: ['exp'] } }),
    ],
    ['no kid while the issuer has two keys', () => sign(nlClaims(), nlKey1.privateKey, { alg: 'RS256' })],
    [
      'a member-state issuer asserting another state',
      () => sign(nlClaims({ org: 'DE' }), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' }),
    ],
    [
      'a member-state issuer asserting a partner',
      () => sign(nlClaims({ org: 'P-AF-HOPE', roles: ['partner-officer'] }), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' }),
    ],
    [
      'the network issuer asserting a member state',
      () => sign(partnerClaims({ org: 'NL', roles: ['coordinator'] }), networkKey.privateKey, { alg: 'ES256' }),
    ],
    [
      'older than the maximum token age',
      () =>
        sign(nlClaims({ iat: nowSeconds() - 13 * 3600, exp: nowSeconds() + 600 }), nlKey1.privateKey, {
          alg: 'RS256',
          kid: 'nl-1',
        }),
    ],
    [
      'older than the issuer’s own maximum age (1h)',
      () =>
        sign(partnerClaims({ iat: nowSeconds() - 2 * 3600, exp: nowSeconds() + 600 }), networkKey.privateKey, { alg: 'ES256' }),
    ],
    [
      'a lifetime longer than the maximum age',
      () => sign(nlClaims({ exp: nowSeconds() + 3 * 86400 }), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' }),
    ],
    ['no exp', () => sign({ ...nlClaims(), exp: undefined }, nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' })],
    ['no iat', () => sign({ ...nlClaims(), iat: undefined }, nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' })],
    [
      'issued in the future',
      () =>
        sign(nlClaims({ iat: nowSeconds() + 3600, exp: nowSeconds() + 4000 }), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' }),
    ],
    [
      'a role the organisation cannot hold',
      () => sign(nlClaims({ roles: ['network-admin'] }), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' }),
    ],
    ['an unknown role', () => sign(nlClaims({ roles: ['root'] }), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' })],
    [
      'an organisation that does not exist',
      () => sign(partnerClaims({ org: 'P-XX-GHOST' }), networkKey.privateKey, { alg: 'ES256' }),
    ],
    ['garbage', () => 'not-a-token'],
    ['three dots of garbage', () => 'a.b.c'],
    ['a truncated valid token', () => sign(nlClaims(), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' }).slice(0, -10)],
    [
      'a valid token with its payload swapped',
      () => {
        const [h, , s] = sign(nlClaims(), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' }).split('.');
        const payload = Buffer.from(JSON.stringify(nlClaims({ roles: ['coordinator'] }))).toString('base64url');
        return `${h}.${payload}.${s}`;
      },
    ],
    ['an RS256 header on an ES256 issuer', () => sign(partnerClaims(), attackerRsa.privateKey, { alg: 'RS256', kid: 'net-1' })],
    ['an enormous token', () => `${'x'.repeat(6000)}.${'y'.repeat(6000)}.z`],
  ];

  it.each(cases)('refuses a token %s, with the same answer as any other refusal', async (_name, make) => {
    await expectRefused(make());
  });

  it('an empty bearer value is refused, not treated as no token', async () => {
    const r = await gw.gql('{ me { subject } }', {}, { headers: { authorization: 'Bearer ' } });
    expect(r.status).toBe(401);
  });

  it('no token at all: UNAUTHENTICATED for every field, while health, readiness and metrics stay open', async () => {
    const r = await gw.gql('{ organisations { code } }');
    expect(r.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
    for (const p of ['/healthz', '/readyz', '/metrics']) expect((await fetch(`${gw.url}${p}`)).status).toBe(200);
  });
});

describe('remembered verifications (a token’s signature is checked once while it is valid)', () => {
  const snapshot = (keys: [string, typeof nlKey1][]): TrustSnapshot => {
    const issuer: TrustedIssuer = {
      issuer: NL_ISSUER,
      organisations: ['NL'],
      organisationKinds: [],
      unitsOf: [],
      algorithms: ['RS256'],
      keys: new Map(keys.map(([kid, k]) => [kid, k.publicKey])),
      maxTokenAgeMs: undefined,
    };
    return { issuers: new Map([[NL_ISSUER, issuer]]), loadedAt: new Date() };
  };
  const at = (now: number): VerifyOptions => ({ audience: 'erin-exchange', maxTokenAgeMs: 3600_000, now });
  const refusal = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      return error instanceof TokenRejected ? error.check : String(error);
    }
    return 'accepted';
  };

  it('an accepted token is refused from its exp on, and from the end of its maximum age on, as a fresh one would be', () => {
    const verify = rememberingVerifier();
    const trust = snapshot([['nl-1', nlKey1]]);
    const iat = nowSeconds();
    const shortLived = sign(nlClaims({ iat, exp: iat + 600 }), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' });
    expect(verify(shortLived, trust, at(iat)).subject).toBe('caseworker-17');
    expect(verify(shortLived, trust, at(iat + 599)).subject).toBe('caseworker-17');
    // Past exp and the clock tolerance: the same refusal as without the memory.
    expect(refusal(() => verify(shortLived, trust, at(iat + 600 + 31)))).toMatch(/TokenExpiredError/);
    const longLived = sign(nlClaims({ iat, exp: iat + 3600 + 20 }), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' });
    expect(verify(longLived, trust, at(iat)).subject).toBe('caseworker-17');
    expect(refusal(() => verify(longLived, trust, at(iat + 3600 + 31)))).not.toBe('accepted');
  });

  it('a retired key’s token is refused from the new trust configuration on, though it was accepted before', () => {
    const verify = rememberingVerifier();
    const token = sign(nlClaims(), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' });
    expect(verify(token, snapshot([['nl-1', nlKey1]]), at(nowSeconds())).organisation).toBe('NL');
    expect(refusal(() => verify(token, snapshot([['nl-2', nlKey2]]), at(nowSeconds())))).toBe('unknown kid');
  });

  it('an accepted token’s payload or signature changed is checked anew and refused', () => {
    const verify = rememberingVerifier();
    const trust = snapshot([['nl-1', nlKey1]]);
    const token = sign(nlClaims(), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' });
    expect(verify(token, trust, at(nowSeconds())).roles).toEqual(['caseworker']);
    const [h, , sig] = token.split('.');
    const payload = Buffer.from(JSON.stringify(nlClaims({ roles: ['coordinator'] }))).toString('base64url');
    expect(refusal(() => verify(`${h}.${payload}.${sig}`, trust, at(nowSeconds())))).toMatch(/invalid signature/);
    const forged = sign(nlClaims(), attackerRsa.privateKey, { alg: 'RS256', kid: 'nl-1' });
    expect(refusal(() => verify(forged, trust, at(nowSeconds())))).toMatch(/invalid signature/);
  });

  it('a token is not accepted from memory before it was valid (a clock set back)', () => {
    const verify = rememberingVerifier();
    const trust = snapshot([['nl-1', nlKey1]]);
    const iat = nowSeconds();
    const token = sign(nlClaims({ iat, exp: iat + 600 }), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' });
    expect(verify(token, trust, at(iat)).subject).toBe('caseworker-17');
    expect(refusal(() => verify(token, trust, at(iat - 120)))).toBe('issued in the future');
  });
});

describe('key rotation without a restart', () => {
  it('a key added to the trust file is accepted, a removed one refused, and a broken file keeps the last good one', async () => {
    const newKey = rsaKeyPair();
    const tokenWithNew = () => sign(nlClaims(), newKey.privateKey, { alg: 'RS256', kid: 'nl-3' });
    const tokenWithOld = () => sign(nlClaims(), nlKey1.privateKey, { alg: 'RS256', kid: 'nl-1' });
    await expectRefused(tokenWithNew());

    const issuers = baseIssuers();
    (issuers[0]!.keys as { kid: string; pem: string }[]).push({ kid: 'nl-3', pem: newKey.publicPem });
    writeTrust(issuers);
    await expect.poll(async () => (await me(tokenWithNew())).status, { timeout: 5000, interval: 100 }).toBe(200);

    // Retire nl-1.
    (issuers[0]!.keys as { kid: string }[]).splice(0, 1);
    writeTrust(issuers);
    await expect.poll(async () => (await me(tokenWithOld())).status, { timeout: 5000, interval: 100 }).toBe(401);
    expect((await me(tokenWithNew())).status).toBe(200);

    // A broken file is ignored: nl-3 keeps working.
    writeFileSync(path.join(trustDir, 'trust.yaml'), 'issuers: [ {{{ not yaml');
    await new Promise((r) => setTimeout(r, 500));
    expect((await me(tokenWithNew())).status).toBe(200);
    expect((await me(tokenWithOld())).status).toBe(401);
  });

  it('reloads when a key file it names changes', async () => {
    writeTrust(baseIssuers());
    const replacement = ecKeyPair();
    const token = () => sign(partnerClaims(), replacement.privateKey, { alg: 'ES256' });
    await expectRefused(token());
    writeFileSync(path.join(trustDir, 'network.pem'), replacement.publicPem);
    await expect.poll(async () => (await me(token())).status, { timeout: 5000, interval: 100 }).toBe(200);
  });
});

describe('production', () => {
  it('drops the development issuer and requires a token for introspection', async () => {
    const prod = await startGateway({
      env: {
        NODE_ENV: 'production',
        ERIN_TRUST: path.join(trustDir, 'trust.yaml'),
        ERIN_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
      },
    });
    try {
      writeTrust(baseIssuers());
      const introspection = await prod.gql('{ __schema { queryType { name } } }');
      expect(introspection.status).toBe(401);
      expect(introspection.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
      // A development token is not trusted in production.
      expect((await prod.gql('{ me { subject } }', {}, { token: prod.token('NL', 'caseworker') })).status).toBe(401);
    } finally {
      await prod.close();
    }
  });

  it('outside production, introspection works without a token but data does not', async () => {
    const r = await gw.gql<{ __schema: { queryType: { name: string } } }>('{ __schema { queryType { name } } }');
    expect(r.data?.__schema.queryType.name).toBe('Query');
  });
});
