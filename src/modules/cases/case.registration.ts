// Registering a case: the member state's first write. Programme (active, open to the state) and partner checked,
// eligibility decided (the five-year rule by a keyed pseudonym of the person), the
// reference claimed, the special categories sealed under the case's new key.
import { randomUUID } from 'node:crypto';
import { authorize, caseParties } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import type { Clock } from '../../clock.ts';
import { AppError, badInput } from '../../errors.ts';
import type { CommandExecutor } from '../../events/executor.ts';
import { parseInput, todayIso } from '../../validation.ts';
import { assistedDepartureOn, checkEligibility } from '../eligibility/eligibility.rules.ts';
import type { EligibilityService } from '../eligibility/eligibility.service.ts';
import type { DepartureClaim, DepartureClaims } from '../eligibility/departure-claims.ts';
import { programmeOpenTo } from '../organisations/organisation.model.ts';
import type { OrganisationService } from '../organisations/organisation.service.ts';
import type { CaseEntitlements } from './case.entitlement.ts';
import { createCaseInput } from './case.inputs.ts';
import { recordedConsent } from './case.consent.ts';
import { emptyImplementation, noRecordIds, type CaseDoc } from './case.model.ts';
import type { CaseSealing } from './case.sealing.ts';
import { writtenCase, type CasePayload, type CaseStore } from './case.store.ts';
import { computeEntitlement } from './entitlement.ts';
import { firstVersion } from '../../events/event.model.ts';

/** Refuses a partner code that is not an active partner of the network. */
export async function assertActivePartner(organisations: OrganisationService, code: string, path = 'partner'): Promise<void> {
  const partner = await organisations.lookup(code);
  if (partner?.kind !== 'PARTNER' || !partner.active) {
    throw badInput(`${code} is not an active partner of the network.`, [{ path, message: 'not a partner' }]);
  }
}

export function assertBornBy(household: readonly { yearOfBirth: number }[], year: number): void {
  if (household.some((m) => m.yearOfBirth > year)) {
    throw badInput('A year of birth is in the future.', [{ path: 'household', message: 'year of birth in the future' }]);
  }
}

