// The rules for organisations, contracts and programmes. The directory is public to
// every authenticated member; contracts are read through the tenant policy; only the
// network's administrators change either.
import { DirectoryCache } from './directory.cache.ts';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Model } from 'mongoose';
import { Audience, authorize, can, contractScope, requirePrincipal } from '../../auth/policy.ts';
import type { OrganisationKind, Principal } from '../../auth/principal.ts';
import { badInput, notFound } from '../../errors.ts';
import { documentWrite, expectVersion, revisionWrite, writtenDocument } from '../../events/executor.ts';
import { idsFilter, op } from '../../store/tenant.ts';
import { countryCode, isoDate, organisationCode, parseInput, requiredText, todayIso } from '../../validation.ts';
import {
  contractSchema,
  OPEN_END,
  organisationSchema,
  programmeOpenTo,
  programmeSchema,
  withOrganisationDefaults,
  withProgrammeDefaults,
  type ContractDoc,
  type OrganisationDoc,
  type ProgrammeDoc,
} from './organisation.model.ts';
import { AGENCY_TYPES, isMemberStateUnit, ORGANISATION_KINDS } from '../../auth/principal.ts';
import { firstVersion, nextVersion, type StoredEvent } from '../../events/event.model.ts';
import type { Needs } from '../../deps.ts';
import { WITHHELD_ACTOR } from '../feed/feed.service.ts';

/**
 * Codes the gateway itself writes where an organisation's code goes: the actor of system
 * writes, and the actor shown to a unit for a change it may not see (feed.service.ts).
 */
const RESERVED_CODES = new Set(['SYSTEM', WITHHELD_ACTOR]);

const createOrganisationInput = z.object({
  code: organisationCode.refine((code) => !RESERVED_CODES.has(code), 'reserved by the gateway'),
  kind: z.enum(ORGANISATION_KINDS),
  name: requiredText(200),
  countries: z.array(countryCode).max(100),
  memberState: organisationCode.optional().nullable(),
  agency: z.enum(AGENCY_TYPES).optional().nullable(),
});

const updateOrganisationInput = z.object({
  name: requiredText(200).optional().nullable(),
  countries: z.array(countryCode).max(100).optional().nullable(),
  active: z.boolean().optional().nullable(),
});

const createContractInput = z
  .object({
    id: organisationCode.optional().nullable(),
    memberState: organisationCode,
    partner: organisationCode,
    originCountries: z.array(countryCode).min(1).max(100),
    programmes: z.array(organisationCode).min(1).max(20),
    validFrom: isoDate,
    validTo: isoDate.optional().nullable(),
  })
  .refine((c) => !c.validTo || c.validTo >= c.validFrom, { message: 'validTo is before validFrom', path: ['validTo'] });

export type ContractFilter = {
  memberState?: string | null;
  partner?: string | null;
  originCountry?: string | null;
  activeOn?: string | null;
};

export type OrganisationService = ReturnType<typeof createOrganisationService>;

