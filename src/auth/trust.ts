// The trusted token issuers: read from the file named by ERIN_TRUST (YAML or JSON),
// reloaded when it (or a key file it names) changes and on SIGHUP, so keys rotate
// without a restart. A broken file keeps the last good configuration.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../config.ts';
import type { Logger } from '../logger.ts';
import { ORGANISATION_KINDS, type OrganisationKind } from './principal.ts';
import { DEV_ISSUER, loadDevIssuer } from './dev-issuer.ts';

export const SUPPORTED_ALGORITHMS = ['RS256', 'ES256'] as const;
export type Algorithm = (typeof SUPPORTED_ALGORITHMS)[number];

export type TrustedIssuer = {
  issuer: string;
  /** Organisation codes this issuer may assert. */
  organisations: string[];
  /** Organisation kinds this issuer may assert (any organisation of that kind). */
  organisationKinds: OrganisationKind[];
  /** Member states whose units (MEMBER_STATE_UNIT_KINDS) this issuer may assert, whatever their code. */
  unitsOf: string[];
  algorithms: Algorithm[];
  keys: Map<string, KeyObject>;
  maxTokenAgeMs: number | undefined;
  /** The portal signs people in at this issuer (OpenID Connect discovery from the issuer URL). */
  portal?: PortalSignIn;
};

export type PortalSignIn = {
  /** The portal's client id registered at this provider (a public client using PKCE). */
  clientId: string;
  /** What the portal's sign-in page calls it, e.g. "Netherlands (IND sign-in)". */
  name: string;
  /** Scopes to ask for; the access token must still carry `org` and `roles`. */
  scope: string;
};

export type TrustSnapshot = {
  issuers: Map<string, TrustedIssuer>;
  loadedAt: Date;
};

const keySchema = z
  .object({
    kid: z.string().min(1),
    pem: z.string().optional(),
    pemFile: z.string().optional(),
  })
  .refine((k) => Boolean(k.pem) !== Boolean(k.pemFile), 'give exactly one of pem and pemFile');

const issuerSchema = z
  .object({
    issuer: z.string().min(1),
    organisations: z.array(z.string().regex(/^[A-Z0-9-]{2,32}$/)).default([]),
    organisationKinds: z.array(z.enum(ORGANISATION_KINDS)).default([]),
    unitsOf: z.array(z.string().regex(/^[A-Z]{2}$/)).default([]),
    algorithms: z.array(z.enum(SUPPORTED_ALGORITHMS)).min(1),
    keys: z.array(keySchema).default([]),
    jwksFile: z.string().optional(),
    maxTokenAge: z.string().optional(),
    portal: z
      .object({
        clientId: z.string().min(1).max(200),
        name: z.string().min(1).max(200),
        scope: z
          .string()
          .regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/)
          .default('openid'),
      })
      .optional(),
  })
  .refine((i) => i.keys.length > 0 || i.jwksFile, 'an issuer needs keys or a jwksFile')
  .refine(
    (i) => i.organisations.length > 0 || i.organisationKinds.length > 0 || i.unitsOf.length > 0,
    'an issuer must be allowed to assert something',
  );

const trustFileSchema = z.object({ issuers: z.array(issuerSchema) });

function keyMatchesAlgorithms(key: KeyObject, algorithms: Algorithm[]): boolean {
  return algorithms.some((alg) =>
    alg === 'RS256'
      ? key.asymmetricKeyType === 'rsa'
      : key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1',
  );
}

