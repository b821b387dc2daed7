// The plan life cycle: the partner drafts (or, once a plan is in force, amends), submits
// (costed at the day's rates and checked against the entitlement), and the member state
// decides. Each step is one write on the case, carrying the plan version it changes.
import type { Model } from 'mongoose';
import { authorize, caseScope } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { invalidTransition } from '../../errors.ts';
import { firstVersion, nextVersion, type DocumentChange } from '../../events/event.model.ts';
import { idsFilter, matchesScope, SYSTEM, type TenantScope } from '../../store/tenant.ts';
import { parseInput, requiredText, text, todayIso } from '../../validation.ts';
import { assertConsentFor } from '../cases/case.consent.ts';
import type { CaseDoc } from '../cases/case.model.ts';
import type { CasePayload } from '../cases/case.store.ts';
import { assertStatusAllows, PLAN_DRAFTING_STATUSES, PLAN_IN_FORCE_STATUSES, withStatus } from '../cases/case.state.ts';
import { recordsOfCases, writtenAlongside, type CaseDecision } from '../cases/case.store.ts';
import { planSchema, type PlanDoc } from './plan.model.ts';
import { checkBudget, costInEur, currenciesOf, normaliseComponents, planInput, type Costed } from './plan.rules.ts';
import type { Needs } from '../../deps.ts';

/** The id of a case's plan version. */
export const planRef = (caseId: string, planVersion: number) => `${caseId}:${planVersion}`;

/** A plan version of a case at a version of the case. */
export type PlanAtCase = { caseId: string; caseVersion: number; ref: string };

/** What a plan step answers: the case and the plan version it wrote. */
export type PlanPayload = CasePayload & { plan: PlanDoc };

export type PlanService = ReturnType<typeof createPlanService>;

