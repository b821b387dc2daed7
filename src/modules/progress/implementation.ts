// Rules shared by everything that carries out an approved plan (progress, shipments,
// monitoring, the final report): the statuses it happens in, the step into
// IN_IMPLEMENTATION, and finding the plan component a write concerns.
import { z } from 'zod';
import { badInput } from '../../errors.ts';
import { todayIso } from '../../validation.ts';
import type { CaseDoc } from '../cases/case.model.ts';
import { PLAN_IN_FORCE_STATUSES, withStatus } from '../cases/case.state.ts';
import type { PlanComponent, PlanDoc } from '../plans/plan.model.ts';
import type { ComponentRef } from './progress.model.ts';

/** An approved plan is being carried out: the statuses with a plan in force. */
export const IMPLEMENTATION_STATUSES = PLAN_IN_FORCE_STATUSES;

export const componentId = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'a plan component id');

/** A BCP 47 language tag such as `en`, `fr-BE` or `ps-AF`. */
export const languageTag = z
  .string()
  .trim()
  .max(35)
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, 'a BCP 47 language tag such as en, fr-BE or ps-AF');

/** The first piece of implementation work moves an approved case into implementation. */
export function startImplementation(c: CaseDoc, now: Date): CaseDoc {
  return c.status === 'PLAN_APPROVED' ? withStatus(c, 'IN_IMPLEMENTATION', now) : c;
}

/** The component of the plan in force with this id, or BAD_USER_INPUT naming the field. */
export function componentOf(plan: PlanDoc | null, id: string, path: string): PlanComponent {
  const component = plan?.components.find((c) => c.id === id);
  if (!component) {
    throw badInput(`The plan in force has no component ${id}.`, [{ path, message: 'not a component of the plan in force' }]);
  }
  return component;
}

/** A day the person was back and the work could happen: not in the future, not before the arrival. */
export function assertDayOfSupport(day: string, field: string, c: Pick<CaseDoc, 'arrivedOn'>, now: Date): void {
  if (day > todayIso(now)) throw badInput(`${field} is in the future.`, [{ path: field, message: 'in the future' }]);
  if (c.arrivedOn && day < c.arrivedOn) {
    throw badInput(`${field} is before the arrival on ${c.arrivedOn}.`, [{ path: field, message: 'before the arrival' }]);
  }
}

export const refOf = (c: PlanComponent): ComponentRef => ({ id: c.id, kind: c.kind, title: c.title });
