// The shipment life cycle in one table, like the case's: every step goes through
// `assertShipmentStep`, so skipping or reversing a step is INVALID_TRANSITION naming the
// steps allowed from where the shipment is.
import { invalidTransition } from '../../errors.ts';

export const SHIPMENT_STATUSES = [
  'ORDERED',
  'DISPATCHED',
  'IN_TRANSIT',
  'AT_CUSTOMS',
  'DELIVERED',
  'HANDED_OVER',
  'LOST',
  'RETURNED',
] as const;
export type ShipmentStatus = (typeof SHIPMENT_STATUSES)[number];

export const SHIPMENT_STEPS: Record<ShipmentStatus, readonly ShipmentStatus[]> = {
  ORDERED: ['DISPATCHED'],
  DISPATCHED: ['IN_TRANSIT', 'LOST', 'RETURNED'],
  IN_TRANSIT: ['AT_CUSTOMS', 'LOST', 'RETURNED'],
  AT_CUSTOMS: ['DELIVERED', 'LOST', 'RETURNED'],
  // The returnee may refuse goods that arrived damaged or wrong.
  DELIVERED: ['HANDED_OVER', 'RETURNED'],
  HANDED_OVER: [],
  LOST: [],
  RETURNED: [],
};

/** A shipment that ended: a lost or returned one may be replaced by a new order. */
export const isFinished = (status: ShipmentStatus) => SHIPMENT_STEPS[status].length === 0;

export function assertShipmentStep(from: ShipmentStatus, to: ShipmentStatus): void {
  if (!SHIPMENT_STEPS[from].includes(to)) throw invalidTransition(from, to, SHIPMENT_STEPS[from]);
}
