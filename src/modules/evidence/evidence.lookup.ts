// A file of a case by id, from the case's evidence as its loader batches it (one load per
// page of cases), for the records that point at evidence (spend proofs, shipment steps).
import { notFound } from '../../errors.ts';
import type { EvidenceDoc } from './evidence.model.ts';

export type EvidenceOfCase = { load(caseId: string): Promise<EvidenceDoc[]> };

export async function evidenceOf(evidenceOfCase: EvidenceOfCase, caseId: string, id: string): Promise<EvidenceDoc> {
  const found = (await evidenceOfCase.load(caseId)).find((e) => e._id === id);
  if (!found) throw notFound('Evidence', id);
  return found;
}
