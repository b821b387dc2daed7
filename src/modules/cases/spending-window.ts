// The programme's spending window: reintegration support is spent within `spendWithinMonths`
// of arrival (EURP: 12 months). Spending dated after it (a purchase, a spend line, a shipment
// ordered) is refused unless the member state extends the window for the case, which is an
// event of its own (`SpendingWindowExtended`) in the case's log and audit trail.
import { z } from 'zod';
import { authorize } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { badInput, forbidden, invalidTransition, spendingWindowClosed } from '../../errors.ts';
import { isoDate, parseInput, requiredText } from '../../validation.ts';
import { addMonths } from '../deadlines/calendar.ts';
import type { CaseDoc, SpendingWindow } from './case.model.ts';
import type { CasePayload, CaseStore } from './case.store.ts';

/** The window of an arrival; an extension survives a moved arrival only while it still lies beyond the new end. */
export function spendingWindowFrom(arrivedOn: string, months: number, previous: SpendingWindow | null): SpendingWindow {
  const until = addMonths(arrivedOn, months);
  const extendedTo = previous?.extendedTo && previous.extendedTo > until ? previous.extendedTo : null;
  return { arrivedOn, months, until, extendedTo };
}

/** The last day spending may be dated, or null while the case has no window (not arrived). */
export const lastSpendingDay = (w: SpendingWindow | null): string | null => (w ? (w.extendedTo ?? w.until) : null);

/** Refuses spending dated after the window (the day it happened, whenever it is reported). */
export function assertWithinSpendingWindow(c: Pick<CaseDoc, 'spendingWindow' | 'programme'>, day: string, field: string): void {
  const last = lastSpendingDay(c.spendingWindow);
  if (last !== null && day > last) throw spendingWindowClosed(c.programme, day, last, field);
}

const extendInput = z.object({ until: isoDate, reason: requiredText(500) });

export type SpendingWindowService = ReturnType<typeof createSpendingWindowService>;

export function createSpendingWindowService(deps: { cases: CaseStore }) {
  return {
    /** Member state (coordinator): let the case spend until a later day. */
    async extend(
      principal: Principal | null,
      args: { caseId: string; until: unknown; reason: unknown; expectedVersion: number },
      idempotencyKey?: string | null,
    ): Promise<CasePayload> {
      const p = authorize(principal, 'spendingWindow.extend');
      if (p.organisation.kind !== 'MEMBER_STATE') throw forbidden('spendingWindow.extend (the member state decides)');
      const input = parseInput(extendInput, { until: args.until, reason: args.reason });
      const updated = await deps.cases.write({
        principal: p,
        command: 'extendSpendingWindow',
        id: args.caseId,
        expectedVersion: args.expectedVersion,
        input,
        idempotencyKey,
        decide: async (c) => {
          if (c.status === 'CLOSED') throw invalidTransition(c.status, 'extendSpendingWindow', []);
          const window = c.spendingWindow;
          if (!window) {
            throw badInput('The case has no spending window yet: it opens at the arrival.', [
              { path: 'caseId', message: 'not arrived' },
            ]);
          }
          const last = lastSpendingDay(window)!;
          if (input.until <= last) {
            throw badInput(`The window already runs until ${last}; an extension ends later.`, [
              { path: 'until', message: `not after ${last}` },
            ]);
          }
          return {
            type: 'SpendingWindowExtended',
            next: { ...c, spendingWindow: { ...window, extendedTo: input.until } },
            data: { until: input.until, previous: last, reason: input.reason },
          };
        },
      });
      return { case: updated };
    },
  };
}
