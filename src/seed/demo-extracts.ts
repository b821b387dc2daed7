// The demo research body's evaluation extract: the quarter the demo cases were registered
// in, asked of the Netherlands and Germany and approved by both data-protection officers. It
// is built (downloadable for ERIN_EXTRACT_TTL from then) by the first seed run after that
// quarter is over: an extract is built only from quarters no case can join any more.
// Idempotent: every step carries a fixed key, and an existing request is taken as it stands.
import type { Principal } from '../auth/principal.ts';
import { quarterOfMonth } from '../clock.ts';
import { monthsOf, periodClosesOn } from '../modules/extracts/extract.periods.ts';
import { todayIso } from '../validation.ts';
import type { Services } from '../services.ts';
import type { SeedReport } from './demo.ts';

const RESEARCH_BODY = 'R-EVAL';
const STATES = ['NL', 'DE'] as const;
export const DEMO_EXTRACT_PURPOSE = 'Evaluation of in-kind reintegration support, 2026 (demo request)';

const researcher: Principal = {
  subject: `demo-researcher@${RESEARCH_BODY}`,
  issuer: 'erin-exchange',
  organisation: { code: RESEARCH_BODY, kind: 'RESEARCH_BODY', name: RESEARCH_BODY },
  roles: ['researcher'],
};
const officer = (code: string): Principal => ({
  subject: `demo-data-protection-officer@${code}`,
  issuer: 'erin-exchange',
  organisation: { code, kind: 'MEMBER_STATE', name: code },
  roles: ['data-protection-officer'],
});

export async function seedDemoExtracts(services: Services, report: SeedReport): Promise<void> {
  const { extracts } = services;
  const today = todayIso(services.clock.now());
  const existing = (await extracts.list(researcher, { first: 200 })).find((x) => x.purpose === DEMO_EXTRACT_PURPOSE);
  if (existing && (existing.build || today < periodClosesOn(existing.periodTo))) {
    report.existing.extracts = (report.existing.extracts ?? 0) + 1;
    return;
  }
  const { first, last } = monthsOf(quarterOfMonth(today.slice(0, 7)));
  let extract =
    existing ??
    (await extracts.request(
      researcher,
      {
        purpose: DEMO_EXTRACT_PURPOSE,
        variables: ['MEMBER_STATE', 'ORIGIN_COUNTRY', 'AGE_GROUP', 'RETURN_MONTH', 'STATUS', 'COMPONENT_KINDS', 'PLANNED_EUR'],
        periodFrom: first,
        periodTo: last,
        memberStates: [...STATES],
      },
      'seed-extract-request',
    ));
  for (const state of STATES) {
    if (extract.parts.find((p) => p.memberState === state)?.status !== 'PENDING') continue;
    extract = await extracts.decide(
      officer(state),
      { id: extract._id, decision: 'APPROVE', comment: 'Approved for the evaluation (demo).', expectedVersion: extract.version },
      `seed-extract-approve-${state}`,
    );
  }
  if (today >= periodClosesOn(extract.periodTo)) {
    await extracts.build(researcher, { id: extract._id, expectedVersion: extract.version }, 'seed-extract-build');
  }
  report.created.extracts = (report.created.extracts ?? 0) + 1;
}
