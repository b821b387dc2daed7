// The rules of cases and their plans. Every method reads top to bottom: authorise,
// validate, then (inside the executor) load through the tenant policy, check the
// version and the life cycle, decide, and return the event that commits it.
import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { z } from 'zod';
import { authorize, caseScope, caseWriteAudience, requirePrincipal } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import type { Clock } from '../../clock.ts';
import type { Sealer } from '../../crypto/sealed.ts';
import { badInput, invalidTransition, notFound } from '../../errors.ts';
import type { DocumentChange } from '../../events/event.model.ts';
import { expectVersion, writtenDocument, type CommandExecutor } from '../../events/executor.ts';
import { isDuplicateKey, type Store } from '../../store/store.ts';
import { idsFilter, op, SYSTEM, type TenantScope } from '../../store/tenant.ts';
import { countryCode, isoDate, organisationCode, pageSize, parseInput, requiredText, text, todayIso } from '../../validation.ts';
import type { AccessRecorder } from '../audit/access.ts';
import type { OrganisationService } from '../organisations/organisation.service.ts';
import type { RateService } from '../rates/rate.service.ts';
import {
  CLOSURE_REASONS,
  GENDERS,
  RELATIONS,
  caseReferenceSchema,
  caseSchema,
  planSchema,
  withImplementationDefaults,
  emptyImplementation,
  type CaseDoc,
  type CaseReferenceDoc,
  type ClosureReason,
  type PlanDoc,
  type Vulnerability,
} from './case.model.ts';
import {
  assertStatusAllows,
  assertTransition,
  PLAN_DRAFTING_STATUSES,
  PLAN_IN_FORCE_STATUSES,
  type CaseStatus,
} from './case.state.ts';
import { computeEntitlement } from './entitlement.ts';
import { DAY_MS } from '../deadlines/calendar.ts';
import type { DeadlinePlanner } from '../deadlines/deadline.rules.ts';
import { checkBudget, costInEur, currenciesOf, normaliseComponents, planInput } from './plan.rules.ts';

export const REFERRAL_ANSWER_DAYS = 7;

const householdInput = z
  .array(
    z.object({
      yearOfBirth: z.number().int().min(1900, 'after 1900'),
      gender: z.enum(GENDERS),
      relation: z.enum(RELATIONS),
    }),
  )
  .min(1, 'at least the principal')
  .max(30)
  .refine((members) => members.filter((m) => m.relation === 'PRINCIPAL').length === 1, 'exactly one PRINCIPAL');

const vulnerabilityInput = z.object({
  unaccompaniedMinor: z.boolean(),
  victimOfTrafficking: z.boolean(),
  medicalNeeds: z.boolean(),
  notes: text(2000).nullish(),
});

const consentInput = z
  .object({ purpose: requiredText(500), givenOn: isoDate, expiresOn: isoDate })
  .refine((c) => c.expiresOn >= c.givenOn, { message: 'expires before it was given', path: ['expiresOn'] });

export const createCaseInput = z.object({
  programme: organisationCode,
  originCountry: countryCode,
  returnType: z.enum(['VOLUNTARY', 'NON_VOLUNTARY']),
  partner: organisationCode.nullish(),
  plannedDepartureDate: isoDate.nullish(),
  plannedArrivalDate: isoDate.nullish(),
  arrivedOn: isoDate.nullish(),
  household: householdInput,
  needsAssessment: text(10_000).nullish(),
  vulnerability: vulnerabilityInput.nullish(),
  consent: consentInput,
});

const updateCaseInput = z.object({
  partner: organisationCode.nullish(),
  plannedDepartureDate: isoDate.nullish(),
  plannedArrivalDate: isoDate.nullish(),
  household: householdInput.nullish(),
  needsAssessment: text(10_000).nullish(),
  vulnerability: vulnerabilityInput.nullish(),
  consent: consentInput.nullish(),
});

export type CaseListArgs = {
  filter?: {
    status?: readonly CaseStatus[] | null;
    originCountry?: string | null;
    partner?: string | null;
    memberState?: string | null;
    programme?: string | null;
    updatedSince?: Date | string | null;
    reference?: string | null;
  } | null;
  first?: number | null;
  after?: string | null;
  orderBy?: 'UPDATED_DESC' | 'UPDATED_ASC' | 'CREATED_DESC' | 'REFERENCE_ASC' | null;
};

export type CaseConnection = {
  edges: { cursor: string; node: CaseDoc }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: () => Promise<number>;
};

export const MAX_PAGE = 100;

const ORDERS = {
  UPDATED_DESC: { field: 'updatedAt', direction: -1 },
  UPDATED_ASC: { field: 'updatedAt', direction: 1 },
  CREATED_DESC: { field: 'createdAt', direction: -1 },
  REFERENCE_ASC: { field: 'reference', direction: 1 },
} as const;

