// Statistics for the Return Experts Group: case figures by dimension, with every margin,
// protected by the cell key method (perturbation.ts; docs/statistics.md). Nothing
// case-level leaves this module.
//
// Cases are folded into their *finest cells* (every attribute a table can group or filter
// by); each finest cell gets its noise from its cell key, and every published figure is
// the sum of its finest cells' protected values. A cell is listed only when its protected
// count reaches the threshold: the decision is taken on protected figures only, since one
// taken on true counts could be read back by a series of tables around the threshold.
//
// The store's aggregation cannot compute quarters, household sizes or the join with the
// plans in force, so the cases are streamed in `_id` order next to the plans in `caseId`
// order and the record keys in `_id` order (a merge join). Memory grows with the number of
// finest cells (at most one per case) and of table cells, which the request caps.
//
// Tables are not counted from the cases as they are when asked: every table of a calendar
// month is computed from that month's release, a snapshot of the finest cells taken once
// (releases.ts), filtered and grouped there. So tables of one month show no change of one
// case, and comparing two months shows a month's changes at once.
import { z } from 'zod';
import { statisticsScope } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { badInput } from '../../errors.ts';
import { countryCode, organisationCode, parseInput } from '../../validation.ts';
import { CASE_STATUSES } from '../cases/case.state.ts';
import { createStatisticsBudget, type BudgetSettings, type BudgetState } from './budget.ts';
import { addKey, METHOD } from './perturbation.ts';
import {
  addMagnitude,
  assertTableSize,
  ATTRIBUTES,
  DIMENSIONS,
  factsOf,
  FINEST_CELL,
  protect,
  SCORE_KEYS,
  tabulate,
  view,
  type CaseFacts,
  type CaseRow,
  type CellSums,
  type Declared,
  type Dimension,
  type Finest,
  type PlanRow,
  type StatisticsCellView,
} from './statistics.cells.ts';
import { createRecordKeys } from './record-keys.ts';
import { createReleases } from './releases.ts';
import { SYSTEM } from '../../store/tenant.ts';
import type { Needs } from '../../deps.ts';

export const MAX_DIMENSIONS = 4;
/** Cases whose record key is claimed in one batch (the first table to count them). */
const KEY_BATCH = 500;

const quarter = z.string().regex(/^\d{4}-Q[1-4]$/, 'a quarter such as 2026-Q1');

const tableInput = z.object({
  groupBy: z
    .array(z.enum(DIMENSIONS))
    .min(1, 'at least one dimension')
    .max(MAX_DIMENSIONS, `at most ${MAX_DIMENSIONS} dimensions`)
    .refine((dims) => new Set(dims).size === dims.length, 'each dimension once'),
  filter: z
    .object({
      memberStates: z.array(organisationCode).max(50).nullish(),
      originCountries: z.array(countryCode).max(250).nullish(),
      programmes: z.array(organisationCode).max(50).nullish(),
      statuses: z.array(z.enum(CASE_STATUSES)).max(20).nullish(),
      returnType: z.enum(['VOLUNTARY', 'NON_VOLUNTARY']).nullish(),
      quarterFrom: quarter.nullish(),
      quarterTo: quarter.nullish(),
    })
    .nullish(),
});

export type TableRequest = z.input<typeof tableInput>;

export type StatisticsMethod = typeof METHOD & { threshold: number; finestCell: readonly string[] };

export type StatisticsTable = {
  groupBy: Dimension[];
  threshold: number;
  generatedAt: Date;
  /** When the cases this table counts were read: its release's snapshot (releases.ts). */
  asOf: Date;
  method: StatisticsMethod;
  budget: BudgetState;
  cells: StatisticsCellView[];
  totals: StatisticsCellView[];
};

export type StatisticsService = ReturnType<typeof createStatisticsService>;

