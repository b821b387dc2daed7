// The gateway as an operator runs it: `npm start` on an empty data folder starts the
// embedded store, seeds the demo data and serves GraphQL; SIGTERM drains in-flight
// requests, then stops the store and exits cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { mintDevToken } from '../src/auth/dev-issuer.ts';
import { embeddedStoreAvailable } from './helpers/embedded.ts';

let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGKILL');
});

function start(dataDir: string): Promise<{ port: number; child: ChildProcess; logs: string[] }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--dev'], {
    env: { ...process.env, PORT: '0', ERIN_DATA_DIR: dataDir, LOG_LEVEL: 'info', MONGODB_URI: '', NODE_ENV: 'development' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  const logs: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${logs.join('\n')}`)), 90_000);
    proc.on('exit', (code) => reject(new Error(`gateway exited with ${code}:\n${logs.join('\n')}`)));
    createInterface({ input: proc.stderr }).on('line', (line) => logs.push(line));
    createInterface({ input: proc.stdout }).on('line', (line) => {
      logs.push(line);
      const match = /listening on http:\/\/localhost:(\d+)\/graphql/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve({ port: Number(match[1]), child: proc, logs });
      }
    });
  });
}

// `npm start` without MONGODB_URI runs on the embedded store.
describe.skipIf(!embeddedStoreAvailable)('npm start', () => {
  it('serves the seeded demo network on an empty data folder, then drains and stops on SIGTERM', async () => {
    const dataDir = mkdtempSync(path.join(inject('dataDir'), 'main-'));
    const { port, child: gateway, logs } = await start(dataDir);
    // The list index is loaded at the start, not at the first page.
    const deadline = Date.now() + 30_000;
    let loaded: { entries: number } | undefined;
    while (!loaded && Date.now() < deadline) {
      const line = logs.find((l) => l.includes('"msg":"list index loaded"'));
      if (line) loaded = JSON.parse(line) as { entries: number };
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(loaded?.entries).toBeGreaterThan(0);
    const token = mintDevToken({ dataDir, audience: 'erin-exchange', organisation: 'NL', roles: ['caseworker'] });
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: '{ organisations(kind: MEMBER_STATE) { code } cases(first: 100) { edges { node { status } } } }',
      }),
    });
    const body = (await response.json()) as { data: { organisations: unknown[]; cases: { edges: unknown[] } } };
    expect(body.data.organisations).toHaveLength(7);
    expect(body.data.cases.edges.length).toBeGreaterThan(0);
    // Tokens and personal data never reach the log.
    expect(logs.join('\n')).not.toContain(token);

    // A request in flight when SIGTERM arrives is still answered.
    const query = JSON.stringify({ query: '{ organisations { code } }' });
    const inFlight = new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/graphql',
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(query),
            authorization: `Bearer ${token}`,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.write(query.slice(0, 10));
      setTimeout(() => {
        gateway.kill('SIGTERM');
        setTimeout(() => req.end(query.slice(10)), 300);
      }, 200);
    });
    expect(await inFlight).toBe(200);
    const exitCode = await new Promise<number | null>((resolve) => gateway.on('exit', (code) => resolve(code)));
    expect(exitCode).toBe(0);
    expect(logs.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
  }, 120_000);
});
