// Evaluation extracts and erasure: a case erased (at the returnee's request, or at the end of
// retention) stays for the statistics, which count it among others, but its row — the
// person's age, gender, household, amounts and scores — is in no extract built after it, and a
// file built before it that holds the case can no longer be downloaded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt, startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow, type CaseView } from './helpers/factories.ts';
import { builtExtract, downloadExtract } from './helpers/extracts.ts';

let gw: TestGateway;
const clock = clockAt('2026-11-30T09:00:00Z');
const made: CaseView[] = [];

type Extract = {
  id: string;
  version: number;
  status: string;
  file: {
    rows: number;
    casesConsidered: number;
    downloadUrl: string;
    withheld: { memberState: string; quarter: string }[];
  } | null;
};
const FIELDS = 'id version status file { rows casesConsidered downloadUrl withheld { memberState quarter } }';
const built = (variables: string[]) => builtExtract<Extract>(gw, 'Erasure check', variables, FIELDS);
const statusOf = async (id: string) =>
  (
    await gw
      .as('R-EVAL', 'researcher')
      .ok<{ extractRequest: Extract }>(`query ($id: ID!) { extractRequest(id: $id) { ${FIELDS} } }`, { id })
  ).extractRequest;

beforeAll(async () => {
  gw = await startGateway({ clock });
  const flow = workflow(gw, 'NL', 'P-AF-HOPE');
  for (let i = 0; i < 6; i += 1) made.push(await flow.refer(await flow.create({ arrivedOn: '2026-03-10' })));
  // The quarter of their registration is over: it can be extracted.
  clock.set(new Date('2027-01-04T09:00:00Z'));
}, 180_000);

afterAll(async () => {
  await gw?.close();
});

describe('erased cases in extracts', () => {
  it('a file holding a case erased since it was built is withdrawn, and later extracts leave the case out', async () => {
    const before = await built(['MEMBER_STATE', 'AGE_GROUP']);
    expect(before.file!.rows).toBe(6);
    expect((await downloadExtract(gw, before.file!.downloadUrl)).status).toBe(200);

    await gw
      .as('NL', 'coordinator')
      .ok(`mutation ($id: ID!) { eraseCase(caseId: $id, reason: SUBJECT_REQUEST) { id } }`, { id: made[0]!.id });

    // The file built before the erasure: gone, with a clear answer, and not kept at rest.
    const refused = await downloadExtract(gw, before.file!.downloadUrl);
    expect(refused.status).toBe(410);
    expect(refused.text).not.toContain('pseudonym');
    expect((JSON.parse(refused.text) as { errors: { extensions: { reason: string } }[] }).errors[0]!.extensions.reason).toBe(
      'WITHDRAWN',
    );
    expect((await statusOf(before.id)).status).toBe('WITHDRAWN');
    expect(await (await gw.raw()).collection('extract_files').countDocuments({ extractId: before.id })).toBe(0);

    // An extract built after it holds no row of the case, nor any row that would tell which
    // one it was: the quarter it was registered in is withheld.
    const after = (await built(['MEMBER_STATE', 'AGE_GROUP'])).file!;
    expect(after.rows).toBe(0);
    expect(after.withheld).toEqual([{ memberState: 'NL', quarter: '2026-Q4' }]);
  });
});