function encodeCursor(order: keyof typeof ORDERS, doc: CaseDoc): string {
  const field = ORDERS[order].field;
  const value = doc[field];
  return Buffer.from(JSON.stringify([order, value instanceof Date ? value.toISOString() : value, doc._id])).toString('base64url');
}

function decodeCursor(cursor: string, order: keyof typeof ORDERS): { value: Date | string; id: string } {
  try {
    const [o, value, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string, string];
    if (o !== order || typeof value !== 'string' || typeof id !== 'string') throw new Error('mismatch');
    return { value: ORDERS[order].field === 'reference' ? value : new Date(value), id };
  } catch {
    throw badInput('The cursor is not valid for this query.', [
      { path: 'after', message: 'not a cursor from this list and order' },
    ]);
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** What a write on a case decides: the event type, the case's next state and any other documents. */
export type CaseDecision = { type: string; next: CaseDoc; data?: Record<string, unknown>; extra?: DocumentChange[] };

export type CaseService = ReturnType<typeof createCaseService>;

export function createCaseService(deps: {
  store: Store;
  executor: CommandExecutor;
  clock: Clock;
  sealer: Sealer;
  organisations: OrganisationService;
  rates: RateService;
  /** Keeps the case's deadline data current on every write (src/modules/deadlines). */
  planDeadlines?: DeadlinePlanner;
}) {
  const { store, executor, clock, sealer, organisations, rates } = deps;
  const planDeadlines: DeadlinePlanner = deps.planDeadlines ?? (async (c) => c);
  const Cases: Model<CaseDoc> = store.model('Case', caseSchema);
  const Plans: Model<PlanDoc> = store.model('Plan', planSchema);
  const References: Model<CaseReferenceDoc> = store.model('CaseReference', caseReferenceSchema);
  const lastReference = new Map<string, number>();
  // A write's answer shows the documents as that write left them, also when it is
  // replayed later for a retried idempotency key: the event's post-images, by id.
  const writtenWith = new WeakMap<CaseDoc, Map<string, { collection: string; doc: Record<string, unknown> }>>();
  /** Keeps, for a case as an event wrote it, the other documents that event wrote. */
  const rememberWrittenWith = (c: CaseDoc, changes: DocumentChange[], written: unknown) =>
    writtenWith.set(
      c,
      new Map(changes.filter((ch) => ch.doc !== written).map((ch) => [ch.doc._id, { collection: ch.collection, doc: ch.doc }])),
    );

  // ---- special-category fields -------------------------------------------------------

  const sealContext = (caseId: string, field: string) => `case:${caseId}:${field}`;

  function sealVulnerability(caseId: string, v: Vulnerability | null): string | null {
    return v ? sealer.seal(JSON.stringify(v), sealContext(caseId, 'vulnerability')) : null;
  }

  function openVulnerability(c: CaseDoc): Vulnerability | null {
    return c.vulnerabilitySealed
      ? (JSON.parse(sealer.openText(c.vulnerabilitySealed, sealContext(c._id, 'vulnerability'))) as Vulnerability)
      : null;
  }

  function sealNeeds(caseId: string, needs: string | null | undefined): string | null {
    return needs ? sealer.seal(needs, sealContext(caseId, 'needs')) : null;
  }

  /**
   * Special-category data is for the referring state and the partner the case is
   * assigned to, and only while it is (not after the partner declined or let it expire).
   */
  function maySeeSpecialCategory(p: Principal, c: CaseDoc): boolean {
    const code = p.organisation.code;
    if (p.organisation.kind === 'MEMBER_STATE') return c.memberState === code;
    if (p.organisation.kind === 'PARTNER')
      return c.partner === code && c.sharedWithPartner && c.status !== 'DECLINED' && c.status !== 'EXPIRED';
    return false;
  }

  // ---- reading -----------------------------------------------------------------------

  async function loadCase(scope: TenantScope, id: string): Promise<CaseDoc | null> {
    const doc = await Cases.findOne({ _id: id }).setOptions({ scope }).lean<CaseDoc>();
    return doc ? withImplementationDefaults(doc) : null;
  }

  async function loadPlan(scope: TenantScope, caseId: string, planVersion: number | null): Promise<PlanDoc | null> {
    if (planVersion === null) return null;
    return Plans.findOne({ _id: `${caseId}:${planVersion}` })
      .setOptions({ scope })
      .lean<PlanDoc>();
  }

  function referenceYear(c: Pick<CaseDoc, 'arrivedOn' | 'plannedArrivalDate'>): number {
    const day = c.arrivedOn ?? c.plannedArrivalDate ?? todayIso(clock.now());
    return Number(day.slice(0, 4));
  }

  // ---- writing -----------------------------------------------------------------------

  /** Load (scoped) → version check → decide → one event with the case and any other documents. */
  async function mutateCase(
    p: Principal,
    command: string,
    id: string,
    expectedVersion: number,
    input: unknown,
    idempotencyKey: string | null | undefined,
    decide: (current: CaseDoc, now: Date) => Promise<CaseDecision> | CaseDecision,
  ): Promise<CaseDoc> {
    const { event } = await executor.execute({
      principal: p,
      command,
      input: { id, expectedVersion, input },
      idempotencyKey,
      decide: async () => {
        const current = await loadCase(caseScope(p), id);
        if (!current) throw notFound('Case', id);
        expectVersion('Case', id, current.version, expectedVersion);
        const now = clock.now();
        const decision = await decide(current, now);
        const next: CaseDoc = await planDeadlines({ ...decision.next, version: current.version + 1, updatedAt: now }, now);
        return {
          aggregateType: 'case',
          aggregateId: id,
          caseId: id,
          version: next.version,
          type: decision.type,
          audience: caseWriteAudience(current, next),
          data: decision.data ?? {},
          // The case last: the projection writes in this order, so whoever reads the case
          // at its new version also finds the other documents of that version (a write
          // deciding on a child document reads the case first, then the child).
          changes: [...(decision.extra ?? []), { collection: 'cases', doc: next }],
        };
      },
    });
    const written = event.changes.find((ch) => ch.collection === 'cases' && ch.doc._id === id)!.doc as unknown as CaseDoc;
    rememberWrittenWith(written, event.changes, written);
    return written;
  }

  /** A referral (first or reopened): shared with the partner, who has 7 days to answer. */
  function referralStarting(
    now: Date,
  ): Pick<CaseDoc, 'sharedWithPartner' | 'referredAt' | 'referralDeadline' | 'respondedAt' | 'declineReason'> {
    return {
      sharedWithPartner: true,
      referredAt: now,
      referralDeadline: new Date(now.getTime() + REFERRAL_ANSWER_DAYS * DAY_MS),
      respondedAt: null,
      declineReason: null,
    };
  }

  function withStatus(c: CaseDoc, status: CaseStatus, now: Date): CaseDoc {
    assertTransition(c.status, status);
    return { ...c, status, statusChangedAt: now };
  }

  /** The number of the newest reference claimed with this prefix (0 when none). */
  async function newestReference(prefix: string): Promise<number> {
    const [newest] = await References.collection
      .find({ _id: { $gte: prefix, $lt: `${prefix}~` } as never }, { sort: { _id: -1 }, limit: 1 })
      .toArray();
    return newest ? Number(String(newest._id).slice(prefix.length)) : 0;
  }

  async function claimReference(memberState: string, year: number, caseId: string): Promise<string> {
    const prefix = `${memberState}-${year}-`;
    let last = lastReference.get(prefix) ?? (await newestReference(prefix));
    for (let attempt = 0; attempt < 10_000; attempt += 1) {
      const reference = `${prefix}${String(last + 1).padStart(6, '0')}`;
      try {
        await References.collection.insertOne({ _id: reference as never, caseId, at: clock.now() });
        lastReference.set(prefix, last + 1);
        return reference;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        last += 1; // another gateway took it
      }
    }
    throw new Error('could not claim a case reference');
  }

  /** Claims consecutive references for many new cases at once (bulk imports). */
  async function claimReferenceBlock(memberState: string, year: number, caseIds: string[]): Promise<string[]> {
    const prefix = `${memberState}-${year}-`;
    const claimed: string[] = [];
    while (claimed.length < caseIds.length) {
      let last = Math.max(await newestReference(prefix), lastReference.get(prefix) ?? 0);
      const docs = caseIds
        .slice(claimed.length)
        .map((caseId) => ({ _id: `${prefix}${String(++last).padStart(6, '0')}` as never, caseId, at: clock.now() }));
      try {
        await References.collection.insertMany(docs, { ordered: true });
        claimed.push(...docs.map((d) => String(d._id)));
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        // Some were taken by a concurrent writer: keep what we got in order, retry the rest.
        const inserted = (error as { insertedCount?: number; result?: { insertedCount?: number } }).result?.insertedCount ?? 0;
        claimed.push(...docs.slice(0, inserted).map((d) => String(d._id)));
      }
      lastReference.set(prefix, Number(claimed.at(-1)?.slice(prefix.length) ?? last));
    }
    return claimed;
  }

  function assertBornBy(household: readonly { yearOfBirth: number }[], year: number): void {
    if (household.some((m) => m.yearOfBirth > year)) {
      throw badInput('A year of birth is in the future.', [{ path: 'household', message: 'year of birth in the future' }]);
    }
  }

  async function checkPartner(code: string, path = 'partner'): Promise<void> {
    const partner = await organisations.lookup(code);
    if (partner?.kind !== 'PARTNER' || !partner.active) {
      throw badInput(`${code} is not an active partner of the network.`, [{ path, message: 'not a partner' }]);
    }
  }

  function consentValid(c: Pick<CaseDoc, 'consent'>, day: string): boolean {
    return c.consent.givenOn <= day && day <= c.consent.expiresOn;
  }

  /** What referral needs: valid consent and an active contract for the partner, country and programme. */
  async function referralContract(c: CaseDoc, partner: string | null, day: string): Promise<string> {
    if (!partner)
      throw badInput('Choose the partner to refer the case to first.', [{ path: 'partner', message: 'required to refer' }]);
    if (!consentValid(c, day)) {
      throw badInput(
        `The returnee's consent is not valid on ${day} (given ${c.consent.givenOn}, expires ${c.consent.expiresOn}); record a new consent first.`,
        [{ path: 'consent', message: 'not valid today' }],
      );
    }
    const contract = await organisations.activeContract(c.memberState, partner, c.originCountry, c.programme, day);
    if (!contract) {
      throw badInput(
        `${c.memberState} has no active contract with ${partner} for ${c.originCountry} under ${c.programme} on ${day}.`,
        [{ path: 'partner', message: 'no active contract' }],
      );
    }
    return contract._id;
  }

  return {
    // ---- queries ---------------------------------------------------------------------

    async get(principal: Principal | null, id: string): Promise<CaseDoc> {
      const p = authorize(principal, 'case.read');
      const c = await loadCase(caseScope(p), id);
      if (!c) throw notFound('Case', id);
      return c;
    },

    /** Batch load for DataLoaders, within the principal's scope. */
    async getMany(principal: Principal, ids: readonly string[]): Promise<(CaseDoc | null)[]> {
      const docs = await Cases.find(idsFilter(ids))
        .setOptions({ scope: caseScope(principal) })
        .lean<CaseDoc[]>();
      const byId = new Map(docs.map((d) => [d._id, withImplementationDefaults(d)]));
      return ids.map((id) => byId.get(id) ?? null);
    },

    async list(principal: Principal | null, args: CaseListArgs): Promise<CaseConnection> {
      const p = authorize(principal, 'case.read');
      const first = pageSize(args.first, 20, MAX_PAGE);
      const order = args.orderBy ?? 'UPDATED_DESC';
      const { field, direction } = ORDERS[order];
      const f = args.filter ?? {};
      const query: Record<string, unknown> = {};
      if (f.memberState) query.memberState = parseInput(organisationCode, f.memberState, 'memberState');
      if (f.partner) query.partner = parseInput(organisationCode, f.partner, 'partner');
      if (f.status?.length) query.status = op({ $in: [...f.status] });
      if (f.originCountry) query.originCountry = parseInput(countryCode, f.originCountry, 'originCountry');
      if (f.programme) query.programme = parseInput(organisationCode, f.programme, 'programme');
      if (f.updatedSince) query.updatedAt = op({ $gte: new Date(f.updatedSince) });
      if (f.reference) {
        const ref = parseInput(
          z
            .string()
            .trim()
            .min(1)
            .max(40)
            .regex(/^[A-Za-z0-9-]+$/, 'letters, digits and -'),
          f.reference,
          'reference',
        ).toUpperCase();
        // A leading part is a prefix search (served by the reference index); anything else matches inside.
        query.reference = op({ $regex: /^[A-Z]{2}-/.test(ref) ? `^${escapeRegex(ref)}` : escapeRegex(ref) });
      }
      const filter = { ...query };
      if (args.after) {
        const cursor = decodeCursor(args.after, order);
        const beyond = direction === -1 ? '$lt' : '$gt';
        if (field === 'reference') {
          query.reference = op({ ...(query.reference as object | undefined), [beyond]: cursor.value });
        } else {
          query.$or = [{ [field]: op({ [beyond]: cursor.value }) }, { [field]: cursor.value, _id: op({ [beyond]: cursor.id }) }];
        }
      }
      const scope = caseScope(p);
      const sort: Record<string, 1 | -1> =
        field === 'reference' ? { reference: direction } : { [field]: direction, _id: direction };
      const docs = await Cases.find(query)
        .setOptions({ scope })
        .sort(sort)
        .limit(first + 1)
        // One batch: the page never costs a getMore or killCursors round trip.
        .batchSize(first + 1)
        .lean<CaseDoc[]>();
      const page = docs.slice(0, first).map(withImplementationDefaults);
      const edges = page.map((node) => ({ cursor: encodeCursor(order, node), node }));
      return {
        edges,
        pageInfo: {
          hasNextPage: docs.length > first,
          hasPreviousPage: Boolean(args.after),
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
        totalCount: () => Cases.countDocuments(filter).setOptions({ scope }).exec(),
      };
    },

    /** Plans of many cases (all versions), in one query, within the principal's scope. */
    async plansOf(principal: Principal, caseIds: readonly string[]): Promise<PlanDoc[][]> {
      const docs = await Plans.find({ caseId: op({ $in: [...caseIds] }) })
        .setOptions({ scope: caseScope(principal) })
        .sort({ caseId: 1, planVersion: 1 })
        .lean<PlanDoc[]>();
      return caseIds.map((id) => docs.filter((d) => d.caseId === id));
    },

    /** Plan versions by id (`<caseId>:<n>`), in one query, within the principal's scope. */
    async plansById(principal: Principal, ids: readonly string[]): Promise<(PlanDoc | null)[]> {
      const docs = await Plans.find(idsFilter(ids))
        .setOptions({ scope: caseScope(principal) })
        .lean<PlanDoc[]>();
      const byId = new Map(docs.map((d) => [d._id, d]));
      return ids.map((id) => byId.get(id) ?? null);
    },

    maySeeSpecialCategory,

    /** A document written together with this case by the write that returned it, if any. */
    writtenAlongside<T>(c: CaseDoc, id: string): T | undefined {
      return writtenWith.get(c)?.get(id)?.doc as T | undefined;
    },

    /** The documents of one collection written together with this case by the write that returned it. */
    writtenIn<T>(c: CaseDoc, collection: string): T[] {
      return [...(writtenWith.get(c)?.values() ?? [])].filter((w) => w.collection === collection).map((w) => w.doc as T);
    },

    /**
     * The one way other modules (progress, shipments, evidence, monitoring) write on a
     * case: loaded through the tenant policy, version-checked, committed as one event
     * that bumps the case's version and carries the case and any child documents.
     */
    writeCase: mutateCase,
    claimReferenceBlock,
    /** Which of these case ids exist (bulk imports skip them). */
    async existingIds(ids: string[]): Promise<string[]> {
      const docs = await Cases.find({ _id: op({ $in: ids }) }, { _id: 1 })
        .setOptions({ scope: SYSTEM })
        .lean<{ _id: string }[]>();
      return docs.map((d) => d._id);
    },
    sealVulnerability,
    sealNeeds,
    /** A case as the principal may see it, or null (for modules that check parties). */
    loadCase: (principal: Principal, id: string) => loadCase(caseScope(principal), id),
    withStatus,

    /**
     * A case's post-image as an event wrote it, with the documents written alongside (so
     * `plan` shows the version of that moment), for the feed and subscriptions.
     */
    fromChanges(changes: DocumentChange[], id: string, options = { specialCategory: true }): CaseDoc | undefined {
      const written = changes.find((ch) => ch.collection === 'cases' && ch.doc._id === id)?.doc as CaseDoc | undefined;
      if (!written) return undefined;
      const doc = options.specialCategory
        ? { ...written }
        : { ...written, vulnerabilitySealed: null, needsAssessmentSealed: null };
      rememberWrittenWith(doc, changes, written);
      return doc;
    },

    /** Special category: opened only for a party, and every read is noted for the audit trail. */
    vulnerability(principal: Principal | null, c: CaseDoc, access: AccessRecorder): Vulnerability | null {
      const p = requirePrincipal(principal);
      if (!maySeeSpecialCategory(p, c) || !c.vulnerabilitySealed) return null;
      access.read(c, 'vulnerability');
      return openVulnerability(c);
    },

    needsAssessment(principal: Principal | null, c: CaseDoc, access: AccessRecorder): string | null {
      const p = requirePrincipal(principal);
      if (!maySeeSpecialCategory(p, c) || !c.needsAssessmentSealed) return null;
      access.read(c, 'needsAssessment');
      return sealer.openText(c.needsAssessmentSealed, sealContext(c._id, 'needs'));
    },

    referenceYear,
    consentValid: (c: CaseDoc) => consentValid(c, todayIso(clock.now())),

    // ---- case life cycle ---------------------------------------------------------------

    async create(principal: Principal | null, rawInput: unknown, idempotencyKey?: string | null): Promise<CaseDoc> {
      const p = authorize(principal, 'case.create');
      if (p.organisation.kind !== 'MEMBER_STATE') throw badInput('Only a member state registers cases.');
      const input = parseInput(createCaseInput, rawInput);
      const { event } = await executor.execute({
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
          if (programme.returnType && programme.returnType !== input.returnType) {
            throw badInput(`${programme.code} is for ${programme.returnType} return.`, [
              { path: 'returnType', message: `must be ${programme.returnType}` },
            ]);
          }
          if (input.partner) await checkPartner(input.partner);
          if (input.arrivedOn && input.arrivedOn > today) {
            throw badInput('arrivedOn is in the future; use plannedArrivalDate for a planned return.', [
              { path: 'arrivedOn', message: 'in the future' },
            ]);
          }
          const thisYear = now.getUTCFullYear();
          assertBornBy(input.household, thisYear);
          const id = randomUUID();
          const reference = await claimReference(p.organisation.code, thisYear, id);
          const vulnerability = input.vulnerability ? { ...input.vulnerability, notes: input.vulnerability.notes ?? null } : null;
          const draft = { arrivedOn: input.arrivedOn ?? null, plannedArrivalDate: input.plannedArrivalDate ?? null };
          const doc: CaseDoc = {
            _id: id,
            reference,
            memberState: p.organisation.code,
            partner: input.partner ?? null,
            sharedWithPartner: false,
            contract: null,
            programme: programme._id,
            originCountry: input.originCountry,
            returnType: input.returnType,
            plannedDepartureDate: input.plannedDepartureDate ?? null,
            plannedArrivalDate: draft.plannedArrivalDate,
            arrivedOn: draft.arrivedOn,
            registeredAfterReturn: Boolean(input.arrivedOn),
            household: input.household,
            needsAssessmentSealed: sealNeeds(id, input.needsAssessment),
            vulnerabilitySealed: sealVulnerability(id, vulnerability),
            consent: input.consent,
            entitlement: computeEntitlement(
              programme,
              input.household,
              vulnerability?.unaccompaniedMinor ?? false,
              referenceYear(draft),
              now,
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
            version: 1,
            createdAt: now,
            updatedAt: now,
          };
          return {
            aggregateType: 'case',
            aggregateId: id,
            caseId: id,
            version: 1,
            type: 'CaseCreated',
            audience: [doc.memberState],
            data: {},
            changes: [{ collection: 'cases', doc }],
          };
        },
      });
      return writtenDocument<CaseDoc>(event);
    },

    async update(
      principal: Principal | null,
      id: string,
      rawInput: unknown,
      expectedVersion: number,
      idempotencyKey?: string | null,
    ) {
      const p = authorize(principal, 'case.update');
      const input = parseInput(updateCaseInput, rawInput);
      return mutateCase(p, 'updateCase', id, expectedVersion, input, idempotencyKey, async (c, now) => {
        if (c.status === 'CLOSED') throw invalidTransition(c.status, 'updateCase', []);
        if (input.partner && input.partner !== c.partner) {
          assertStatusAllows(c.status, 'change the partner', ['DRAFT', 'DECLINED', 'EXPIRED']);
          await checkPartner(input.partner);
        }
        const next: CaseDoc = { ...c };
        // A new partner sees the case only once it is referred to it (reopenCase).
        if (input.partner && input.partner !== c.partner) next.sharedWithPartner = false;
        if (input.partner) next.partner = input.partner;
        if (input.plannedDepartureDate !== undefined) next.plannedDepartureDate = input.plannedDepartureDate;
        if (input.plannedArrivalDate !== undefined) next.plannedArrivalDate = input.plannedArrivalDate;
        if (input.consent) next.consent = input.consent;
        if (input.needsAssessment !== undefined) next.needsAssessmentSealed = sealNeeds(id, input.needsAssessment);
        let vulnerability = openVulnerability(c);
        if (input.vulnerability) {
          vulnerability = { ...input.vulnerability, notes: input.vulnerability.notes ?? null };
          next.vulnerabilitySealed = sealVulnerability(id, vulnerability);
        }
        if (input.household) {
          assertBornBy(input.household, now.getUTCFullYear());
          next.household = input.household;
        }
        if (input.household || input.vulnerability || input.plannedArrivalDate !== undefined) {
          const programme = await organisations.programme(c.programme);
          next.entitlement = computeEntitlement(
            programme!,
            next.household,
            vulnerability?.unaccompaniedMinor ?? false,
            referenceYear(next),
            now,
          );
        }
        const fields = Object.keys(input).filter((k) => input[k as keyof typeof input] !== undefined);
        return { type: 'CaseUpdated', next, data: { fields } };
      });
    },

    async refer(principal: Principal | null, id: string, expectedVersion: number, idempotencyKey?: string | null) {
      const p = authorize(principal, 'case.refer');
      return mutateCase(p, 'referCase', id, expectedVersion, {}, idempotencyKey, async (c, now) => {
        const next = withStatus(c, 'REFERRED', now);
        const contract = await referralContract(c, c.partner, todayIso(now));
        return {
          type: 'CaseReferred',
          next: {
            ...next,
            contract,
            ...referralStarting(now),
          },
          data: { partner: c.partner, contract },
        };
      });
    },

    async respond(
      principal: Principal | null,
      args: { id: string; decision: 'ACCEPT' | 'DECLINE'; reason?: string | null; expectedVersion: number },
      idempotencyKey?: string | null,
    ) {
      const p = authorize(principal, 'referral.respond');
      const reason = args.decision === 'DECLINE' ? parseInput(requiredText(1000), args.reason ?? '', 'reason') : null;
      return mutateCase(
        p,
        'respondToReferral',
        args.id,
        args.expectedVersion,
        { decision: args.decision, reason },
        idempotencyKey,
        (c, now) => {
          if (c.status === 'REFERRED' && c.referralDeadline && now > c.referralDeadline) {
            throw invalidTransition('EXPIRED', args.decision === 'ACCEPT' ? 'ACCEPTED' : 'DECLINED', ['REFERRED', 'CLOSED']);
          }
          const status = args.decision === 'ACCEPT' ? 'ACCEPTED' : 'DECLINED';
          const next = withStatus(c, status, now);
          return {
            type: args.decision === 'ACCEPT' ? 'ReferralAccepted' : 'ReferralDeclined',
            next: { ...next, respondedAt: now, declineReason: reason },
            data: reason ? { reason } : {},
          };
        },
      );
    },

    async reopen(
      principal: Principal | null,
      args: { id: string; partner?: string | null; expectedVersion: number },
      idempotencyKey?: string | null,
    ) {
      const p = authorize(principal, 'case.reopen');
      const partner = args.partner ? parseInput(organisationCode, args.partner, 'partner') : null;
      return mutateCase(p, 'reopenCase', args.id, args.expectedVersion, { partner }, idempotencyKey, async (c, now) => {
        assertStatusAllows(c.status, 'REFERRED', ['EXPIRED', 'DECLINED']);
        const next = withStatus(c, 'REFERRED', now);
        const newPartner = partner ?? c.partner;
        if (partner) await checkPartner(partner);
        const contract = await referralContract(c, newPartner, todayIso(now));
        return {
          type: 'CaseReopened',
          next: {
            ...next,
            partner: newPartner,
            contract,
            ...referralStarting(now),
          },
          data: { partner: newPartner, previousPartner: c.partner },
        };
      });
    },

    async confirmArrival(
      principal: Principal | null,
      args: { id: string; arrivedOn: string; expectedVersion: number },
      idempotencyKey?: string | null,
    ) {
      const p = authorize(principal, 'arrival.confirm');
      const arrivedOn = parseInput(isoDate, args.arrivedOn, 'arrivedOn');
      return mutateCase(p, 'confirmArrival', args.id, args.expectedVersion, { arrivedOn }, idempotencyKey, async (c, now) => {
        const next = withStatus(c, 'ARRIVED', now);
        if (arrivedOn > todayIso(now))
          throw badInput('arrivedOn is in the future.', [{ path: 'arrivedOn', message: 'in the future' }]);
        const withArrival = { ...next, arrivedOn };
        // Ages (and so the entitlement) are counted at arrival.
        if (referenceYear(withArrival) !== referenceYear(c)) {
          const programme = await organisations.programme(c.programme);
          withArrival.entitlement = computeEntitlement(
            programme!,
            c.household,
            openVulnerability(c)?.unaccompaniedMinor ?? false,
            referenceYear(withArrival),
            now,
          );
        }
        return { type: 'ArrivalConfirmed', next: withArrival, data: { arrivedOn } };
      });
    },

    async close(
      principal: Principal | null,
      args: { id: string; reason: ClosureReason; comment?: string | null; expectedVersion: number },
      idempotencyKey?: string | null,
    ) {
      const p = authorize(principal, 'case.close');
      const reason = parseInput(z.enum(CLOSURE_REASONS), args.reason, 'reason');
      const comment = args.comment ? parseInput(text(2000), args.comment, 'comment') : null;
      return mutateCase(p, 'closeCase', args.id, args.expectedVersion, { reason, comment }, idempotencyKey, (c, now) => ({
        type: 'CaseClosed',
        next: { ...withStatus(c, 'CLOSED', now), closedAt: now, closureReason: reason, closureComment: comment },
        data: { reason },
      }));
    },

    /**
     * Expires referrals unanswered past their deadline (a background job; safe to run on
     * several gateways at once: each expiry is a version-checked write).
     */
    async expireReferrals(system: Principal): Promise<number> {
      const now = clock.now();
      const due = await Cases.find({ status: 'REFERRED', referralDeadline: op({ $lt: now }) })
        .setOptions({ scope: SYSTEM })
        .limit(500)
        .lean<CaseDoc[]>();
      let expired = 0;
      for (const c of due) {
        try {
          await executor.execute({
            principal: system,
            command: 'expireReferral',
            input: { id: c._id, version: c.version },
            idempotencyKey: `expire-${c._id}-${c.version}`,
            decide: async () => {
              const current = await loadCase(SYSTEM, c._id);
              if (!current || current.version !== c.version) throw new Error('changed meanwhile');
              const next: CaseDoc = await planDeadlines(
                { ...withStatus(current, 'EXPIRED', now), version: current.version + 1, updatedAt: now },
                now,
              );
              return {
                aggregateType: 'case',
                aggregateId: c._id,
                caseId: c._id,
                version: next.version,
                type: 'ReferralExpired',
                audience: caseWriteAudience(current, next),
                data: { deadline: c.referralDeadline },
                changes: [{ collection: 'cases', doc: next }],
              };
            },
          });
          expired += 1;
        } catch {
          // Answered or changed meanwhile: nothing to expire.
        }
      }
      return expired;
    },

    // ---- plans ---------------------------------------------------------------------------

    async saveDraftPlan(
      principal: Principal | null,
      args: { caseId: string; plan: unknown; expectedVersion: number },
      idempotencyKey?: string | null,
    ) {
      const p = authorize(principal, 'plan.draft');
      const input = parseInput(planInput, args.plan, 'plan');
      const components = normaliseComponents(input);
      return mutateCase(p, 'saveDraftPlan', args.caseId, args.expectedVersion, input, idempotencyKey, async (c, now) => {
        assertStatusAllows(c.status, 'saveDraftPlan', PLAN_DRAFTING_STATUSES);
        const latest = await loadPlan(caseScope(p), c._id, c.latestPlan);
        if (latest?.status === 'SUBMITTED')
          throw invalidTransition(c.status, 'saveDraftPlan (a submitted plan awaits its decision)', ['decidePlan']);
        let plan: PlanDoc;
        if (latest?.status === 'DRAFT') {
          plan = { ...latest, summary: input.summary ?? null, components, version: latest.version + 1, updatedAt: now };
        } else {
          const planVersion = (c.latestPlan ?? 0) + 1;
          plan = {
            _id: `${c._id}:${planVersion}`,
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
            version: 1,
            createdAt: now,
            updatedAt: now,
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

    async submitPlan(
      principal: Principal | null,
      args: { caseId: string; expectedVersion: number },
      idempotencyKey?: string | null,
    ) {
      const p = authorize(principal, 'plan.submit');
      return mutateCase(p, 'submitPlan', args.caseId, args.expectedVersion, {}, idempotencyKey, async (c, now) => {
        const amendment = PLAN_IN_FORCE_STATUSES.includes(c.status);
        const next = amendment ? { ...c } : withStatus(c, 'PLAN_SUBMITTED', now);
        const draft = await loadPlan(caseScope(p), c._id, c.latestPlan);
        if (draft?.status !== 'DRAFT')
          throw invalidTransition(c.status, 'submitPlan (there is no draft plan to submit)', ['saveDraftPlan']);
        const day = todayIso(now);
        const applied = await rates.ratesOn(currenciesOf(draft.components), day);
        const costed = costInEur(draft.components, applied);
        checkBudget(costed, c.entitlement);
        const plan: PlanDoc = {
          ...draft,
          status: 'SUBMITTED',
          components: costed.components,
          totalEur: costed.totalEur,
          cashEur: costed.cashEur,
          ratesUsed: costed.ratesUsed,
          submittedAt: now,
          version: draft.version + 1,
          updatedAt: now,
        };
        return {
          type: 'PlanSubmitted',
          next,
          data: { planVersion: plan.planVersion, totalEur: costed.totalEur, cashEur: costed.cashEur, amendment },
          extra: [{ collection: 'plans', doc: plan }],
        };
      });
    },

    async decidePlan(
      principal: Principal | null,
      args: { caseId: string; decision: 'APPROVE' | 'REQUEST_CHANGES'; comment?: string | null; expectedVersion: number },
      idempotencyKey?: string | null,
    ) {
      const p = authorize(principal, 'plan.decide');
      const comment =
        args.decision === 'REQUEST_CHANGES'
          ? parseInput(requiredText(2000), args.comment ?? '', 'comment')
          : args.comment
            ? parseInput(text(2000), args.comment, 'comment')
            : null;
      return mutateCase(
        p,
        'decidePlan',
        args.caseId,
        args.expectedVersion,
        { decision: args.decision, comment },
        idempotencyKey,
        async (c, now) => {
          const scope = caseScope(p);
          const submitted = await loadPlan(scope, c._id, c.latestPlan);
          if (submitted?.status !== 'SUBMITTED')
            throw invalidTransition(c.status, 'decidePlan (no plan awaits a decision)', ['submitPlan']);
          const amendment = PLAN_IN_FORCE_STATUSES.includes(c.status);
          const approve = args.decision === 'APPROVE';
          let next = amendment ? { ...c } : withStatus(c, approve ? 'PLAN_APPROVED' : 'CHANGES_REQUESTED', now);
          const plan: PlanDoc = {
            ...submitted,
            status: approve ? 'APPROVED' : 'CHANGES_REQUESTED',
            decidedAt: now,
            decisionComment: comment,
            version: submitted.version + 1,
            updatedAt: now,
          };
          const extra: DocumentChange[] = [{ collection: 'plans', doc: plan }];
          if (approve) {
            const previous = await loadPlan(scope, c._id, c.planInForce);
            if (previous)
              extra.push({
                collection: 'plans',
                doc: { ...previous, status: 'SUPERSEDED', version: previous.version + 1, updatedAt: now },
              });
            next = { ...next, planInForce: plan.planVersion };
          }
          return {
            type: approve ? 'PlanApproved' : 'PlanChangesRequested',
            next,
            data: { planVersion: plan.planVersion, amendment, ...(comment ? { comment } : {}) },
            extra,
          };
        },
      );
    },
  };
}