export function createOrganisationService(deps: Needs<'store' | 'executor' | 'clock'>) {
  const { store, executor, clock } = deps;
  const Organisations: Model<OrganisationDoc> = store.model('Organisation', organisationSchema);
  const Contracts: Model<ContractDoc> = store.model('Contract', contractSchema);
  const Programmes: Model<ProgrammeDoc> = store.model('Programme', programmeSchema);

  // Token checks look organisations up on every request; a short cache spares the store.
  const lookupCache = new Map<string, { at: number; value: OrganisationDoc | null }>();
  const LOOKUP_TTL_MS = 10_000;
  // What pages show of organisations and programmes (directory.cache.ts).
  const directory = new DirectoryCache<OrganisationDoc>('organisations', withOrganisationDefaults, () => clock.now().getTime());
  const programmeDirectory = new DirectoryCache<ProgrammeDoc>('programmes', withProgrammeDefaults, () => clock.now().getTime());

  async function getOrganisationDoc(code: string): Promise<OrganisationDoc | null> {
    const doc = await Organisations.findById(code).lean<OrganisationDoc>();
    return doc ? withOrganisationDefaults(doc) : null;
  }

  /** The event of a write on an organisation: the directory is everyone's. */
  const organisationEvent = (doc: OrganisationDoc, type: string, data: Record<string, unknown> = {}) =>
    documentWrite({ aggregateType: 'organisation', collection: 'organisations', doc, type, audience: [Audience.everyone], data });

  /** The event of a write on a contract, seen by its two parties and the network's administrators. */
  const contractEvent = (doc: ContractDoc, type: string, data: Record<string, unknown> = {}) =>
    documentWrite({
      aggregateType: 'contract',
      collection: 'contracts',
      doc,
      type,
      audience: [doc.memberState, doc.partner, Audience.ofKind('NETWORK')],
      data,
    });

  return {
    /** For authentication: the organisation a token asserts, cached briefly. */
    async lookup(code: string): Promise<OrganisationDoc | null> {
      const hit = lookupCache.get(code);
      if (hit && Date.now() - hit.at < LOOKUP_TTL_MS) return hit.value;
      const value = await getOrganisationDoc(code);
      lookupCache.set(code, { at: Date.now(), value });
      return value;
    },

    /**
     * An active unit of a member state, of one of the kinds given; otherwise BAD_USER_INPUT
     * on `path` (a unit of another state is as unknown as a missing one).
     */
    async unitOf(memberState: string, code: string, kinds: readonly OrganisationKind[], path: string): Promise<OrganisationDoc> {
      const unit = await getOrganisationDoc(code);
      if (!unit || !unit.active || unit.memberState !== memberState || !kinds.includes(unit.kind)) {
        throw badInput(`${code} is not an active ${kinds.join(' or ').toLowerCase().replaceAll('_', ' ')} of ${memberState}.`, [
          { path, message: `not a unit of ${memberState}` },
        ]);
      }
      return unit;
    },

    async list(
      principal: Principal | null,
      filter: { kind?: OrganisationKind | null; memberState?: string | null } = {},
    ): Promise<OrganisationDoc[]> {
      requirePrincipal(principal);
      const query: Record<string, unknown> = {};
      if (filter.memberState) query.memberState = parseInput(organisationCode, filter.memberState, 'memberState');
      if (filter.kind) query.kind = filter.kind;
      const docs = await Organisations.find(query).sort({ kind: 1, code: 1 }).lean<OrganisationDoc[]>();
      return docs.map(withOrganisationDefaults);
    },

    async get(principal: Principal | null, code: string): Promise<OrganisationDoc> {
      requirePrincipal(principal);
      const doc = await getOrganisationDoc(code);
      if (!doc) throw notFound('Organisation', code);
      return doc;
    },

    /** Batch load for DataLoaders: remembered, the rest in one query, in the order asked. */
    getMany: (codes: readonly string[]): Promise<(OrganisationDoc | null)[]> =>
      directory.getMany(codes, async (missing) => {
        const docs = await Organisations.find(idsFilter(missing)).lean<OrganisationDoc[]>();
        return new Map(docs.map((d) => [d._id, withOrganisationDefaults(d)]));
      }),

    async create(principal: Principal | null, rawInput: unknown, idempotencyKey?: string | null): Promise<OrganisationDoc> {
      const p = authorize(principal, 'organisation.manage');
      const input = parseInput(createOrganisationInput, rawInput);
      if (input.kind === 'MEMBER_STATE' && !/^[A-Z]{2}$/.test(input.code)) {
        throw badInput('A member state’s code is its ISO 3166 alpha-2 code.', [{ path: 'code', message: 'two capital letters' }]);
      }
      if (isMemberStateUnit(input.kind) !== Boolean(input.memberState)) {
        throw badInput(
          isMemberStateUnit(input.kind)
            ? `An organisation of kind ${input.kind} belongs to a member state: name it.`
            : `Only a member state's units belong to a member state; ${input.kind} does not.`,
          [{ path: 'memberState', message: isMemberStateUnit(input.kind) ? 'required' : 'not allowed' }],
        );
      }
      if ((input.kind === 'AGENCY') !== Boolean(input.agency)) {
        const needed = input.kind === 'AGENCY';
        throw badInput(needed ? 'An agency says what it is (agency).' : `Only an agency has an agency type, not ${input.kind}.`, [
          { path: 'agency', message: needed ? 'required' : 'not allowed' },
        ]);
      }
      const { event } = await executor.execute({
        principal: p,
        command: 'createOrganisation',
        input,
        idempotencyKey,
        decide: async () => {
          if (await getOrganisationDoc(input.code)) {
            throw badInput(`An organisation with code ${input.code} exists already.`, [{ path: 'code', message: 'taken' }]);
          }
          if (input.memberState) {
            const state = await getOrganisationDoc(input.memberState);
            if (state?.kind !== 'MEMBER_STATE') {
              throw badInput(`${input.memberState} is not a member state of the network.`, [
                { path: 'memberState', message: 'not a member state' },
              ]);
            }
          }
          const now = clock.now();
          const doc: OrganisationDoc = {
            _id: input.code,
            ...input,
            memberState: input.memberState ?? null,
            agency: input.agency ?? null,
            active: true,
            ...firstVersion(now),
          };
          return organisationEvent(doc, 'OrganisationCreated');
        },
      });
      lookupCache.delete(input.code);
      return writtenDocument<OrganisationDoc>(event);
    },

    async update(
      principal: Principal | null,
      code: string,
      rawInput: unknown,
      expectedVersion: number,
      idempotencyKey?: string | null,
    ): Promise<OrganisationDoc> {
      const p = authorize(principal, 'organisation.manage');
      const input = parseInput(updateOrganisationInput, rawInput);
      const { event } = await executor.execute({
        principal: p,
        command: 'updateOrganisation',
        input: { code, input, expectedVersion },
        idempotencyKey,
        decide: async () => {
          const current = await getOrganisationDoc(code);
          if (!current) throw notFound('Organisation', code);
          expectVersion('Organisation', code, current.version, expectedVersion);
          const doc = nextVersion(
            current,
            {
              name: input.name ?? current.name,
              countries: input.countries ?? current.countries,
              active: input.active ?? current.active,
            },
            clock.now(),
          );
          return organisationEvent(doc, 'OrganisationUpdated', {
            fields: Object.keys(input).filter((k) => input[k as keyof typeof input] != null),
          });
        },
      });
      lookupCache.delete(code);
      return writtenDocument<OrganisationDoc>(event);
    },

    async contracts(principal: Principal | null, filter: ContractFilter = {}): Promise<ContractDoc[]> {
      const p = authorize(principal, 'contract.read');
      const query: Record<string, unknown> = {};
      if (filter.memberState) query.memberState = filter.memberState;
      if (filter.partner) query.partner = filter.partner;
      if (filter.originCountry) query.originCountries = filter.originCountry;
      if (filter.activeOn) {
        const day = parseInput(isoDate, filter.activeOn, 'activeOn');
        query.validTo = op({ $gte: day });
        query.validFrom = op({ $lte: day });
      }
      return Contracts.find(query)
        .setOptions({ scope: contractScope(p) })
        .sort({ memberState: 1, partner: 1, _id: 1 })
        .lean<ContractDoc[]>();
    },

    /** Contracts of many organisations, in one query within the caller's scope (DataLoader batch). */
    async contractsOfMany(principal: Principal, codes: readonly string[]): Promise<ContractDoc[][]> {
      if (!can(principal, 'contract.read')) return codes.map(() => []);
      const list = [...codes];
      const docs = await Contracts.find({ $or: [{ memberState: op({ $in: list }) }, { partner: op({ $in: list }) }] })
        .setOptions({ scope: contractScope(principal) })
        .sort({ memberState: 1, partner: 1, _id: 1 })
        .lean<ContractDoc[]>();
      return list.map((code) => docs.filter((d) => d.memberState === code || d.partner === code));
    },

    async contract(principal: Principal | null, id: string): Promise<ContractDoc> {
      const p = authorize(principal, 'contract.read');
      const doc = await Contracts.findOne({ _id: id })
        .setOptions({ scope: contractScope(p) })
        .lean<ContractDoc>();
      if (!doc) throw notFound('Contract', id);
      return doc;
    },

    /**
     * The contract under which a member state may refer a case to a partner for an
     * origin country and programme on a day, if any. Internal: callers are services
     * that have already authorised the member state.
     */
    async activeContract(
      memberState: string,
      partner: string,
      originCountry: string,
      programme: string,
      day: string,
    ): Promise<ContractDoc | null> {
      return (
        Contracts.findOne({
          memberState,
          partner,
          originCountries: originCountry,
          programmes: programme,
          validFrom: op({ $lte: day }),
          validTo: op({ $gte: day }),
        })
          .setOptions({ scope: { filter: { memberState } } })
          // Of two overlapping contracts, the one that runs longest, then by id: never whichever the store finds first.
          .sort({ validTo: -1, _id: 1 })
          .lean<ContractDoc>()
      );
    },

    async createContract(principal: Principal | null, rawInput: unknown, idempotencyKey?: string | null): Promise<ContractDoc> {
      const p = authorize(principal, 'contract.manage');
      const input = parseInput(createContractInput, rawInput);
      const { event } = await executor.execute({
        principal: p,
        command: 'createContract',
        input,
        idempotencyKey,
        decide: async () => {
          const [memberState, partner] = await Promise.all([
            getOrganisationDoc(input.memberState),
            getOrganisationDoc(input.partner),
          ]);
          const problems = [];
          if (memberState?.kind !== 'MEMBER_STATE')
            problems.push({ path: 'memberState', message: 'not a member state of the network' });
          if (partner?.kind !== 'PARTNER') problems.push({ path: 'partner', message: 'not a partner of the network' });
          const programmes = await Programmes.find({ _id: op({ $in: input.programmes }) }).lean<ProgrammeDoc[]>();
          for (const code of input.programmes) {
            const found = programmes.find((pr) => pr._id === code);
            const programme = found && withProgrammeDefaults(found);
            if (!programme) problems.push({ path: 'programmes', message: `unknown programme ${code}` });
            // A national programme serves its own member state only: no case could be registered under it here.
            else if (!programmeOpenTo(programme, input.memberState))
              problems.push({ path: 'programmes', message: `${code} is not open to ${input.memberState}` });
          }
          if (problems.length > 0) throw badInput('The contract names unknown parties or programmes.', problems);
          const id = input.id ?? `C-${input.memberState}-${input.partner}-${randomBytes(3).toString('hex').toUpperCase()}`;
          const existing = await Contracts.findOne({ _id: id })
            .setOptions({ scope: contractScope(p) })
            .lean();
          if (existing) throw badInput(`A contract with id ${id} exists already.`, [{ path: 'id', message: 'taken' }]);
          const now = clock.now();
          const doc: ContractDoc = {
            _id: id,
            memberState: input.memberState,
            partner: input.partner,
            originCountries: input.originCountries,
            programmes: input.programmes,
            validFrom: input.validFrom,
            validTo: input.validTo ?? OPEN_END,
            endedAt: null,
            endReason: null,
            ...firstVersion(now),
          };
          return contractEvent(doc, 'ContractCreated');
        },
      });
      return writtenDocument<ContractDoc>(event);
    },

    async endContract(
      principal: Principal | null,
      args: { id: string; endDate: string; reason: string; expectedVersion: number },
      idempotencyKey?: string | null,
    ): Promise<ContractDoc> {
      const p = authorize(principal, 'contract.manage');
      const endDate = parseInput(isoDate, args.endDate, 'endDate');
      const reason = parseInput(requiredText(500), args.reason, 'reason');
      const { event } = await executor.execute({
        principal: p,
        command: 'endContract',
        input: { ...args, endDate, reason },
        idempotencyKey,
        decide: async () => {
          const current = await Contracts.findOne({ _id: args.id })
            .setOptions({ scope: contractScope(p) })
            .lean<ContractDoc>();
          if (!current) throw notFound('Contract', args.id);
          expectVersion('Contract', args.id, current.version, args.expectedVersion);
          if (endDate < current.validFrom) {
            throw badInput('A contract cannot end before it starts.', [
              { path: 'endDate', message: `before ${current.validFrom}` },
            ]);
          }
          if (current.endedAt) throw badInput('This contract has been ended already.', [{ path: 'id', message: 'ended' }]);
          const now = clock.now();
          const validTo = endDate < current.validTo ? endDate : current.validTo;
          const doc = nextVersion(current, { validTo, endedAt: now, endReason: reason }, now);
          return contractEvent(doc, 'ContractEnded', { endDate, reason });
        },
      });
      return writtenDocument<ContractDoc>(event);
    },

    isActiveOn(contract: ContractDoc, day: string = todayIso(clock.now())): boolean {
      return contract.validFrom <= day && day <= contract.validTo;
    },

    async programmes(principal: Principal | null): Promise<ProgrammeDoc[]> {
      requirePrincipal(principal);
      return (await Programmes.find({}).sort({ code: 1 }).lean<ProgrammeDoc[]>()).map(withProgrammeDefaults);
    },

    async programme(code: string): Promise<ProgrammeDoc | null> {
      const doc = await Programmes.findById(code).lean<ProgrammeDoc>();
      return doc ? withProgrammeDefaults(doc) : null;
    },

    getProgrammes: (codes: readonly string[]): Promise<(ProgrammeDoc | null)[]> =>
      programmeDirectory.getMany(codes, async (missing) => {
        const docs = await Programmes.find(idsFilter(missing)).lean<ProgrammeDoc[]>();
        return new Map(docs.map((d) => [d._id, withProgrammeDefaults(d)]));
      }),

    /** What getMany and getProgrammes would answer from memory, at once (undefined: ask them). */
    rememberedOrganisation: (code: string): OrganisationDoc | undefined => directory.remembered(code),
    rememberedProgramme: (code: string): ProgrammeDoc | undefined => programmeDirectory.remembered(code),

    /** An event read from the log or committed here: directory changes reach the caches of pages. */
    observe(event: StoredEvent): void {
      directory.observe(event);
      programmeDirectory.observe(event);
    },

    /** Writes a programme's rules (configuration loaded by the seed), as an event. */
    async putProgramme(
      principal: Principal,
      rules: Omit<ProgrammeDoc, '_id' | 'version' | 'createdAt' | 'updatedAt'>,
      idempotencyKey: string,
    ) {
      const { event } = await executor.execute({
        principal,
        command: 'putProgramme',
        input: rules,
        idempotencyKey,
        decide: async () => {
          const stored = await Programmes.findById(rules.code).lean<ProgrammeDoc>();
          const current = stored ? withProgrammeDefaults(stored) : null;
          return revisionWrite({
            aggregateType: 'programme',
            collection: 'programmes',
            current,
            fields: { _id: rules.code, ...rules },
            now: clock.now(),
            types: ['ProgrammeCreated', 'ProgrammeUpdated'],
          });
        },
      });
      return writtenDocument<ProgrammeDoc>(event);
    },
  };
}
