// The local development issuer: an ES256 key pair generated on first use into the data
// folder (never committed). In development mode (ERIN_DEV_MODE, `--dev`) it is trusted and may
// assert any organisation, which is what `npx erin token` and the tests rely on.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { ORGANISATION_KINDS } from './principal.ts';
import type { TrustedIssuer } from './trust.ts';

export const DEV_ISSUER = 'urn:erin:dev-issuer';
export const DEV_KID = 'dev-1';

function keyPaths(dataDir: string) {
  const dir = path.join(dataDir, 'dev-issuer');
  return { dir, privateKey: path.join(dir, 'private.pem'), publicKey: path.join(dir, 'public.pem') };
}

function ensureKeys(dataDir: string): { privateKey: KeyObject; publicKey: KeyObject } {
  const files = keyPaths(dataDir);
  if (!existsSync(files.privateKey)) {
    mkdirSync(files.dir, { recursive: true, mode: 0o700 });
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    try {
      writeFileSync(files.privateKey, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; // another process made it first
    }
  }
  const privateKey = createPrivateKey(readFileSync(files.privateKey, 'utf8'));
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** A development issuer's trust entry: one ES256 key, and any organisation of any kind it asserts. */
export function developmentTrust(issuer: string, kid: string, publicKey: KeyObject): TrustedIssuer {
  return {
    issuer,
    organisations: [],
    organisationKinds: [...ORGANISATION_KINDS],
    unitsOf: [],
    algorithms: ['ES256'],
    keys: new Map([[kid, publicKey]]),
    maxTokenAgeMs: undefined,
  };
}

export function loadDevIssuer(dataDir: string): TrustedIssuer {
  return developmentTrust(DEV_ISSUER, DEV_KID, ensureKeys(dataDir).publicKey);
}

export type MintOptions = {
  dataDir: string;
  audience: string;
  organisation: string;
  roles: string[];
  subject?: string;
  ttlSeconds?: number;
  /** Seconds since the epoch to issue at (tests place tokens in time). */
  issuedAt?: number;
};

/** Signs a token with the development issuer's key. */
export function mintDevToken(options: MintOptions): string {
  const { privateKey } = ensureKeys(options.dataDir);
  const iat = options.issuedAt ?? Math.floor(Date.now() / 1000);
  return jwt.sign({ org: options.organisation, roles: options.roles, iat }, privateKey, {
    algorithm: 'ES256',
    keyid: DEV_KID,
    issuer: DEV_ISSUER,
    audience: options.audience,
    subject: options.subject ?? `dev-${options.roles[0] ?? 'user'}@${options.organisation}`,
    expiresIn: options.ttlSeconds ?? 3600,
  });
}