export function createStatisticsService(
  deps: Needs<'store' | 'cases' | 'plans' | 'organisations' | 'clock' | 'audit'> & { threshold: number; budget: BudgetSettings },
) {
  const { store, clock, audit, organisations, threshold } = deps;
  const Cases = deps.cases.model;
  const Plans = deps.plans.model;
  const recordKeys = createRecordKeys(store, () => clock.now());
  const budget = createStatisticsBudget(store, () => clock.now(), deps.budget);
  const method: StatisticsMethod = { ...METHOD, threshold, finestCell: FINEST_CELL };
  // Two tables in one request (aliases) would cost one request for two budget units and
  // complicate what a request means; a request gets one.
  const served = new WeakSet<object>();

  /**
   * Folds every case into its finest cell, as the cases stand now: a release's snapshot
   * (releases.ts). Statistics read every case (the policy's scope for them is the system's).
   */
  async function finestCells() {
    const scope = SYSTEM;
    const cells = new Map<string, Finest>();

    const fold = (facts: CaseFacts, recordKey: number) => {
      const id = JSON.stringify([...ATTRIBUTES.map((a) => facts.attributes[a]), facts.kinds.join('+')]);
      let cell = cells.get(id);
      if (!cell) {
        cell = {
          attributes: facts.attributes,
          kinds: facts.kinds,
          key: 0,
          count: 0,
          persons: 0,
          planned: new Map(),
          actual: new Map(),
          scored: 0,
          scores: {
            economic: { sum: 0, top: 0 },
            social: { sum: 0, top: 0 },
            psychosocial: { sum: 0, top: 0 },
            composite: { sum: 0, top: 0 },
          },
        };
        cells.set(id, cell);
      }
      cell.key = addKey(cell.key, recordKey);
      cell.count += 1;
      cell.persons += facts.persons;
      for (const [kind, value] of facts.planned) addMagnitude(cell.planned, kind, value);
      for (const [kind, value] of facts.actual) addMagnitude(cell.actual, kind, value);
      if (facts.scores) {
        cell.scored += 1;
        for (const k of SCORE_KEYS) {
          cell.scores[k].sum += facts.scores[k];
          cell.scores[k].top = Math.max(cell.scores[k].top, Math.abs(facts.scores[k]));
        }
      }
    };

    const caseCursor = Cases.find({})
      .setOptions({ scope })
      .select(
        'memberState originCountry programme status closureReason arrivedOn createdAt household returnType planInForce actualEur spend latestScores',
      )
      .sort({ _id: 1 })
      .lean<CaseRow[]>()
      .cursor({ batchSize: 1000 });
    const planCursor = Plans.find({})
      .setOptions({ scope })
      .select('caseId planVersion totalEur components.kind components.costEur')
      .sort({ caseId: 1, planVersion: 1 })
      .lean<PlanRow[]>()
      .cursor({ batchSize: 1000 });
    const keyCursor = recordKeys.cursor();
    const keyless: { id: string; facts: CaseFacts }[] = [];
    const claimKeys = async () => {
      const keys = await recordKeys.claim(keyless.map((k) => k.id));
      for (const { id, facts } of keyless) fold(facts, keys.get(id)!);
      keyless.length = 0;
    };
    try {
      // The three queries start together; then each advances as the merge needs it.
      let [c, plan, key] = await Promise.all([caseCursor.next(), planCursor.next(), keyCursor.next()]);
      for (; c; c = await caseCursor.next()) {
        let inForce: PlanRow | undefined;
        while (plan && plan.caseId <= c._id) {
          if (plan.caseId === c._id && plan.planVersion === c.planInForce) inForce = plan;
          plan = await planCursor.next();
        }
        while (key && key._id < c._id) key = await keyCursor.next();
        const facts = factsOf(c, inForce);
        if (key && key._id === c._id) fold(facts, key.key);
        else {
          keyless.push({ id: c._id, facts });
          if (keyless.length >= KEY_BATCH) await claimKeys();
        }
      }
      if (keyless.length > 0) await claimKeys();
    } finally {
      await Promise.all([caseCursor.close(), planCursor.close(), keyCursor.close()]);
    }
    return cells;
  }

  const releases = createReleases(store, () => clock.now(), finestCells);

  /** The finest cells a filter keeps: each holds every attribute a table can filter by. */
  const keep = (filter: z.infer<typeof tableInput>['filter']) => (cell: Finest) =>
    (!filter?.memberStates?.length || filter.memberStates.includes(cell.attributes.MEMBER_STATE)) &&
    (!filter?.originCountries?.length || filter.originCountries.includes(cell.attributes.ORIGIN_COUNTRY)) &&
    (!filter?.programmes?.length || filter.programmes.includes(cell.attributes.PROGRAMME)) &&
    (!filter?.statuses?.length || (filter.statuses as string[]).includes(cell.attributes.STATUS)) &&
    (!filter?.returnType || filter.returnType === cell.attributes.RETURN_TYPE) &&
    (!filter?.quarterFrom || cell.attributes.QUARTER >= filter.quarterFrom) &&
    (!filter?.quarterTo || cell.attributes.QUARTER <= filter.quarterTo);

  /** What the network declares for the cell limit: the directory's member states and programmes (never the cases). */
  async function declared(principal: Principal): Promise<Declared> {
    const [memberStates, programmes] = await Promise.all([
      organisations.list(principal, { kind: 'MEMBER_STATE' }),
      organisations.programmes(principal),
    ]);
    return { memberStates: memberStates.length, programmes: programmes.length, today: clock.now() };
  }

  return {
    threshold,
    method,

    /**
     * The table, protected, charged to the analyst's budget and recorded as an export before
     * it is returned. Over GraphQL, `via.request` identifies the request, which gets one table.
     */
    async table(
      principal: Principal,
      request: TableRequest,
      via: { channel: 'cli' } | { channel: 'graphql'; request: object },
    ): Promise<StatisticsTable> {
      statisticsScope(principal);
      if ('request' in via) {
        if (served.has(via.request)) {
          throw badInput('One statistics table per request.', [{ path: 'statistics', message: 'asked for twice' }]);
        }
        served.add(via.request);
      }
      const { groupBy, filter } = parseInput(tableInput, request);
      // Refused on the request alone, before it costs anything.
      const declaredCells = assertTableSize(groupBy, filter, await declared(principal));
      const charged = await budget.charge(principal);
      const [release, secret] = await Promise.all([releases.current(), recordKeys.secret()]);
      const cells = tabulate(
        groupBy,
        release.cells.filter(keep(filter)).map((f) => protect(f, secret)),
      );
      // Only cells whose protected count reaches the threshold: an absent cell says nothing
      // more than that, and nothing about whether its combination exists.
      const listed = [...cells.entries()].filter(([, c]) => c.count >= threshold);
      const full = (c: CellSums) => c.coords.every((v) => v !== null);
      const depth = (c: CellSums) => c.coords.filter((v) => v !== null).length;
      listed.sort(([ka, a], [kb, b]) => depth(a) - depth(b) || (ka < kb ? -1 : 1));
      const table: StatisticsTable = {
        groupBy,
        threshold,
        generatedAt: clock.now(),
        asOf: release.asOf,
        method,
        budget: charged,
        cells: listed.filter(([, c]) => full(c)).map(([, c]) => view(groupBy, c, threshold)),
        totals: listed.filter(([, c]) => !full(c)).map(([, c]) => view(groupBy, c, threshold)),
      };
      await audit.recordExport(principal, {
        channel: via.channel,
        groupBy,
        filter: filter ?? {},
        // The request's size and what was published: how many combinations hold cases is not for the log.
        cells: declaredCells,
        listed: listed.length,
        budgetUsed: charged.used,
      });
      return table;
    },

    /** Housekeeping: budget claims of finished periods. */
    purgeBudgetClaims: () => budget.purge(),

    /**
     * The release job: takes the month's release as soon as the month begins (a header lookup
     * once it is taken), so when its snapshot is taken is not for the first analyst to choose.
     */
    takeRelease: async () => {
      const release = await releases.current();
      return release.asOf;
    },

    /** Housekeeping: snapshot chunks a take left unclaimed more than a day ago (releases.ts). */
    purgeUnclaimedSnapshots: () => releases.purgeUnclaimed(new Date(clock.now().getTime() - 86_400_000)),
  };
}
