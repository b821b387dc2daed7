// The tenant scope on tenant-owned models: every kind of query without a scope is an
// error, never an unfiltered read; with a scope, the store only ever sees filtered queries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from 'mongoose';
import { contractScope } from '../src/auth/policy.ts';
import type { Principal } from '../src/auth/principal.ts';
import type { ContractDoc } from '../src/modules/organisations/organisation.model.ts';
import { contractSchema } from '../src/modules/organisations/organisation.model.ts';
import { SYSTEM, UnscopedQueryError } from '../src/store/tenant.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let Contracts: Model<ContractDoc>;
const sweden: Principal = {
  subject: 's',
  issuer: 'test',
  organisation: { code: 'SE', kind: 'MEMBER_STATE', name: 'Sweden' },
  roles: ['caseworker'],
};

beforeAll(async () => {
  gw = await startGateway();
  Contracts = gw.store.model<ContractDoc>('Contract', contractSchema);
});
afterAll(async () => {
  await gw?.close();
});

describe('a tenant-owned model refuses unscoped queries', () => {
  const attempts: [string, () => Promise<unknown>][] = [
    ['find', () => Contracts.find({}).lean()],
    ['findOne', () => Contracts.findOne({ _id: 'NL-AF-2026' }).lean()],
    ['countDocuments', () => Contracts.countDocuments({})],
    ['estimatedDocumentCount', () => Contracts.estimatedDocumentCount()],
    ['distinct', () => Contracts.distinct('partner')],
    ['updateOne', () => Contracts.updateOne({ _id: 'NL-AF-2026' }, { $set: { endReason: 'x' } })],
    ['updateMany', () => Contracts.updateMany({}, { $set: { endReason: 'x' } })],
    ['deleteOne', () => Contracts.deleteOne({ _id: 'NL-AF-2026' })],
    ['deleteMany', () => Contracts.deleteMany({})],
    ['findOneAndUpdate', () => Contracts.findOneAndUpdate({ _id: 'NL-AF-2026' }, { $set: { endReason: 'x' } })],
    ['aggregate', () => Contracts.aggregate([{ $group: { _id: '$partner', n: { $sum: 1 } } }]).exec()],
  ];

  it.each(attempts)('%s without a scope throws before reaching the store', async (_name, attempt) => {
    const before = gw.store.recorder.count;
    await expect(attempt()).rejects.toBeInstanceOf(UnscopedQueryError);
    expect(gw.store.recorder.count).toBe(before);
  });

  it('nothing was changed by the refused writes', async () => {
    const all = await Contracts.find({}).setOptions({ scope: SYSTEM }).lean();
    expect(all.length).toBe(18);
    expect(all.every((c) => c.endReason === null)).toBe(true);
  });
});

describe('a scoped query is filtered by the policy', () => {
  it('find, count, distinct and aggregate see only the scope’s records', async () => {
    const scope = contractScope(sweden);
    const found = await Contracts.find({}).setOptions({ scope }).lean();
    expect(found.map((c) => c._id).sort()).toEqual(['SE-AF-2026', 'SE-ET-2026']);
    expect(await Contracts.countDocuments({}).setOptions({ scope })).toBe(2);
    expect((await Contracts.distinct('partner').setOptions({ scope })).sort()).toEqual(['P-AF-HOPE', 'P-ET-HORN']);
    const grouped = await Contracts.aggregate<{ _id: string; n: number }>([
      { $group: { _id: '$memberState', n: { $sum: 1 } } },
    ]).option({ scope });
    expect(grouped).toEqual([{ _id: 'SE', n: 2 }]);
  });

  it('asking for another tenant’s record by id finds nothing', async () => {
    expect(
      await Contracts.findOne({ _id: 'NL-AF-2026' })
        .setOptions({ scope: contractScope(sweden) })
        .lean(),
    ).toBeNull();
    const result = await Contracts.updateOne({ _id: 'NL-AF-2026' }, { $set: { endReason: 'hijacked' } }).setOptions({
      scope: contractScope(sweden),
    });
    expect(result.matchedCount).toBe(0);
  });

  it('a filter value carrying an operator is not obeyed (sanitizeFilter)', async () => {
    const injected = { $ne: 'nobody' } as unknown as string;
    // Wrapped in $eq by sanitizeFilter, it no longer is an operator: the cast refuses it.
    await expect(Contracts.find({ partner: injected }).setOptions({ scope: SYSTEM }).lean()).rejects.toThrow(
      /Cast to string failed/,
    );
  });
});
