// Evaluation extracts and erasure: a case erased (at the returnee's request, or at the end of
// retention) stays for the statistics, which count it among others, but its row — the
// person's age, gender, household, amounts and scores — is in no extract built after it, and a
// file built before it that holds the case is withdrawn at once. A case whose consent no longer
// covers research is not released in a file either.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt, startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow, type CaseView } from './helpers/factories.ts';
import { builtExtract, downloadExtract, type Period } from './helpers/extracts.ts';

let gw: TestGateway;
const clock = clockAt('2026-08-20T09:00:00Z');
const summer: CaseView[] = [];
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
const built = (variables: string[], period?: Period) => builtExtract<Extract>(gw, 'Erasure check', variables, FIELDS, period);
const statusOf = async (id: string) =>
  (
    await gw
      .as('R-EVAL', 'researcher')
      .ok<{ extractRequest: Extract }>(`query ($id: ID!) { extractRequest(id: $id) { ${FIELDS} } }`, { id })
  ).extractRequest;
const reasonOf = (text: string) =>
  (JSON.parse(text) as { errors: { extensions: { reason: string } }[] }).errors[0]!.extensions.reason;
const filesOf = async (extractId: string) => (await gw.raw()).collection('extract_files').countDocuments({ extractId });

beforeAll(async () => {
  gw = await startGateway({ clock });
  // Six Dutch returnees registered in 2026's third quarter, six in its fourth (clients are made
  // after each move of the clock: their tokens are issued on it).
  const third = workflow(gw, 'NL', 'P-AF-HOPE');
  for (let i = 0; i < 6; i += 1) summer.push(await third.refer(await third.create({ arrivedOn: '2026-08-10' })));
  clock.set(new Date('2026-11-30T09:00:00Z'));
  const fourth = workflow(gw, 'NL', 'P-AF-HOPE');
  for (let i = 0; i < 6; i += 1) made.push(await fourth.refer(await fourth.create({ arrivedOn: '2026-03-10' })));
  // Both quarters are over: they can be extracted.
  clock.set(new Date('2027-01-04T09:00:00Z'));
}, 180_000);

afterAll(async () => {
  await gw?.close();
});

describe('erased cases in extracts', () => {
  it('a file holding a case erased since it was built is withdrawn at once, and later extracts leave the case out', async () => {
    const fourthQuarter = { periodFrom: '2026-10', periodTo: '2026-12' };
    const before = await built(['MEMBER_STATE', 'AGE_GROUP'], fourthQuarter);
    expect(before.file!.rows).toBe(6);
    expect((await downloadExtract(gw, before.file!.downloadUrl)).status).toBe(200);

    await gw
      .as('NL', 'coordinator')
      .ok(`mutation ($id: ID!) { eraseCase(caseId: $id, reason: SUBJECT_REQUEST) { id } }`, { id: made[0]!.id });

    // The file built before the erasure: gone at rest and withdrawn, before anyone asks for it.
    expect(await filesOf(before.id)).toBe(0);
    expect((await statusOf(before.id)).status).toBe('WITHDRAWN');
    const refused = await downloadExtract(gw, before.file!.downloadUrl);
    expect(refused.status).toBe(410);
    expect(refused.text).not.toContain('pseudonym');
    expect(reasonOf(refused.text)).toBe('WITHDRAWN');

    // An extract built after it holds no row of the case, nor any row that would tell which
    // one it was: the quarter it was registered in is withheld.
    const after = (await built(['MEMBER_STATE', 'AGE_GROUP'], fourthQuarter)).file!;
    expect(after.rows).toBe(0);
    expect(after.withheld).toEqual([{ memberState: 'NL', quarter: '2026-Q4' }]);
  });

  it('a file is not downloaded once a case in it may no longer be used for research (consent withdrawn)', async () => {
    const thirdQuarter = { periodFrom: '2026-07', periodTo: '2026-09' };
    const extract = await built(['MEMBER_STATE', 'AGE_GROUP'], thirdQuarter);
    expect(extract.file!.rows).toBe(6);
    await gw
      .as('NL', 'coordinator')
      .ok(`mutation ($id: ID!, $v: Int!) { withdrawConsent(id: $id, expectedVersion: $v) { id } }`, {
        id: summer[0]!.id,
        v: summer[0]!.version,
      });
    const refused = await downloadExtract(gw, extract.file!.downloadUrl);
    expect(refused.status).toBe(410);
    expect(reasonOf(refused.text)).toBe('WITHDRAWN');
    expect((await statusOf(extract.id)).status).toBe('WITHDRAWN');
    expect(await filesOf(extract.id)).toBe(0);
  });
});
