// The per-analyst query budget: so many tables per period (ERIN_STATS_BUDGET per
// ERIN_STATS_BUDGET_PERIOD). Each table claims a numbered slot of its analyst's period by
// inserting `<analyst>|<period>|<slot>`; the unique `_id` makes every slot one table's,
// whatever runs concurrently on however many gateways (a counter could lose updates on the
// embedded store). The count read first is only where to start stepping.
import { Schema, type Model } from 'mongoose';
import type { Principal } from '../../auth/principal.ts';
import { AppError } from '../../errors.ts';
import { isDuplicateKey, type Store } from '../../store/store.ts';

export type BudgetClaimDoc = { _id: string; analyst: string; period: number; slot: number; at: Date };

export const budgetClaimSchema = new Schema<BudgetClaimDoc>(
  {
    _id: { type: String, required: true },
    analyst: { type: String, required: true },
    period: { type: Number, required: true },
    slot: { type: Number, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'statistics_budget_claims', versionKey: false },
);
budgetClaimSchema.index({ analyst: 1, period: 1 });
budgetClaimSchema.index({ at: 1 });

export type BudgetSettings = { limit: number; periodMs: number };

export type BudgetState = { limit: number; used: number; periodStart: Date; periodEnds: Date };

export const budgetSpent = (state: BudgetState) =>
  new AppError(
    'BUDGET_EXCEEDED',
    `Your statistics budget of ${state.limit} tables for this period is spent; it renews on ${state.periodEnds.toISOString()}.`,
    { reason: 'STATISTICS_QUERY_BUDGET', limit: state.limit, periodEnds: state.periodEnds.toISOString() },
  );

/** Whose budget a table is charged to: one person (or system) of one organisation. */
export const analystOf = (principal: Principal) => `${principal.organisation.code}:${principal.subject}`;

export type StatisticsBudget = ReturnType<typeof createStatisticsBudget>;

export function createStatisticsBudget(store: Store, now: () => Date, settings: BudgetSettings) {
  const Claims: Model<BudgetClaimDoc> = store.model('StatisticsBudgetClaim', budgetClaimSchema);

  const periodOf = (at: Date) => Math.floor(at.getTime() / settings.periodMs);
  const bounds = (period: number) => ({
    periodStart: new Date(period * settings.periodMs),
    periodEnds: new Date((period + 1) * settings.periodMs),
  });

  return {
    settings,

    /** Charges one table to the analyst's budget; BUDGET_EXCEEDED once the period's slots are taken. */
    async charge(principal: Principal): Promise<BudgetState> {
      const analyst = analystOf(principal);
      const at = now();
      const period = periodOf(at);
      const used = await Claims.countDocuments({ analyst, period });
      for (let slot = used + 1; slot <= settings.limit; slot += 1) {
        try {
          await Claims.collection.insertOne({ _id: `${analyst}|${period}|${slot}` as never, analyst, period, slot, at });
          return { limit: settings.limit, used: slot, ...bounds(period) };
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
        }
      }
      throw budgetSpent({ limit: settings.limit, used: settings.limit, ...bounds(period) });
    },

    /** Claims of periods before the previous one are only history (each table is also in the log). */
    async purge(): Promise<void> {
      await Claims.collection.deleteMany({ at: { $lt: bounds(periodOf(now()) - 1).periodStart } });
    },
  };
}
