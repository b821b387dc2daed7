// Evaluation extracts and erasure: a case erased (at the returnee's request, or at the end of
// retention) stays for the statistics, which count it among others, but its row — the
// person's age, gender, household, amounts and scores — is in no extract built after it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt, startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow, type CaseView } from './helpers/factories.ts';
import { builtExtract } from './helpers/extracts.ts';

let gw: TestGateway;
const clock = clockAt('2026-11-30T09:00:00Z');
const made: CaseView[] = [];

type Extract = { id: string; version: number; file: { rows: number; casesConsidered: number; suppressedRows: number } | null };
const built = (variables: string[]) =>
  builtExtract<Extract>(gw, 'Erasure check', variables, 'id version file { rows casesConsidered suppressedRows }');

beforeAll(async () => {
  gw = await startGateway({ clock });
  const flow = workflow(gw, 'NL', 'P-AF-HOPE');
  for (let i = 0; i < 6; i += 1) made.push(await flow.refer(await flow.create({ arrivedOn: '2026-03-10' })));
}, 180_000);

afterAll(async () => {
  await gw?.close();
});

describe('erased cases in extracts', () => {
  it('a case erased at the returnee’s request is not in an extract built after', async () => {
    expect((await built(['MEMBER_STATE', 'AGE_GROUP'])).file!.casesConsidered).toBe(6);
    await gw
      .as('NL', 'coordinator')
      .ok(`mutation ($id: ID!) { eraseCase(caseId: $id, reason: SUBJECT_REQUEST) { id } }`, { id: made[0]!.id });
    const after = (await built(['MEMBER_STATE', 'AGE_GROUP'])).file!;
    expect(after.casesConsidered).toBe(5);
    expect(after.rows + after.suppressedRows).toBe(5);
  });
});
