// Plan components: validation, costing and the budget check against the entitlement.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { badInput, budgetExceeded } from '../../errors.ts';
import { formatMoney, toEur, type Money } from '../../money.ts';
import { isoDate, money, requiredText, text } from '../../validation.ts';
import type { EntitlementAmounts } from '../cases/case.model.ts';
import type { AppliedRate, PlanComponent } from './plan.model.ts';

export const COMPONENT_KINDS = ['TRAINING', 'BUSINESS_PLAN', 'MATERIALS', 'SERVICE', 'CASH'] as const;
const DETAIL_KEYS = {
  TRAINING: 'training',
  BUSINESS_PLAN: 'businessPlan',
  MATERIALS: 'materials',
  SERVICE: 'service',
  CASH: 'cash',
} as const;

const componentInput = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, _ and -')
      .nullish(),
    kind: z.enum(COMPONENT_KINDS),
    title: requiredText(200),
    cost: money.nullish(),
    training: z
      .object({
        provider: requiredText(200),
        course: requiredText(200),
        startDate: isoDate,
        endDate: isoDate,
        certificateExpected: z.boolean(),
      })
      .refine((t) => t.endDate >= t.startDate, { message: 'ends before it starts', path: ['endDate'] })
      .nullish(),
    businessPlan: z
      .object({
        sector: requiredText(200),
        description: requiredText(5000),
        location: requiredText(200),
        startupCosts: money,
        expectedMonthlyIncome: money,
      })
      .nullish(),
    materials: z
      .object({
        items: z
          .array(z.object({ description: requiredText(300), quantity: z.number().int().min(1).max(100_000), unitCost: money }))
          .min(1, 'at least one item')
          .max(200),
        supplier: requiredText(200),
        procurement: z.enum(['LOCAL', 'SHIPPED']),
      })
      .nullish(),
    service: z
      .object({
        category: z.enum(['HOUSING', 'MEDICAL', 'SCHOOLING', 'PSYCHOSOCIAL', 'JOB_PLACEMENT', 'LEGAL', 'OTHER']),
        provider: requiredText(200),
        description: requiredText(2000),
      })
      .nullish(),
    cash: z.object({ purpose: requiredText(500) }).nullish(),
  })
  .superRefine((c, ctx) => {
    for (const [kind, key] of Object.entries(DETAIL_KEYS)) {
      const present = c[key] != null;
      if (kind === c.kind && !present) ctx.addIssue({ code: 'custom', path: [key], message: `required for a ${kind} component` });
      if (kind !== c.kind && present) ctx.addIssue({ code: 'custom', path: [key], message: `only for a ${kind} component` });
    }
    const computed = c.kind === 'MATERIALS' || c.kind === 'BUSINESS_PLAN';
    if (!computed && !c.cost) ctx.addIssue({ code: 'custom', path: ['cost'], message: `required for a ${c.kind} component` });
  });

export const planInput = z.object({
  summary: text(5000).nullish(),
  components: z.array(componentInput).min(1, 'a plan needs at least one component').max(50),
});

export type PlanInput = z.infer<typeof planInput>;

function newComponentId(): string {
  return `cmp-${randomBytes(5).toString('hex')}`;
}

