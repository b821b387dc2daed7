// Budget follow-up: planned (the plan in force, in EUR at its submission rates) against
// actual (effective spend, in EUR at the rates of the days it was spent), per component.
import { budgetExceeded } from '../../errors.ts';
import { formatMoney } from '../../money.ts';
import type { CaseDoc, ComponentSpend } from '../cases/case.model.ts';
import type { PlanComponent, PlanDoc } from '../plans/plan.model.ts';

export type BudgetLine = { componentId: string; kind: string; title: string; plannedEur: number; actualEur: number };
/** `of`: the case, whose parties decide who sees the entitlement beside it (special category). */
export type Budget = { of: CaseDoc; plannedEur: number; actualEur: number; lines: BudgetLine[] };

/** The case's budget against its plan in force; components spent on but no longer planned show with 0 planned. */
export function budgetOf(c: CaseDoc, plan: PlanDoc | null): Budget {
  const spent = new Map(c.spend.map((s) => [s.componentId, s.actualEur]));
  const lines: BudgetLine[] = (plan?.components ?? []).map((component) => ({
    componentId: component.id,
    kind: component.kind,
    title: component.title,
    plannedEur: component.costEur ?? 0,
    actualEur: spent.get(component.id) ?? 0,
  }));
  for (const s of c.spend) {
    if (!lines.some((l) => l.componentId === s.componentId))
      lines.push({
        componentId: s.componentId,
        kind: s.kind,
        title: '(no longer in the plan)',
        plannedEur: 0,
        actualEur: s.actualEur,
      });
  }
  return {
    of: c,
    plannedEur: plan?.totalEur ?? 0,
    actualEur: lines.reduce((sum, l) => sum + l.actualEur, 0),
    lines,
  };
}

/** The spend lines with `deltaEur` added to one component (a new list; the old one is not changed). */
export function addSpend(
  spend: readonly ComponentSpend[],
  componentId: string,
  kind: string,
  deltaEur: number,
): ComponentSpend[] {
  const lines = spend.map((s) => ({ ...s }));
  const line = lines.find((s) => s.componentId === componentId);
  if (line) line.actualEur += deltaEur;
  else lines.push({ componentId, kind, actualEur: deltaEur });
  return lines;
}

export const totalOf = (spend: readonly ComponentSpend[]) => spend.reduce((sum, s) => sum + s.actualEur, 0);

/**
 * BUDGET_EXCEEDED, with the figures, when spend would take a component past its approved
 * amount (the plan in force: an approved amendment that raised it counts).
 */
export function checkComponentBudget(component: PlanComponent, actualBeforeEur: number, spendEur: number): void {
  const approvedEur = component.costEur ?? 0;
  const after = actualBeforeEur + spendEur;
  if (after <= approvedEur) return;
  throw budgetExceeded(
    `This spend of ${formatMoney(spendEur, 'EUR')} would take "${component.title}" to ${formatMoney(after, 'EUR')}, ` +
      `${formatMoney(after - approvedEur, 'EUR')} more than its approved ${formatMoney(approvedEur, 'EUR')}. ` +
      'An approved plan amendment can raise it.',
    {
      componentId: component.id,
      approvedEur,
      spentEur: actualBeforeEur,
      spendEur,
      wouldBeEur: after,
      overByEur: after - approvedEur,
      currency: 'EUR',
    },
  );
}