/** Parses a trust file; throws with every problem listed. Returns the files it read. */
export function parseTrustFile(file: string): { issuers: TrustedIssuer[]; files: string[] } {
  const dir = path.dirname(file);
  const text = readFileSync(file, 'utf8');
  const raw: unknown = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  const parsed = trustFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  const files = [file];
  const issuers = parsed.data.issuers.map((entry) => {
    const keys = new Map<string, KeyObject>();
    for (const k of entry.keys) {
      let pem = k.pem;
      if (!pem) {
        const pemPath = path.resolve(dir, k.pemFile!);
        files.push(pemPath);
        pem = readFileSync(pemPath, 'utf8');
      }
      keys.set(k.kid, createPublicKey(pem));
    }
    if (entry.jwksFile) {
      const jwksPath = path.resolve(dir, entry.jwksFile);
      files.push(jwksPath);
      const jwks = JSON.parse(readFileSync(jwksPath, 'utf8')) as { keys?: { kid?: string }[] };
      for (const jwk of jwks.keys ?? []) {
        if (!jwk.kid) throw new Error(`${entry.issuer}: a JWKS key has no kid`);
        keys.set(jwk.kid, createPublicKey({ key: jwk as never, format: 'jwk' }));
      }
    }
    for (const [kid, key] of keys) {
      if (key.type !== 'public') throw new Error(`${entry.issuer}: key ${kid} is not a public key`);
      if (!keyMatchesAlgorithms(key, entry.algorithms)) {
        throw new Error(`${entry.issuer}: key ${kid} does not fit the algorithms ${entry.algorithms.join(', ')}`);
      }
    }
    return {
      issuer: entry.issuer,
      organisations: entry.organisations,
      organisationKinds: entry.organisationKinds,
      unitsOf: entry.unitsOf,
      algorithms: entry.algorithms,
      keys,
      maxTokenAgeMs: entry.maxTokenAge ? parseDuration(entry.maxTokenAge) : undefined,
      ...(entry.portal ? { portal: entry.portal } : {}),
    } satisfies TrustedIssuer;
  });
  const seen = new Set<string>();
  for (const i of issuers) {
    if (seen.has(i.issuer)) throw new Error(`issuer ${i.issuer} is listed twice`);
    seen.add(i.issuer);
  }
  return { issuers, files };
}

export type TrustStoreOptions = {
  file: string | undefined;
  /** Include the local development issuer (development mode only). */
  includeDevIssuer: boolean;
  /** Refuse a trust file that lists the development issuer (against MONGODB_URI, in production). */
  refuseDevIssuer?: boolean;
  dataDir: string;
  logger: Logger;
  /** Poll interval for file changes (ms). */
  watchIntervalMs?: number;
};

export class TrustStore {
  private snapshot: TrustSnapshot = { issuers: new Map(), loadedAt: new Date(0) };
  private watched: string[] = [];
  private local: TrustedIssuer[] = [];

  constructor(private readonly options: TrustStoreOptions) {}

  get current(): TrustSnapshot {
    return this.snapshot;
  }

  /** Loads the configuration; on failure keeps the last good one. Returns whether it loaded. */
  reload(): boolean {
    const { file, includeDevIssuer, dataDir, logger } = this.options;
    try {
      const issuers = new Map<string, TrustedIssuer>();
      let files: string[] = [];
      if (file) {
        const parsed = parseTrustFile(file);
        files = parsed.files;
        if (this.options.refuseDevIssuer && parsed.issuers.some((i) => i.issuer === DEV_ISSUER)) {
          throw new Error(`the development issuer ${DEV_ISSUER} is never trusted with MONGODB_URI or in production`);
        }
        for (const issuer of parsed.issuers) issuers.set(issuer.issuer, issuer);
      }
      if (includeDevIssuer) {
        for (const dev of [loadDevIssuer(dataDir), ...this.local]) if (!issuers.has(dev.issuer)) issuers.set(dev.issuer, dev);
      }
      this.snapshot = { issuers, loadedAt: new Date() };
      this.watch(files);
      logger.info({ module: 'trust', issuers: [...issuers.keys()] }, 'trusted issuers loaded');
      return true;
    } catch (error) {
      logger.error(
        { module: 'trust', reason: error instanceof Error ? error.message : String(error) },
        'trust configuration not loaded; keeping the last good one',
      );
      if (file && this.watched.length === 0) this.watch([file]);
      return false;
    }
  }

  /** Adds issuers run by this gateway in development mode (the development identity provider). */
  addLocalIssuer(issuer: TrustedIssuer): void {
    this.local = [...this.local.filter((i) => i.issuer !== issuer.issuer), issuer];
    this.reload();
  }

  private watch(files: string[]): void {
    const interval = this.options.watchIntervalMs ?? 1000;
    for (const f of this.watched) if (!files.includes(f)) unwatchFile(f);
    for (const f of files) {
      if (this.watched.includes(f)) continue;
      watchFile(f, { interval, persistent: false }, (curr, prev) => {
        if (curr.mtimeMs !== prev.mtimeMs || curr.size !== prev.size) this.reload();
      });
    }
    this.watched = files;
  }

  close(): void {
    for (const f of this.watched) unwatchFile(f);
    this.watched = [];
  }
}
