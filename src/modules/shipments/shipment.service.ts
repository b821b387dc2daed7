// Shipment tracking: each step is one write on the case (expectedVersion is the case's
// version), so two offices recording the same shipment cannot both move it.
import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { z } from 'zod';
import { authorize, caseScope } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { badInput, notFound } from '../../errors.ts';
import { parseInput, requiredText, text, todayIso } from '../../validation.ts';
import type { CaseInputArgs, CasePayload } from '../cases/case.store.ts';
import { recordsOfCaseDocs, writtenIn } from '../cases/case.store.ts';
import { assertStatusAllows } from '../cases/case.state.ts';
import { assertWithinSpendingWindow } from '../cases/spending-window.ts';
import { evidenceId } from '../evidence/evidence.service.ts';
import { componentId, componentOf, IMPLEMENTATION_STATUSES, refOf, startImplementation } from '../progress/implementation.ts';
import { shipmentSchema, type ShipmentDoc, type ShipmentEvent } from './shipment.model.ts';
import { assertShipmentStep, isFinished, SHIPMENT_STATUSES, type ShipmentStatus } from './shipment.state.ts';
import { recordFieldsOf, type CaseDoc } from '../cases/case.model.ts';
import { firstVersion, nextVersion } from '../../events/event.model.ts';
import type { Needs } from '../../deps.ts';

/** Reported times may run a little ahead of the gateway's clock. */
const CLOCK_SKEW_MS = 5 * 60_000;

const shipmentEventInput = z
  .object({
    shipmentId: z.uuid('the id of a shipment').nullish(),
    componentId: componentId.nullish(),
    status: z.enum(SHIPMENT_STATUSES),
    at: z.coerce.date('a date and time'),
    place: requiredText(200),
    handledBy: text(200).nullish(),
    note: text(2000).nullish(),
    evidence: evidenceId.nullish(),
    shipment: z
      .object({
        carrier: requiredText(200),
        trackingReference: requiredText(100),
        origin: requiredText(200),
        destination: requiredText(200),
        supplier: text(200).nullish(),
      })
      .nullish(),
  })
  .superRefine((e, ctx) => {
    if (!e.shipmentId) {
      if (e.status !== 'ORDERED')
        ctx.addIssue({ code: 'custom', path: ['shipmentId'], message: 'required for every step after ORDERED' });
      if (!e.componentId) ctx.addIssue({ code: 'custom', path: ['componentId'], message: 'required to order a shipment' });
      if (!e.shipment) ctx.addIssue({ code: 'custom', path: ['shipment'], message: 'required to order a shipment' });
    } else if (e.componentId || e.shipment) {
      ctx.addIssue({ code: 'custom', path: ['shipmentId'], message: 'componentId and shipment only open a new shipment' });
    }
    if (e.status === 'HANDED_OVER' && !e.evidence)
      ctx.addIssue({ code: 'custom', path: ['evidence'], message: 'the handover certificate is required' });
  });

const eventType = (status: ShipmentStatus) =>
  `Shipment${status
    .toLowerCase()
    .split('_')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('')}`;

export type ShipmentService = ReturnType<typeof createShipmentService>;

