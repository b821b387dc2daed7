// An evaluation extract taken through its whole path, as the research body and a member
// state's data protection officer take it (shared by the extract test files).
import type { TestGateway } from './gateway.ts';

type Extract = { id: string; version: number };

/** The months an extract asks for (whole quarters), 2026 by default. */
export type Period = { periodFrom: string; periodTo: string };
const YEAR_2026: Period = { periodFrom: '2026-01', periodTo: '2026-12' };

/**
 * An extract of NL's cases in `period` (2026 by default) of `variables`, requested by R-EVAL
 * and approved by NL's data protection officer: the approved extract with `fields` (which
 * include `id version`).
 */
export async function approvedExtract<T extends Extract>(
  gw: TestGateway,
  purpose: string,
  variables: string[],
  fields: string,
  period: Period = YEAR_2026,
): Promise<T> {
  const { requestExtract } = await gw
    .as('R-EVAL', 'researcher')
    .ok<{ requestExtract: T }>(`mutation ($input: ExtractRequestInput!) { requestExtract(input: $input) { ${fields} } }`, {
      input: { purpose, variables, ...period, memberStates: ['NL'] },
    });
  const { decideExtract } = await gw
    .as('NL', 'data-protection-officer')
    .ok<{ decideExtract: T }>(
      `mutation ($id: ID!, $v: Int!) { decideExtract(id: $id, decision: APPROVE, expectedVersion: $v) { ${fields} } }`,
      { id: requestExtract.id, v: requestExtract.version },
    );
  return decideExtract;
}

/** approvedExtract, then built by R-EVAL: the built extract with `fields`. */
export async function builtExtract<T extends Extract>(
  gw: TestGateway,
  purpose: string,
  variables: string[],
  fields: string,
  period: Period = YEAR_2026,
): Promise<T> {
  const approved = await approvedExtract<T>(gw, purpose, variables, fields, period);
  const { buildExtract } = await gw
    .as('R-EVAL', 'researcher')
    .ok<{ buildExtract: T }>(`mutation ($id: ID!, $v: Int!) { buildExtract(id: $id, expectedVersion: $v) { ${fields} } }`, {
      id: approved.id,
      v: approved.version,
    });
  return buildExtract;
}

/** A built extract's CSV as R-EVAL downloads it (the status, and the text when 200). */
export async function downloadExtract(gw: TestGateway, url: string) {
  const response = await fetch(`${gw.url}${url}`, {
    headers: { authorization: `Bearer ${gw.as('R-EVAL', 'researcher').token}` },
  });
  return { status: response.status, text: await response.text() };
}

/** Such an extract's file as R-EVAL downloads it: its header and rows. */
export async function extractCsv(gw: TestGateway, purpose: string, variables: string[], period: Period = YEAR_2026) {
  const built = await builtExtract<Extract & { file: { downloadUrl: string } | null }>(
    gw,
    purpose,
    variables,
    'id version file { downloadUrl }',
    period,
  );
  const { status, text } = await downloadExtract(gw, built.file!.downloadUrl);
  if (status !== 200) throw new Error(`extract download answered ${status}`);
  const [header, ...rows] = text
    .split('\r\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split(','));
  return { header: header!, rows };
}

/**
 * What an attacker learns by setting two extracts of the same variables side by side: for
 * each row (its values, the pseudonym aside), how many more times it is in `b` than in `a`.
 * A count other than 0 below k is a row of fewer than k cases that neither extract released
 * as such.
 */
export function rowDifference(a: { header: string[]; rows: string[][] }, b: { header: string[]; rows: string[][] }) {
  const counts = new Map<string, number>();
  const key = (row: string[]) => JSON.stringify(row.slice(1));
  for (const r of b.rows) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1);
  for (const r of a.rows) counts.set(key(r), (counts.get(key(r)) ?? 0) - 1);
  return new Map([...counts].filter(([, n]) => n !== 0));
}
