// The `erin` command as an operator runs it: a separate process, against the real store.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import mongoose from 'mongoose';
import { readDemoNetwork } from '../src/seed/demo.ts';
import { withDatabase } from '../src/store/uri.ts';
import { describe, expect, inject, it } from 'vitest';
import { uniqueDbName } from './helpers/gateway.ts';

const run = promisify(execFile);
const ERIN = path.resolve('bin/erin.js');

function erin(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, [ERIN, ...args], {
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    timeout: 120_000,
  });
}

describe('erin CLI', () => {
  it('prints help for itself and for each command', async () => {
    const top = await erin(['--help']);
    for (const command of ['token', 'seed', 'audit', 'stats', 'store']) expect(top.stdout).toContain(command);
    for (const command of ['token', 'seed', 'audit', 'stats']) {
      const help = await erin([command, '--help']);
      expect(help.stdout).toMatch(/^Usage: erin /);
    }
  }, 60_000);

  it('mints a development token with the organisation, roles, subject and lifetime asked for', async () => {
    const dataDir = mkdtempSync(path.join(inject('dataDir'), 'cli-'));
    const { stdout } = await erin(
      ['token', '--org', 'NL', '--role', 'caseworker', 'coordinator', '--ttl', '15m', '--sub', 'alice'],
      {
        ERIN_DATA_DIR: dataDir,
      },
    );
    const claims = jwt.decode(stdout.trim(), { complete: true });
    expect(claims?.header).toMatchObject({ alg: 'ES256', kid: 'dev-1' });
    expect(claims?.payload).toMatchObject({
      org: 'NL',
      roles: ['caseworker', 'coordinator'],
      sub: 'alice',
      aud: 'erin-exchange',
    });
    const payload = claims?.payload as { exp: number; iat: number };
    expect(payload.exp - payload.iat).toBe(900);
  });

  it('refuses an unknown role', async () => {
    const dataDir = mkdtempSync(path.join(inject('dataDir'), 'cli-'));
    await expect(erin(['token', '--org', 'NL', '--role', 'king'], { ERIN_DATA_DIR: dataDir })).rejects.toMatchObject({
      stderr: expect.stringContaining('unknown role'),
    });
  });

  it('seed --demo is idempotent: the second run creates nothing', async () => {
    const env = {
      MONGODB_URI: withDatabase(inject('mongoUri'), uniqueDbName('cli')),
      ERIN_DATA_DIR: mkdtempSync(path.join(inject('dataDir'), 'cli-')),
    };
    // As many as the demo network's file declares (it grows as the network does).
    const network = readDemoNetwork();
    const first = await erin(['seed', '--demo'], env);
    expect(first.stdout).toMatch(new RegExp(`created: .*\\b${network.organisations.length} organisations`));
    expect(first.stdout).toMatch(new RegExp(`\\b${network.contracts.length} contracts`));
    const second = await erin(['seed', '--demo'], env);
    expect(second.stdout).toMatch(/^created: nothing$/m);
    expect(second.stdout).toMatch(new RegExp(`already there: .*\\b${network.organisations.length} organisations`));
    const audit = await erin(['audit', 'verify'], env);
    expect(audit.stdout).toMatch(/^ok: \d+ events, chain intact/);
  }, 120_000);

  it('seed --programmes loads the programmes only, and gives a store from before memberStates its national programmes’ state', async () => {
    const dbName = uniqueDbName('cli');
    const env = {
      MONGODB_URI: withDatabase(inject('mongoUri'), dbName),
      ERIN_DATA_DIR: mkdtempSync(path.join(inject('dataDir'), 'cli-')),
    };
    const first = await erin(['seed', '--programmes'], env);
    expect(first.stdout).toBe('created: 5 programmes\nalready there: nothing\n');
    const connection = await mongoose.createConnection(inject('mongoUri'), { dbName }).asPromise();
    try {
      const db = connection.db!;
      expect(await db.collection('organisations').countDocuments()).toBe(0);
      expect(await db.collection('cases').countDocuments()).toBe(0);
      // The programmes as an earlier version stored them: no member states (open to every state).
      await db.collection('programmes').updateMany({}, { $unset: { memberStates: '' } });
      const upgrade = await erin(['seed', '--programmes'], env);
      expect(upgrade.stdout).toBe('created: 3 programmes\nalready there: 2 programmes\n');
      const stored = await db.collection('programmes').find({}).sort({ _id: 1 }).toArray();
      expect(Object.fromEntries(stored.map((p) => [p._id, p.memberStates as unknown]))).toEqual({
        'EURP-NONVOL': undefined,
        'EURP-VOL': undefined,
        'NL-AVRR': ['NL'],
        'NL-HRT': ['NL'],
        'NL-REAN': ['NL'],
      });
      expect((await erin(['seed', '--programmes'], env)).stdout).toMatch(/^created: nothing$/m);
      expect((await erin(['audit', 'verify'], env)).stdout).toMatch(/^ok: \d+ events, chain intact/);
    } finally {
      await connection.close();
    }
  }, 120_000);

  it('store migrate builds the collections and indexes a store lacks, reports each, then has nothing to build', async () => {
    const dbName = uniqueDbName('cli');
    const env = {
      MONGODB_URI: withDatabase(inject('mongoUri'), dbName),
      ERIN_DATA_DIR: mkdtempSync(path.join(inject('dataDir'), 'cli-')),
    };
    const first = await erin(['store', 'migrate'], env);
    const created = [...first.stdout.matchAll(/^created (\w+)\.(\S+)$/gm)].map((m) => [m[1]!, m[2]!] as const);
    expect(created.map(([collection, index]) => `${collection}.${index}`)).toEqual(
      expect.arrayContaining(['cases.reference_1', 'events.requestKey_1']),
    );
    expect(first.stdout).toMatch(
      new RegExp(`^built ${created.length} indexes \\(0 present already\\), \\d+ new collections$`, 'm'),
    );
    // They are in the store, as reported.
    const connection = await mongoose.createConnection(inject('mongoUri'), { dbName }).asPromise();
    try {
      const stored = await connection.db!.collection('cases').listIndexes().toArray();
      expect(stored.map((i) => i.name)).toEqual(
        expect.arrayContaining(created.filter(([collection]) => collection === 'cases').map(([, index]) => index)),
      );
      const second = await erin(['store', 'migrate'], env);
      expect(second.stdout).toBe(`up to date: all ${created.length} declared indexes present\n`);
    } finally {
      await connection.dropDatabase();
      await connection.close();
    }
  }, 120_000);
});
