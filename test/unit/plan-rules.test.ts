// Plan rules without a store: validation of components, computed costs, conversion to EUR
// and the budget check against the entitlement.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.ts';
import type { EntitlementAmounts } from '../../src/modules/cases/case.model.ts';
import type { AppliedRate } from '../../src/modules/plans/plan.model.ts';
import { checkBudget, costInEur, normaliseComponents, planInput } from '../../src/modules/plans/plan.rules.ts';

const training = {
  kind: 'TRAINING' as const,
  title: 'Welding course',
  cost: { amount: 60_000, currency: 'EUR' },
  training: {
    provider: 'TVET Kabul',
    course: 'Welding',
    startDate: '2026-03-01',
    endDate: '2026-05-31',
    certificateExpected: true,
  },
};
const materials = {
  kind: 'MATERIALS' as const,
  title: 'Tools',
  materials: {
    items: [
      { description: 'Welder', quantity: 1, unitCost: { amount: 20_000, currency: 'AFN' } },
      { description: 'Mask', quantity: 4, unitCost: { amount: 500, currency: 'AFN' } },
    ],
    supplier: 'Local shop',
    procurement: 'LOCAL' as const,
  },
};
const cash = {
  kind: 'CASH' as const,
  title: 'Rent',
  cost: { amount: 30_000, currency: 'EUR' },
  cash: { purpose: 'First month' },
};

const rates = new Map<string, AppliedRate>([
  ['EUR', { currency: 'EUR', rate: '1', validFrom: '2026-01-01' }],
  ['AFN', { currency: 'AFN', rate: '80', validFrom: '2026-01-01' }],
]);

function entitlement(total: number, cashCap: number): EntitlementAmounts {
  return { total, cashCap, lines: [] };
}

function thrown(f: () => unknown): AppError {
  try {
    f();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}

describe('plan input', () => {
  it('accepts each kind with its own details and refuses details of another kind', () => {
    expect(planInput.safeParse({ components: [training, materials, cash] }).success).toBe(true);
    const mixed = planInput.safeParse({ components: [{ ...training, cash: { purpose: 'x' } }] });
    expect(mixed.success).toBe(false);
    expect(JSON.stringify(mixed.error?.issues)).toContain('only for a CASH component');
    const missing = planInput.safeParse({ components: [{ kind: 'TRAINING', title: 'x', cost: training.cost }] });
    expect(JSON.stringify(missing.error?.issues)).toContain('required for a TRAINING component');
  });

  it('refuses an empty plan, a training that ends before it starts and a cost without a stated amount', () => {
    expect(planInput.safeParse({ components: [] }).success).toBe(false);
    const backwards = { ...training, training: { ...training.training, endDate: '2026-02-01' } };
    expect(JSON.stringify(planInput.safeParse({ components: [backwards] }).error?.issues)).toContain('ends before it starts');
    const { cost: _cost, ...noCost } = cash;
    expect(JSON.stringify(planInput.safeParse({ components: [noCost] }).error?.issues)).toContain(
      'required for a CASH component',
    );
  });
});

describe('normaliseComponents', () => {
  it('computes the cost of materials from their items and keeps given ids', () => {
    const [t, m] = normaliseComponents(planInput.parse({ components: [{ ...training, id: 'c-1' }, materials] }));
    expect(t!.id).toBe('c-1');
    expect(m!.id).toMatch(/^cmp-[0-9a-f]{10}$/);
    // Afghani have no minor unit (ISO 4217 as Intl has it): 20,000 + 4 × 500 AFN.
    expect(m!.cost).toEqual({ amount: 22_000, currency: 'AFN' });
  });

  it('refuses duplicate ids, mixed currencies in one component and a stated cost that contradicts the items', () => {
    expect(
      thrown(() =>
        normaliseComponents(
          planInput.parse({
            components: [
              { ...training, id: 'a' },
              { ...cash, id: 'a' },
            ],
          }),
        ),
      ).message,
    ).toMatch(/same id/);
    const mixedItems = {
      ...materials,
      materials: {
        ...materials.materials,
        items: [...materials.materials.items, { description: 'x', quantity: 1, unitCost: { amount: 1, currency: 'EUR' } }],
      },
    };
    expect(thrown(() => normaliseComponents(planInput.parse({ components: [mixedItems] }))).message).toMatch(/one currency/);
    const wrongCost = { ...materials, cost: { amount: 1, currency: 'AFN' } };
    const e = thrown(() => normaliseComponents(planInput.parse({ components: [wrongCost] })));
    expect(e.code).toBe('BAD_USER_INPUT');
    expect(e.message).toMatch(/does not match the items/);
  });
});

describe('costing and the budget', () => {
  const costed = costInEur(normaliseComponents(planInput.parse({ components: [training, materials, cash] })), rates);

  it('converts each component at its rate and totals in EUR minor units', () => {
    // 22,000.00 AFN at 80 AFN per EUR = 275.00 EUR.
    expect(costed.components.map((c) => c.costEur)).toEqual([60_000, 27_500, 30_000]);
    expect(costed.totalEur).toBe(117_500);
    expect(costed.cashEur).toBe(30_000);
    expect(costed.ratesUsed.map((r) => r.currency).sort()).toEqual(['AFN', 'EUR']);
  });

  it('passes within the entitlement and its cash cap, at the exact limits too', () => {
    expect(() => checkBudget(costed, entitlement(117_500, 30_000), true)).not.toThrow();
  });

  it('refuses a plan over the entitlement, then one over the cash cap, with the figures', () => {
    const over = thrown(() => checkBudget(costed, entitlement(117_499, 30_000), true));
    expect(over.code).toBe('BUDGET_EXCEEDED');
    expect(over.extensions.figures).toMatchObject({ totalEur: 117_500, entitlementEur: 117_499, overByEur: 1 });
    const overCash = thrown(() => checkBudget(costed, entitlement(200_000, 29_999), true));
    expect(overCash.message).toMatch(/cash cap/);
    expect(overCash.extensions.figures).toMatchObject({ cashEur: 30_000, cashCapEur: 29_999, overByEur: 1 });
  });

  it('says nothing of the entitlement’s figures to a caller who may not see them (they can tell an unaccompanied minor)', () => {
    const over = thrown(() => checkBudget(costed, entitlement(117_499, 30_000), false));
    expect(over.code).toBe('BUDGET_EXCEEDED');
    expect(over.extensions.figures).toEqual({ totalEur: 117_500, cashEur: 30_000, currency: 'EUR' });
    expect(over.message).not.toMatch(/1,174\.99|1174\.99/);
    const overCash = thrown(() => checkBudget(costed, entitlement(200_000, 29_999), false));
    expect(overCash.extensions.figures).toEqual({ totalEur: 117_500, cashEur: 30_000, currency: 'EUR' });
    expect(overCash.message).not.toMatch(/299\.99/);
  });
});
