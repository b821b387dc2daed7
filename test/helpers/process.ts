// The gateway as an operator runs it: `src/main.ts` in its own process, against the test
// store (MONGODB_URI) or the embedded one, for the start-up refusals and the fault tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { inject } from 'vitest';
import { withDatabase } from '../../src/store/uri.ts';
import { ecKeyPair, nowSeconds, sign, type KeyPair } from './keys.ts';

export type GatewayProcess = {
  child: ChildProcess;
  port: number;
  url: string;
  logs: string[];
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
};

export type Outcome = { kind: 'listening'; gateway: GatewayProcess } | { kind: 'exited'; code: number | null; logs: string[] };

const children = new Set<ChildProcess>();

/** Kills whatever a test left running (afterAll). */
export function killAll(): void {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  children.clear();
}

/** Starts `src/main.ts` with this environment; resolves when it listens or when it exits first. */
export function runGateway(env: Record<string, string>, args: string[] = [], timeoutMs = 150_000): Promise<Outcome> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', MONGODB_URI: '', NODE_ENV: 'development', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway neither started nor exited:\n${logs.join('\n')}`)), timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      resolve({ kind: 'exited', code, logs });
    });
    createInterface({ input: child.stderr }).on('line', (line) => logs.push(line));
    createInterface({ input: child.stdout }).on('line', (line) => {
      logs.push(line);
      const match = /listening on http:\/\/localhost:(\d+)\/graphql/.exec(line);
      if (match) {
        clearTimeout(timer);
        const port = Number(match[1]);
        resolve({ kind: 'listening', gateway: { child, port, url: `http://127.0.0.1:${port}`, logs, exited } });
      }
    });
  });
}

/** Starts the gateway and fails unless it listens. */
export async function startGatewayProcess(env: Record<string, string>, args: string[] = []): Promise<GatewayProcess> {
  const outcome = await runGateway(env, args);
  if (outcome.kind !== 'listening') throw new Error(`gateway exited with ${outcome.code}:\n${outcome.logs.join('\n')}`);
  return outcome.gateway;
}

export const TEST_ISSUER = 'https://idp.erin-test.example';

/**
 * A production-like setting for a gateway on the test store: its own database, an encryption
 * key, and a trust file with one test issuer (no development issuer). `token` signs for it.
 */
export function productionLike(dbName: string, options: { extraIssuers?: unknown[] } = {}) {
  const dir = mkdtempSync(path.join(inject('dataDir'), 'prod-'));
  const key: KeyPair = ecKeyPair();
  const trustFile = path.join(dir, 'trust.json');
  writeFileSync(
    trustFile,
    JSON.stringify({
      issuers: [
        {
          issuer: TEST_ISSUER,
          organisationKinds: ['MEMBER_STATE', 'PARTNER', 'NETWORK'],
          algorithms: ['ES256'],
          keys: [{ kid: 'k1', pem: key.publicPem }],
        },
        ...(options.extraIssuers ?? []),
      ],
    }),
  );
  const env = {
    MONGODB_URI: withDatabase(inject('mongoUri'), dbName),
    ERIN_DATA_DIR: dir,
    ERIN_TRUST: trustFile,
    ERIN_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
    ERIN_SEED_DEMO: 'never',
    ERIN_RATE_LIMIT: '1000000',
  };
  const token = (organisation: string, roles: string[], subject = `test-${roles[0]}@${organisation}`) =>
    sign(
      {
        iss: TEST_ISSUER,
        aud: 'erin-exchange',
        sub: subject,
        org: organisation,
        roles,
        iat: nowSeconds(),
        exp: nowSeconds() + 3600,
      },
      key.privateKey,
      { alg: 'ES256', kid: 'k1' },
    );
  return { dir, env, trustFile, key, token };
}