export function createShipmentService(deps: Needs<'store' | 'cases' | 'plans' | 'evidence'>) {
  const { store, cases, plans, evidence } = deps;
  const Shipments: Model<ShipmentDoc> = store.model('Shipment', shipmentSchema);

  async function shipmentsOfCase(principal: Principal, caseId: string): Promise<ShipmentDoc[]> {
    return Shipments.find({ caseId })
      .setOptions({ scope: caseScope(principal) })
      .sort({ caseId: 1, createdAt: 1 })
      .lean<ShipmentDoc[]>();
  }

  return {
    async record(
      principal: Principal | null,
      args: CaseInputArgs,
      idempotencyKey?: string | null,
    ): Promise<CasePayload & { shipment: ShipmentDoc }> {
      const p = authorize(principal, 'shipment.record');
      const input = parseInput(shipmentEventInput, args.input);
      const saved = await cases.writeOn(p, 'recordShipmentEvent', args, input, idempotencyKey, async (c, now) => {
        assertStatusAllows(c.status, 'recordShipmentEvent', IMPLEMENTATION_STATUSES);
        if (input.at.getTime() > now.getTime() + CLOCK_SKEW_MS)
          throw badInput('The step is dated in the future.', [{ path: 'at', message: 'in the future' }]);
        const existing = await shipmentsOfCase(p, c._id);
        const attachment = input.evidence
          ? await evidence.requireOnCase(
              p,
              c._id,
              input.evidence,
              'evidence',
              input.status === 'HANDED_OVER' ? ['HANDOVER_CERTIFICATE'] : undefined,
            )
          : null;
        const step: ShipmentEvent = {
          status: input.status,
          at: input.at,
          place: input.place,
          actor: { organisation: p.organisation.code, subject: p.subject },
          handledBy: input.handledBy ?? null,
          note: input.note ?? null,
          evidence: attachment?._id ?? null,
          recordedAt: now,
        };

        let shipment: ShipmentDoc;
        if (!input.shipmentId) {
          // Ordering is spending: within the programme's window.
          assertWithinSpendingWindow(c, todayIso(input.at), 'at');
          const component = componentOf(await plans.inForce(p, c), input.componentId!, 'componentId');
          if (component.kind !== 'MATERIALS' || component.materials?.procurement !== 'SHIPPED') {
            throw badInput(`Component ${component.id} is not a MATERIALS component procured SHIPPED.`, [
              { path: 'componentId', message: 'not shipped materials' },
            ]);
          }
          const ofComponent = existing.filter((s) => s.component.id === component.id);
          const underway = ofComponent.find((s) => !isFinished(s.status));
          if (underway) {
            throw badInput(`Shipment ${underway._id} of this component is ${underway.status}; it has to end first.`, [
              { path: 'componentId', message: 'a shipment is under way' },
            ]);
          }
          if (ofComponent.some((s) => s.deliveryClosed)) {
            throw badInput('This component was handed over: its delivery is closed.', [
              { path: 'componentId', message: 'delivery closed' },
            ]);
          }
          const details = input.shipment!;
          shipment = {
            _id: randomUUID(),
            ...recordFieldsOf(c),
            component: refOf(component),
            items: component.materials.items.map((i) => ({ description: i.description, quantity: i.quantity })),
            supplier: details.supplier ?? component.materials.supplier,
            carrier: details.carrier,
            trackingReference: details.trackingReference,
            origin: details.origin,
            destination: details.destination,
            status: 'ORDERED',
            events: [step],
            handoverCertificate: null,
            deliveryClosed: false,
            ...firstVersion(now),
          };
        } else {
          const current = existing.find((s) => s._id === input.shipmentId);
          if (!current) throw notFound('Shipment', input.shipmentId);
          assertShipmentStep(current.status, input.status);
          const previous = current.events.at(-1)!;
          if (input.at.getTime() < new Date(previous.at).getTime()) {
            throw badInput(
              `The step is dated before the previous one (${previous.status} at ${new Date(previous.at).toISOString()}).`,
              [{ path: 'at', message: 'before the previous step' }],
            );
          }
          const handedOver = input.status === 'HANDED_OVER';
          shipment = nextVersion(
            current,
            {
              status: input.status,
              events: [...current.events, step],
              handoverCertificate: handedOver ? attachment!._id : current.handoverCertificate,
              deliveryClosed: handedOver,
            },
            now,
          );
        }
        return {
          type: eventType(input.status),
          next: startImplementation(c, now),
          data: {
            shipmentId: shipment._id,
            componentId: shipment.component.id,
            status: input.status,
            at: input.at,
            place: input.place,
            ...(attachment ? { evidence: attachment._id } : {}),
          },
          extra: [{ collection: 'shipments', doc: shipment }],
        };
      });
      const [shipment] = writtenIn<ShipmentDoc>(saved, 'shipments');
      return { case: saved, shipment: shipment! };
    },

    /** Shipments of many cases, oldest first, in one query within the principal's scope; one case's by primary key where it keeps their ids (recordsOfCaseDocs). */
    ofCaseDocs: (principal: Principal, cases: readonly Pick<CaseDoc, '_id' | 'recordIds'>[]) =>
      recordsOfCaseDocs(Shipments, 'shipments', principal, cases, { caseId: 1, createdAt: 1 }),

    shipmentsOfCase,
  };
}
