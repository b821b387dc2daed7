// A demo case team: local cooperation in Utrecht on one Dutch case. The Netherlands forms
// the team with Gemeente Utrecht as its lead; Utrecht invites the police, the immigration
// service and an NGO, which records counselling. Written through the services with fixed
// idempotency keys, so a second run the same day writes nothing.
import type { Principal } from '../auth/principal.ts';
import type { CaseView } from '../modules/cases/case.store.ts';
import type { Services } from '../services.ts';
import { todayIso } from '../validation.ts';
import { DAY_MS } from '../clock.ts';

const unit = (code: string, kind: Principal['organisation']['kind'], role: Principal['roles'][number]): Principal => ({
  subject: `demo-${role}@${code}`,
  issuer: 'erin-exchange',
  organisation: { code, kind, name: code, memberState: 'NL' },
  roles: [role],
});

export async function seedDemoTeams(services: Services): Promise<{ created: number; existing: number }> {
  const now = services.clock.now();
  const daysAgo = (n: number) => todayIso(new Date(now.getTime() - n * DAY_MS));
  const k = (step: string) => `demo-team-utrecht-${step}`;
  const nl: Principal = {
    subject: 'demo-caseworker@NL',
    issuer: 'erin-exchange',
    organisation: { code: 'NL', kind: 'MEMBER_STATE', name: 'NL' },
    roles: ['caseworker', 'coordinator'],
  };
  const utrecht = unit('NL-GEM-UTRECHT', 'MUNICIPALITY', 'municipal-officer');
  const ngo = unit('NL-NGO-HAVEN', 'NGO', 'ngo-worker');
  const before = await services.log.lastSeq();
  let c: CaseView = (
    await services.cases.create(
      nl,
      {
        programme: 'NL-AVRR',
        originCountry: 'MA',
        returnType: 'VOLUNTARY',
        partner: 'P-MA-ATLAS',
        plannedDepartureDate: daysAgo(-45),
        residenceApplication: 'ASYLUM_REJECTED',
        needsAssessment: 'Demo: no stable housing; wants to restart as a tailor in Tangier.',
        household: [{ yearOfBirth: 1989, gender: 'MALE', relation: 'PRINCIPAL' }],
        consent: {
          purposes: ['REINTEGRATION_SUPPORT', 'RETURN_ASSISTANCE', 'SPECIAL_CATEGORY_DATA'],
          givenOn: daysAgo(20),
          expiresOn: daysAgo(-700),
        },
      },
      k('create'),
    )
  ).case;
  c = await services.teams.form(nl, { caseId: c._id, lead: 'NL-GEM-UTRECHT', expectedVersion: c.version }, k('form'));
  for (const invited of ['NL-POLITIE', 'NL-IND', 'NL-NGO-HAVEN']) {
    c = await services.teams.invite(
      utrecht,
      { caseId: c._id, unit: invited, expectedVersion: c.version },
      k(`invite-${invited}`),
    );
  }
  c = (
    await services.returnLeg.recordStep(
      ngo,
      { caseId: c._id, step: { kind: 'COUNSELLING', on: daysAgo(5), decidedToReturn: false }, expectedVersion: c.version },
      k('counselling'),
    )
  ).case;
  const created = (await services.log.lastSeq()) > before;
  return { created: created ? 1 : 0, existing: created ? 0 : 1 };
}
