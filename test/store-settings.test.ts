// What the gateway asks of a MongoDB replica set, read off the wire (the embedded store
// accepts these options and ignores them, so the commands are the evidence): writes
// acknowledged by a majority and journaled with a time limit, the feed's reads of the log
// at majority read concern, a time limit on every query.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { DEFAULT_STORE_SETTINGS } from '../src/config.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow } from './helpers/factories.ts';

type Sent = { name: string; command: Record<string, unknown> };

let gw: TestGateway;
const sent: Sent[] = [];
beforeAll(async () => {
  gw = await startGateway();
  gw.store.connection.getClient().on('commandStarted', (event) => sent.push({ name: event.commandName, command: event.command }));
});
afterAll(async () => {
  await gw?.close();
});

const on = (collection: string, name: string) => sent.filter((s) => s.name === name && s.command[name] === collection);

describe('store settings', () => {
  it('defaults to majority and journaled writes with a timeout, primary reads, majority feed reads', () => {
    expect(loadConfig({}).store).toEqual({
      writeConcern: 'majority',
      journal: true,
      writeTimeoutMs: 10_000,
      readPreference: 'primary',
      feedReadConcern: 'majority',
      maxTimeMs: 30_000,
      indexBuildTimeoutMs: 120_000,
      projectionGraceMs: 30_000,
    });
    expect(loadConfig({}).store).toEqual(DEFAULT_STORE_SETTINGS);
    expect(
      loadConfig({
        ERIN_STORE_WRITE_CONCERN: '2',
        ERIN_STORE_JOURNAL: 'false',
        ERIN_STORE_WRITE_TIMEOUT: '5s',
        ERIN_STORE_READ_PREFERENCE: 'primaryPreferred',
        ERIN_STORE_FEED_READ_CONCERN: 'local',
        ERIN_STORE_MAX_TIME: '2s',
        ERIN_STORE_INDEX_TIMEOUT: '10m',
        ERIN_STORE_PROJECTION_GRACE: '5s',
      }).store,
    ).toEqual({
      writeConcern: 2,
      journal: false,
      writeTimeoutMs: 5000,
      readPreference: 'primaryPreferred',
      feedReadConcern: 'local',
      maxTimeMs: 2000,
      indexBuildTimeoutMs: 600_000,
      projectionGraceMs: 5000,
    });
    expect(() => loadConfig({ ERIN_STORE_WRITE_CONCERN: '0' })).toThrow(/ERIN_STORE_WRITE_CONCERN/);
    expect(() => loadConfig({ ERIN_STORE_FEED_READ_CONCERN: 'available' })).toThrow(/ERIN_STORE_FEED_READ_CONCERN/);
  });

  it('a committed write is acknowledged by a majority, journaled, within the write timeout', async () => {
    await workflow(gw).create();
    const inserts = on('events', 'insert');
    expect(inserts.length).toBeGreaterThan(0);
    for (const insert of inserts) expect(insert.command.writeConcern).toEqual({ w: 'majority', j: true, wtimeout: 10_000 });
    // The projection too: a case a client was told about survives a failover.
    for (const write of [...on('cases', 'insert'), ...on('cases', 'update')]) {
      expect(write.command.writeConcern).toMatchObject({ w: 'majority', j: true });
    }
  });

  it('the change feed reads the log at majority read concern, and every query carries a time limit', async () => {
    const before = sent.length;
    const nl = gw.as('NL', 'caseworker');
    await nl.ok('query { changes(first: 10) { changes { cursor } endCursor } }');
    const feedReads = sent.slice(before).filter((s) => s.name === 'find' && s.command.find === 'events');
    expect(feedReads.length).toBeGreaterThan(0);
    for (const read of feedReads) expect(read.command.readConcern).toEqual({ level: 'majority' });
    const queries = sent.filter((s) => ['find', 'aggregate', 'count', 'distinct', 'findAndModify'].includes(s.name));
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) expect(query.command.maxTimeMS, JSON.stringify(query.command)).toBe(30_000);
  });
});