/** Turns validated input into stored components: ids kept or made, computed costs filled in. */
export function normaliseComponents(input: PlanInput): PlanComponent[] {
  const seen = new Set<string>();
  return input.components.map((c, index) => {
    const id = c.id ?? newComponentId();
    if (seen.has(id))
      throw badInput('Two components have the same id.', [{ path: `components.${index}.id`, message: 'duplicate' }]);
    seen.add(id);
    let cost: Money;
    if (c.kind === 'MATERIALS') {
      const items = c.materials!.items;
      const currency = items[0]!.unitCost.currency;
      if (items.some((i) => i.unitCost.currency !== currency)) {
        throw badInput('All items of a materials component are priced in one currency.', [
          { path: `components.${index}.materials.items`, message: 'mixed currencies' },
        ]);
      }
      cost = { amount: items.reduce((sum, i) => sum + i.quantity * i.unitCost.amount, 0), currency };
    } else if (c.kind === 'BUSINESS_PLAN') {
      cost = c.businessPlan!.startupCosts;
    } else {
      cost = c.cost!;
    }
    if (
      c.cost &&
      (c.kind === 'MATERIALS' || c.kind === 'BUSINESS_PLAN') &&
      (c.cost.amount !== cost.amount || c.cost.currency !== cost.currency)
    ) {
      throw badInput(
        `The stated cost does not match the ${c.kind === 'MATERIALS' ? 'items' : 'start-up costs'} (${formatMoney(cost.amount, cost.currency)}).`,
        [{ path: `components.${index}.cost`, message: 'does not match' }],
      );
    }
    if (!Number.isSafeInteger(cost.amount))
      throw badInput('A cost is too large.', [{ path: `components.${index}`, message: 'too large' }]);
    return {
      id,
      kind: c.kind,
      title: c.title,
      cost,
      costEur: null,
      training: c.training ?? null,
      businessPlan: c.businessPlan ?? null,
      materials: c.materials ?? null,
      service: c.service ?? null,
      cash: c.cash ?? null,
    };
  });
}

export function currenciesOf(components: PlanComponent[]): string[] {
  return [...new Set(components.map((c) => c.cost.currency))];
}

export type Costed = { components: PlanComponent[]; totalEur: number; cashEur: number; ratesUsed: AppliedRate[] };

/** Converts each component at the applied rates and totals the plan in EUR. */
export function costInEur(components: PlanComponent[], rates: Map<string, AppliedRate>): Costed {
  const costed = components.map((c) => {
    const rate = rates.get(c.cost.currency)!;
    return { ...c, costEur: toEur(c.cost.amount, c.cost.currency, rate.rate) };
  });
  return {
    components: costed,
    totalEur: costed.reduce((sum, c) => sum + c.costEur, 0),
    cashEur: costed.filter((c) => c.kind === 'CASH').reduce((sum, c) => sum + c.costEur, 0),
    ratesUsed: currenciesOf(components).map((currency) => rates.get(currency)!),
  };
}

/**
 * BUDGET_EXCEEDED when the plan costs more than the entitlement or its cash cap; with the
 * entitlement's figures only when `reveal` (the caller may see them: they are special
 * category, src/modules/cases/case.sealing.ts).
 */
export function checkBudget(costed: Costed, entitlement: Pick<EntitlementAmounts, 'total' | 'cashCap'>, reveal: boolean): void {
  const { total, cashCap } = entitlement;
  const figures = reveal
    ? { totalEur: costed.totalEur, entitlementEur: total, cashEur: costed.cashEur, cashCapEur: cashCap, currency: 'EUR' }
    : { totalEur: costed.totalEur, cashEur: costed.cashEur, currency: 'EUR' };
  if (costed.totalEur > total) {
    throw budgetExceeded(
      reveal
        ? `The plan costs ${formatMoney(costed.totalEur, 'EUR')}, ${formatMoney(costed.totalEur - total, 'EUR')} more than the entitlement of ${formatMoney(total, 'EUR')}.`
        : `The plan costs ${formatMoney(costed.totalEur, 'EUR')}, more than the entitlement.`,
      reveal ? { ...figures, overByEur: costed.totalEur - total } : figures,
    );
  }
  if (costed.cashEur > cashCap) {
    throw budgetExceeded(
      reveal
        ? `The plan pays ${formatMoney(costed.cashEur, 'EUR')} in cash, ${formatMoney(costed.cashEur - cashCap, 'EUR')} more than the cash cap of ${formatMoney(cashCap, 'EUR')}.`
        : `The plan pays ${formatMoney(costed.cashEur, 'EUR')} in cash, more than the cash cap.`,
      reveal ? { ...figures, overByEur: costed.cashEur - cashCap } : figures,
    );
  }
}
