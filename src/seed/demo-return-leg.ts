// Demo cases in the return leg: Dutch REAN cases carried out by IOM Netherlands, one at each
// stage before (and at) arrival, written through the services with fixed idempotency keys
// (a second run the same day replays the first run's answers and writes nothing).
import type { Principal } from '../auth/principal.ts';
import type { Services } from '../services.ts';
import type { CaseView } from '../modules/cases/case.store.ts';
import { todayIso } from '../validation.ts';
import { DAY_MS } from '../clock.ts';

const who = (
  code: string,
  kind: Principal['organisation']['kind'],
  roles: Principal['roles'],
  memberState?: string,
): Principal => ({
  subject: `demo-${roles[0]}@${code}`,
  issuer: 'erin-exchange',
  organisation: { code, kind, name: code, ...(memberState ? { memberState } : {}) },
  roles,
});

type Stage = 'COUNSELLED' | 'TICKETED' | 'DEPARTED' | 'ARRIVED';
const SCENARIOS: { key: string; stage: Stage; familyName: string; born: number; origin: string; partner: string }[] = [
  { key: 'rean-counselled', stage: 'COUNSELLED', familyName: 'Demo-Amiri', born: 1991, origin: 'AF', partner: 'P-AF-HOPE' },
  { key: 'rean-ticketed', stage: 'TICKETED', familyName: 'Demo-Saleh', born: 1986, origin: 'IQ', partner: 'P-IQ-TIGRIS' },
  { key: 'rean-departed', stage: 'DEPARTED', familyName: 'Demo-Noorzai', born: 1994, origin: 'AF', partner: 'P-AF-HOPE' },
  { key: 'rean-arrived', stage: 'ARRIVED', familyName: 'Demo-Hakimi', born: 1983, origin: 'AF', partner: 'P-AF-HOPE' },
];
const ORDER: Stage[] = ['COUNSELLED', 'TICKETED', 'DEPARTED', 'ARRIVED'];

export async function seedDemoReturnLeg(services: Services): Promise<{ created: number; existing: number }> {
  const now = services.clock.now();
  const daysAgo = (n: number) => todayIso(new Date(now.getTime() - n * DAY_MS));
  const nl = who('NL', 'MEMBER_STATE', ['caseworker', 'coordinator']);
  const iom = who('IOM-NL', 'IMPLEMENTING_ORGANISATION', ['return-counsellor'], 'NL');
  let created = 0;
  let existing = 0;
  for (const s of SCENARIOS) {
    const k = (step: string) => `demo-${s.key}-${step}`;
    const reaches = (stage: Stage) => ORDER.indexOf(s.stage) >= ORDER.indexOf(stage);
    const officer = who(s.partner, 'PARTNER', ['partner-officer']);
    const before = await services.log.lastSeq();
    const departure = s.stage === 'COUNSELLED' ? daysAgo(-30) : s.stage === 'TICKETED' ? daysAgo(-10) : daysAgo(3);
    let c: CaseView = (
      await services.cases.create(
        nl,
        {
          programme: 'NL-REAN',
          originCountry: s.origin,
          returnType: 'VOLUNTARY',
          partner: s.partner,
          implementingOrganisation: 'IOM-NL',
          plannedDepartureDate: departure,
          residenceApplication: 'ASYLUM_REJECTED',
          person: { familyName: s.familyName, givenNames: 'Demo', dateOfBirth: `${s.born}-05-01`, nationality: s.origin },
          household: [{ yearOfBirth: s.born, birthMonth: `${s.born}-05`, gender: 'MALE', relation: 'PRINCIPAL' }],
          consent: { purposes: ['RETURN_ASSISTANCE', 'REINTEGRATION_SUPPORT'], givenOn: daysAgo(60), expiresOn: daysAgo(-700) },
        },
        k('create'),
      )
    ).case;
    const step = async (name: string, input: Record<string, unknown>) => {
      c = (await services.returnLeg.recordStep(iom, { caseId: c._id, step: input, expectedVersion: c.version }, k(name))).case;
    };
    await step('counselling-1', { kind: 'COUNSELLING', on: daysAgo(40) });
    await step('counselling-2', { kind: 'COUNSELLING', on: daysAgo(33), decidedToReturn: true });
    await step('document', { kind: 'TRAVEL_DOCUMENT', on: daysAgo(32), stage: 'APPLIED' });
    if (reaches('TICKETED')) {
      await step('document-obtained', { kind: 'TRAVEL_DOCUMENT', on: daysAgo(20), stage: 'OBTAINED' });
      await step('ticket', {
        kind: 'TICKET',
        on: daysAgo(15),
        departureDate: departure,
        route: s.origin === 'IQ' ? ['AMS', 'IST', 'EBL'] : ['AMS', 'IST', 'KBL'],
        finalDestination: s.origin === 'IQ' ? 'Duhok' : 'Herat',
        landTravelAllowance: { amount: 9000, currency: 'EUR' },
      });
      c = (await services.cases.refer(nl, c._id, c.version, k('refer'))).case;
      c = (await services.cases.respond(officer, { id: c._id, decision: 'ACCEPT', expectedVersion: c.version }, k('accept')))
        .case;
    }
    if (reaches('DEPARTED')) {
      await step('departure', { kind: 'DEPARTURE', on: daysAgo(3), place: 'Amsterdam Schiphol (AMS)' });
      await step('transit', { kind: 'TRANSIT', on: daysAgo(3), place: 'Istanbul (IST)' });
    }
    if (reaches('ARRIVED')) {
      await step('arrival', { kind: 'ARRIVAL', on: daysAgo(2), place: 'Kabul airport (KBL)', metOnArrival: true });
      await step('contribution', {
        kind: 'FIRST_PERIOD_CONTRIBUTION',
        on: daysAgo(2),
        amount: { amount: 20000, currency: 'EUR' },
      });
    }
    if ((await services.log.lastSeq()) > before) created += 1;
    else existing += 1;
  }
  return { created, existing };
}
