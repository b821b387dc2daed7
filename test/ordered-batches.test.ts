// Ordered inserts stop at their first refusal on both stores. MongoDB does; FerretDB inserts
// a hundred documents at a time and, after a duplicate, still goes on with the next hundred.
// So a block of claims (case references of a bulk import, events of a page of audited reads)
// with one number already taken in its middle must come out the same on both: the numbers
// before it ours, the taken one left to its owner, the rest claimed after it, none twice,
// none orphaned, the chain of events unbroken.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventDraft } from '../src/events/event.model.ts';
import { eventDocumentId } from '../src/events/log.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

describe('ordered batches', () => {
  it('a block of 250 case references with one taken in the middle claims each of the others once', async () => {
    const db = await gw.raw();
    const references = db.collection<{ _id: string; caseId: string }>('case_references');
    await references.findOne({}); // the connection is open before the race below
    // Another gateway takes number 150 of this register just after this one has read the
    // newest number taken (none) and before its block of 250 gets there.
    const client = gw.store.connection.getClient();
    const readingNewest = new Set<number>();
    let squatter: Promise<unknown> | undefined;
    const started = (event: { requestId: number; commandName: string; command: Record<string, unknown> }) => {
      if (event.commandName === 'find' && event.command.find === 'case_references') readingNewest.add(event.requestId);
    };
    const succeeded = (event: { requestId: number }) => {
      if (!readingNewest.has(event.requestId) || squatter) return;
      squatter = references.insertOne({ _id: 'NL-2031-000150', caseId: 'someone-else', at: new Date() } as never);
    };
    client.on('commandStarted', started);
    client.on('commandSucceeded', succeeded);
    const caseIds = Array.from({ length: 250 }, () => randomUUID());

    const claimed = await gw.services.caseStore.claimReferenceBlock('NL', 2031, caseIds);
    client.off('commandStarted', started);
    client.off('commandSucceeded', succeeded);
    await squatter;

    expect(claimed).toHaveLength(250);
    expect(new Set(claimed).size).toBe(250);
    expect(claimed).not.toContain('NL-2031-000150');
    const stored = await references.find({ _id: { $regex: '^NL-2031-' } }).toArray();
    const owner = new Map(stored.map((r) => [r._id, r.caseId]));
    expect(owner.get('NL-2031-000150')).toBe('someone-else');
    // Each returned reference is stored for the case it was returned for, and nothing else is stored.
    claimed.forEach((reference, i) => expect(owner.get(reference), reference).toBe(caseIds[i]));
    expect(stored).toHaveLength(251);
    // The numbers before the taken one are the first 149 cases', in order.
    expect(claimed.slice(0, 149)).toEqual(Array.from({ length: 149 }, (_, i) => `NL-2031-${String(i + 1).padStart(6, '0')}`));
  });

  it('a batch of 250 events with one sequence number taken in the middle is appended whole, the chain unbroken', async () => {
    const log = gw.services.log;
    const head = await log.lastSeq();
    const db = await gw.raw();
    // Another gateway's event at head + 150.
    const foreign = {
      _id: eventDocumentId(head + 150),
      aggregateType: 'test',
      aggregateId: randomUUID(),
      version: 1,
      type: 'ForeignAppend',
      at: new Date(),
      actor: { subject: 'other', organisation: 'NL', roles: [] },
      audience: ['NL'],
      data: {},
      changes: [],
      idempotencyKey: null,
      requestHash: null,
      requestKey: `#${eventDocumentId(head + 150)}`,
      caseId: null,
      prevHash: 'e'.repeat(64),
      hash: 'f'.repeat(64),
    };
    await db.collection('events').insertOne(foreign as never);
    const drafts: EventDraft[] = Array.from({ length: 250 }, (_, i) => ({
      aggregateType: 'test',
      aggregateId: randomUUID(),
      version: 1,
      type: 'BatchRead',
      actor: { subject: 'reader', organisation: 'NL', roles: [] },
      audience: ['NL'],
      data: { i },
      changes: [],
      idempotencyKey: null,
    }));

    const appended = await log.appendMany(drafts);

    expect(appended.map((e) => e.data.i)).toEqual(drafts.map((d) => d.data.i));
    const stored = await db
      .collection<{ _id: string; hash: string; prevHash: string; data: { i?: number } }>('events')
      .find({ type: { $in: ['BatchRead', 'ForeignAppend'] } })
      .toArray();
    const ours = stored.filter((e) => e._id !== foreign._id);
    // Each draft is in the log once, where appendMany said it is.
    expect(ours.map((e) => e.data.i).sort((a, b) => a! - b!)).toEqual(drafts.map((_, i) => i));
    expect(new Set(ours.map((e) => e._id))).toEqual(new Set(appended.map((e) => eventDocumentId(e._id))));
    expect(appended.map((e) => e._id)).not.toContain(head + 150);
    // Each of ours links to the event before it in the log, the foreign one included.
    const bySeq = new Map(stored.map((e) => [Number(e._id), e]));
    for (const event of appended) {
      const before = event._id === head + 1 ? undefined : bySeq.get(event._id - 1);
      if (before) expect(event.prevHash, `event ${event._id}`).toBe(before.hash);
    }
  });
});