export function createCaseRegistration(deps: {
  cases: CaseStore;
  sealing: CaseSealing;
  entitlements: CaseEntitlements;
  executor: CommandExecutor;
  clock: Clock;
  organisations: OrganisationService;
  eligibility: EligibilityService;
  departures: DepartureClaims;
}) {
  const { cases, sealing, entitlements, executor, clock, organisations, eligibility: eligibilityService } = deps;

  return async function register(
    principal: Principal | null,
    rawInput: unknown,
    idempotencyKey?: string | null,
  ): Promise<CasePayload> {
    const p = authorize(principal, 'case.create');
    if (p.organisation.kind !== 'MEMBER_STATE') throw badInput('Only a member state registers cases.');
    const input = parseInput(createCaseInput, rawInput);
    // A case registered after the return records its assisted departure: claimed for the person
    // as every departure is (departure-claims.ts), and released if the registration then fails.
    let departure: DepartureClaim | null = null;
    const writing = executor.execute({
      principal: p,
      command: 'createCase',
      input,
      idempotencyKey,
      decide: async () => {
        const now = clock.now();
        const today = todayIso(now);
        const programme = await organisations.programme(input.programme);
        if (!programme?.active)
          throw badInput(`${input.programme} is not an active programme.`, [
            { path: 'programme', message: 'unknown or inactive' },
          ]);
        // A national programme spends its own state's budget: no other state registers under it.
        if (!programmeOpenTo(programme, p.organisation.code)) {
          throw badInput(
            `${programme._id} is a programme of ${programme.memberStates.join(', ')}; ${p.organisation.code} cannot register cases under it.`,
            [{ path: 'programme', message: `not open to ${p.organisation.code}` }],
          );
        }
        if (programme.returnType && programme.returnType !== input.returnType) {
          throw badInput(`${programme.code} is for ${programme.returnType} return.`, [
            { path: 'returnType', message: `must be ${programme.returnType}` },
          ]);
        }
        if (input.partner) await assertActivePartner(organisations, input.partner);
        if (input.implementingOrganisation) {
          await organisations.unitOf(
            p.organisation.code,
            input.implementingOrganisation,
            ['IMPLEMENTING_ORGANISATION'],
            'implementingOrganisation',
          );
        }
        if (input.arrivedOn && input.arrivedOn > today) {
          throw badInput('arrivedOn is in the future; use plannedArrivalDate for a planned return.', [
            { path: 'arrivedOn', message: 'in the future' },
          ]);
        }
        const thisYear = now.getUTCFullYear();
        assertBornBy(input.household, thisYear);
        const memberState = p.organisation.code;
        const draft = {
          returnSupport: null,
          plannedDepartureDate: input.plannedDepartureDate ?? null,
          arrivedOn: input.arrivedOn ?? null,
          plannedArrivalDate: input.plannedArrivalDate ?? null,
        };
        const departureDay = entitlements.referenceDayOf(draft);
        // The five-year rule recognises the person by a keyed pseudonym, never by who they are.
        const years = programme.eligibility.noRepeatWithinYears;
        if (years > 0 && !input.person) {
          throw badInput(`${programme._id} needs the person's identity attributes to check earlier assisted departures.`, [
            { path: 'person', message: 'required for this programme' },
          ]);
        }
        const personKey = input.person ? eligibilityService.personKey(memberState, input.person) : null;
        const nationality = input.nationality ?? input.person?.nationality ?? null;
        const eligibility = checkEligibility(
          programme,
          {
            nationality,
            residenceApplication: input.residenceApplication ?? null,
            departureDay,
            earlierDeparture: personKey
              ? await eligibilityService.earlierDeparture(memberState, personKey, departureDay, years)
              : null,
          },
          today,
        );
        if (!eligibility.eligible) {
          const refusals = eligibility.reasons.filter((r) => r.refusal);
          throw new AppError('BAD_USER_INPUT', `Not eligible for ${programme._id}: ${refusals.map((r) => r.message).join(' ')}`, {
            problems: refusals.map((r) => ({ path: 'programme', message: r.code })),
            reasons: refusals.map(({ code, message }) => ({ code, message })),
          });
        }
        const id = randomUUID();
        const departedOn = assistedDepartureOn(draft);
        if (personKey && years > 0 && departedOn) {
          departure = await deps.departures.claim({
            memberState,
            personKey,
            caseId: id,
            atVersion: 1,
            on: departedOn,
            years,
            programme: programme._id,
            now,
          });
        }
        const reference = await cases.claimReference(memberState, thisYear, id);
        // The case's list of files from the start, so its page reads them by primary key
        // (written before the case: one refused later leaves an empty list of no case).
        const [key] = await Promise.all([sealing.keyForWriting(id, { fresh: true }), cases.files.open(id)]);
        const vulnerability = input.vulnerability ? { ...input.vulnerability, notes: input.vulnerability.notes ?? null } : null;
        const household = input.household.map(({ birthMonth: _month, ...member }) => member);
        const birthMonths = input.household.map((m) => m.birthMonth ?? null);
        const registered: CaseDoc = {
          recordIds: noRecordIds(),
          _id: id,
          reference,
          memberState: p.organisation.code,
          partner: input.partner ?? null,
          sharedWithPartner: false,
          units: input.implementingOrganisation ? [input.implementingOrganisation] : [],
          implementingOrganisation: input.implementingOrganisation ?? null,
          team: null,
          returnSupport: null,
          contract: null,
          programme: programme._id,
          originCountry: input.originCountry,
          returnType: input.returnType,
          plannedDepartureDate: input.plannedDepartureDate ?? null,
          plannedArrivalDate: draft.plannedArrivalDate,
          arrivedOn: draft.arrivedOn,
          registeredAfterReturn: Boolean(input.arrivedOn),
          household,
          nationality,
          residenceApplication: input.residenceApplication ?? null,
          eligibility,
          birthMonthsSealed: sealing.sealBirthMonths(key, birthMonths),
          needsAssessmentSealed: sealing.sealNeeds(key, input.needsAssessment),
          vulnerabilitySealed: sealing.sealVulnerability(key, vulnerability),
          consent: recordedConsent(programme, input.consent, today),
          entitlement: entitlements.sealed(
            key,
            computeEntitlement(
              programme,
              {
                household,
                birthMonths,
                unaccompaniedMinor: vulnerability?.unaccompaniedMinor ?? false,
                referenceDay: departureDay,
                firstPeriodContribution: eligibility.firstPeriodContribution,
              },
              now,
            ),
          ),
          status: 'DRAFT',
          statusChangedAt: now,
          referredAt: null,
          referralDeadline: null,
          respondedAt: null,
          declineReason: null,
          closedAt: null,
          closureReason: null,
          closureComment: null,
          latestPlan: null,
          planInForce: null,
          ...emptyImplementation(),
          ...firstVersion(now),
        };
        // Deadlines before departure (flight details in working days) from the registration on.
        const doc = await cases.planDeadlines(registered, now);
        return {
          aggregateType: 'case',
          aggregateId: id,
          caseId: id,
          version: 1,
          type: 'CaseCreated',
          audience: caseParties(doc),
          data: {},
          changes: [
            ...(personKey ? [eligibilityService.keyDocument(id, memberState, personKey, now)] : []),
            { collection: 'cases', doc },
          ],
        };
      },
    });
    const { event } = await writing.catch(async (error: unknown) => {
      await departure?.release(error).catch(() => undefined);
      throw error;
    });
    return { case: writtenCase(event, event.aggregateId) };
  };
}
