// An evaluation extract taken through its whole path, as the research body and a member
// state's data protection officer take it (shared by the extract test files).
import type { TestGateway } from './gateway.ts';

type Extract = { id: string; version: number };

/**
 * An extract of NL's cases in 2026 of `variables`, requested by R-EVAL, approved by NL's
 * data protection officer and built: the built extract with `fields` (which include `id version`).
 */
export async function builtExtract<T extends Extract>(
  gw: TestGateway,
  purpose: string,
  variables: string[],
  fields: string,
): Promise<T> {
  const researcher = gw.as('R-EVAL', 'researcher');
  const { requestExtract } = await researcher.ok<{ requestExtract: T }>(
    `mutation ($input: ExtractRequestInput!) { requestExtract(input: $input) { ${fields} } }`,
    { input: { purpose, variables, periodFrom: '2026-01', periodTo: '2026-12', memberStates: ['NL'] } },
  );
  const { decideExtract } = await gw
    .as('NL', 'data-protection-officer')
    .ok<{ decideExtract: T }>(
      `mutation ($id: ID!, $v: Int!) { decideExtract(id: $id, decision: APPROVE, expectedVersion: $v) { ${fields} } }`,
      { id: requestExtract.id, v: requestExtract.version },
    );
  const { buildExtract } = await researcher.ok<{ buildExtract: T }>(
    `mutation ($id: ID!, $v: Int!) { buildExtract(id: $id, expectedVersion: $v) { ${fields} } }`,
    { id: decideExtract.id, v: decideExtract.version },
  );
  return buildExtract;
}

/** Such an extract's file as R-EVAL downloads it: its header and rows. */
export async function extractCsv(gw: TestGateway, purpose: string, variables: string[]) {
  const built = await builtExtract<Extract & { file: { downloadUrl: string } | null }>(
    gw,
    purpose,
    variables,
    'id version file { downloadUrl }',
  );
  const response = await fetch(`${gw.url}${built.file!.downloadUrl}`, {
    headers: { authorization: `Bearer ${gw.as('R-EVAL', 'researcher').token}` },
  });
  if (response.status !== 200) throw new Error(`extract download answered ${response.status}`);
  const [header, ...rows] = (await response.text())
    .split('\r\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split(','));
  return { header: header!, rows };
}