export function createPlanService(deps: Needs<'store' | 'cases' | 'rates' | 'sealing'>) {
  const { store, cases, rates, sealing } = deps;
  const Plans: Model<PlanDoc> = store.model('Plan', planSchema);

  async function loadPlan(scope: TenantScope, caseId: string, planVersion: number | null): Promise<PlanDoc | null> {
    if (planVersion === null) return null;
    return Plans.findOne({ _id: planRef(caseId, planVersion) })
      .setOptions({ scope })
      .lean<PlanDoc>();
  }

  /**
   * A plan's cost against the case's entitlement (BUDGET_EXCEEDED over it). The entitlement is
   * sealed (special category): opened here for the rule, its figures shown only to who may see it.
   */
  async function assertWithinEntitlement(p: Principal, c: CaseDoc, costed: Costed): Promise<void> {
    const amounts = (await sealing.openEntitlement(c)) ?? { total: 0, cashCap: 0 };
    checkBudget(costed, amounts, sealing.maySeeSpecialCategory(p, c));
  }

  /** Plan versions by id (`<caseId>:<n>`), in one query, within the principal's scope. */
  async function byIds(principal: Principal, ids: readonly string[]): Promise<(PlanDoc | null)[]> {
    const docs = await Plans.find(idsFilter(ids))
      .setOptions({ scope: caseScope(principal) })
      .lean<PlanDoc[]>();
    const byId = new Map(docs.map((d) => [d._id, d]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /**
   * Plan versions of cases as the cases are at their versions (a page's `plan` and
   * `planInForce`): remembered with the case version where they are, the others in one
   * query within the principal's scope, then remembered with it.
   */
  /** The plan of `key` from the memory of case versions, if there and within the principal's scope. */
  function rememberedAt(principal: Principal, key: PlanAtCase): PlanDoc | undefined {
    const doc = cases.versions.record<PlanDoc>(key.caseId, key.caseVersion, key.ref);
    if (!doc) return undefined;
    const scope = caseScope(principal);
    return scope === SYSTEM || matchesScope(doc, scope.filter) ? doc : undefined;
  }

  async function atCaseVersions(principal: Principal, keys: readonly PlanAtCase[]): Promise<(PlanDoc | null)[]> {
    const found = new Map<string, PlanDoc>();
    for (const key of keys) {
      const doc = rememberedAt(principal, key);
      if (doc) found.set(key.ref, doc);
    }
    const missing = [...new Set(keys.filter((k) => !found.has(k.ref)).map((k) => k.ref))];
    if (missing.length > 0) {
      for (const doc of await byIds(principal, missing)) if (doc) found.set(doc._id, doc);
      for (const key of keys) {
        const doc = found.get(key.ref);
        if (doc && missing.includes(key.ref)) cases.versions.putRecord(key.caseId, key.caseVersion, doc);
      }
    }
    return keys.map((k) => found.get(k.ref) ?? null);
  }

  /** One plan step on the case; answers the case and the plan version of the case's `latestPlan`. */
  async function planWrite(
    p: Principal,
    command: string,
    target: { caseId: string; expectedVersion: number },
    input: unknown,
    idempotencyKey: string | null | undefined,
    decide: (c: CaseDoc, now: Date) => Promise<CaseDecision>,
  ): Promise<PlanPayload> {
    const written = await cases.writeOn(p, command, target, input, idempotencyKey, decide);
    return { case: written, plan: writtenAlongside<PlanDoc>(written, planRef(target.caseId, written.latestPlan!), p)! };
  }

  return {
    /** For readers that walk every plan (statistics). */
    model: Plans,

    byIds,

    atCaseVersions,

    /** What atCaseVersions would answer for `key` from memory, at once (undefined: ask it). */
    rememberedAt,

    /** Every plan version of many cases, oldest first, in one query within the principal's scope. */
    plansOf: (principal: Principal, caseIds: readonly string[]) =>
      recordsOfCases(Plans, principal, caseIds, { sort: { caseId: 1, planVersion: 1 } }),

    /** The approved plan being carried out, as the principal may see it. */
    async inForce(principal: Principal, c: CaseDoc): Promise<PlanDoc | null> {
      if (c.planInForce === null) return null;
      const [plan] = await byIds(principal, [planRef(c._id, c.planInForce)]);
      return plan ?? null;
    },

    /** Writes or changes the draft; once a plan is in force, a new draft is an amendment of it. */
    async saveDraft(
      principal: Principal | null,
      args: { caseId: string; plan: unknown; expectedVersion: number },
      idempotencyKey?: string | null,
    ): Promise<PlanPayload> {
      const p = authorize(principal, 'plan.draft');
      const input = parseInput(planInput, args.plan, 'plan');
      const components = normaliseComponents(input);
      return planWrite(p, 'saveDraftPlan', args, input, idempotencyKey, async (c, now) => {
        assertStatusAllows(c.status, 'saveDraftPlan', PLAN_DRAFTING_STATUSES);
        const latest = await loadPlan(caseScope(p), c._id, c.latestPlan);
        if (latest?.status === 'SUBMITTED')
          throw invalidTransition(c.status, 'saveDraftPlan (a submitted plan awaits its decision)', ['decidePlan']);
        let plan: PlanDoc;
        if (latest?.status === 'DRAFT') {
          plan = nextVersion(latest, { summary: input.summary ?? null, components }, now);
        } else {
          const planVersion = (c.latestPlan ?? 0) + 1;
          plan = {
            _id: planRef(c._id, planVersion),
            caseId: c._id,
            memberState: c.memberState,
            partner: c.partner!,
            sharedWithPartner: true,
            planVersion,
            status: 'DRAFT',
            amendmentOf: PLAN_IN_FORCE_STATUSES.includes(c.status) ? c.planInForce : null,
            summary: input.summary ?? null,
            components,
            totalEur: null,
            cashEur: null,
            ratesUsed: [],
            submittedAt: null,
            decidedAt: null,
            decisionComment: null,
            ...firstVersion(now),
          };
        }
        return {
          type: 'PlanDraftSaved',
          next: { ...c, latestPlan: plan.planVersion },
          data: { planVersion: plan.planVersion, components: components.length },
          extra: [{ collection: 'plans', doc: plan }],
        };
      });
    },

    /** Submits the draft: costed in EUR at the day's rates, refused over the entitlement. */
    async submit(
      principal: Principal | null,
      args: { caseId: string; expectedVersion: number },
      idempotencyKey?: string | null,
    ): Promise<PlanPayload> {
      const p = authorize(principal, 'plan.submit');
      return planWrite(p, 'submitPlan', args, {}, idempotencyKey, async (c, now) => {
        const amendment = PLAN_IN_FORCE_STATUSES.includes(c.status);
        const next = amendment ? { ...c } : withStatus(c, 'PLAN_SUBMITTED', now);
        const draft = await loadPlan(caseScope(p), c._id, c.latestPlan);
        if (draft?.status !== 'DRAFT')
          throw invalidTransition(c.status, 'submitPlan (there is no draft plan to submit)', ['saveDraftPlan']);
        const day = todayIso(now);
        assertConsentFor(c, 'REINTEGRATION_SUPPORT', day, 'submitPlan');
        const applied = await rates.ratesOn(currenciesOf(draft.components), day);
        const costed = costInEur(draft.components, applied);
        await assertWithinEntitlement(p, c, costed);
        const plan = nextVersion(
          draft,
          {
            status: 'SUBMITTED',
            components: costed.components,
            totalEur: costed.totalEur,
            cashEur: costed.cashEur,
            ratesUsed: costed.ratesUsed,
            submittedAt: now,
          },
          now,
        );
        return {
          type: 'PlanSubmitted',
          next,
          data: { planVersion: plan.planVersion, totalEur: costed.totalEur, cashEur: costed.cashEur, amendment },
          extra: [{ collection: 'plans', doc: plan }],
        };
      });
    },

    /**
     * Approves the submitted version (superseding the one in force), if it is still within the
     * entitlement (BUDGET_EXCEEDED otherwise), or asks for changes.
     */
    async decide(
      principal: Principal | null,
      args: { caseId: string; decision: 'APPROVE' | 'REQUEST_CHANGES'; comment?: string | null; expectedVersion: number },
      idempotencyKey?: string | null,
    ): Promise<PlanPayload> {
      const p = authorize(principal, 'plan.decide');
      const comment =
        args.decision === 'REQUEST_CHANGES'
          ? parseInput(requiredText(2000), args.comment ?? '', 'comment')
          : args.comment
            ? parseInput(text(2000), args.comment, 'comment')
            : null;
      const input = { decision: args.decision, comment };
      return planWrite(p, 'decidePlan', args, input, idempotencyKey, async (c, now) => {
        const scope = caseScope(p);
        const submitted = await loadPlan(scope, c._id, c.latestPlan);
        if (submitted?.status !== 'SUBMITTED')
          throw invalidTransition(c.status, 'decidePlan (no plan awaits a decision)', ['submitPlan']);
        const amendment = PLAN_IN_FORCE_STATUSES.includes(c.status);
        const approve = args.decision === 'APPROVE';
        let next = amendment ? { ...c } : withStatus(c, approve ? 'PLAN_APPROVED' : 'CHANGES_REQUESTED', now);
        const status = approve ? 'APPROVED' : 'CHANGES_REQUESTED';
        const plan = nextVersion(submitted, { status, decidedAt: now, decisionComment: comment }, now);
        const extra: DocumentChange[] = [{ collection: 'plans', doc: plan }];
        if (approve) {
          // The entitlement is checked again: it may have fallen since the plan was submitted
          // (another office corrected the household, say), and a plan is never put in force
          // over what the case may receive. Asking for changes stays possible.
          await assertWithinEntitlement(p, c, {
            components: submitted.components,
            totalEur: submitted.totalEur ?? 0,
            cashEur: submitted.cashEur ?? 0,
            ratesUsed: submitted.ratesUsed,
          });
          const previous = await loadPlan(scope, c._id, c.planInForce);
          if (previous) extra.push({ collection: 'plans', doc: nextVersion(previous, { status: 'SUPERSEDED' }, now) });
          next = { ...next, planInForce: plan.planVersion };
        }
        return {
          type: approve ? 'PlanApproved' : 'PlanChangesRequested',
          next,
          data: { planVersion: plan.planVersion, amendment, ...(comment ? { comment } : {}) },
          extra,
        };
      });
    },
  };
}
