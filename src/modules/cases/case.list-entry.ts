// List entries: what lists of cases filter and sort on, one small document per case
// (`case_list`, same `_id` and `version` as the case). The projection writes a case's entry
// right after the case itself, from the same event (EventLog.derive), and repairs it with
// the case; nothing else writes it. Each gateway loads the entries once into its list index
// (case.list-index.ts) and keeps them there from the log. The indexes below served the list
// queries when the store chose pages; lists no longer query these entries (see the note in
// bench/README.md), so they remain for operators' queries of a member state's or partner's cases.
import { Schema } from 'mongoose';
import type { DocumentChange } from '../../events/event.model.ts';
import { tenantScoped } from '../../store/tenant.ts';
import { caseFields, type CaseDoc } from './case.model.ts';

export const CASE_LIST_COLLECTION = 'case_list';

const ENTRY_FIELDS = [
  '_id',
  'reference',
  'memberState',
  'partner',
  'sharedWithPartner',
  'units',
  'programme',
  'originCountry',
  'status',
  'version',
  'createdAt',
  'updatedAt',
  // The work list's deadlines due soon (deadline.service.ts casesDueBy).
  'nextDeadlineAt',
] as const satisfies readonly (keyof CaseDoc)[];

export type CaseListEntry = Pick<CaseDoc, (typeof ENTRY_FIELDS)[number]>;

/** The list entry of a case as it is at its version. */
export function listEntryOf(c: CaseListEntry): CaseListEntry {
  const entry = Object.fromEntries(ENTRY_FIELDS.map((field) => [field, c[field] ?? null])) as CaseListEntry;
  // Cases stored before member states had units have none.
  return { ...entry, units: c.units ?? [] };
}

/** The projection's derivation: a case's post-image → its list entry (EventLog.derive). */
export const listEntryChange = (doc: DocumentChange['doc']): DocumentChange => ({
  collection: CASE_LIST_COLLECTION,
  doc: listEntryOf(doc as unknown as CaseDoc),
});

/** The fields of a case that its entry holds, as a projection. */
export const LIST_ENTRY_PROJECTION: Record<string, 1> = Object.fromEntries(ENTRY_FIELDS.map((field) => [field, 1]));

/** The entry's fields declared as the case declares them. */
const entryFields = Object.fromEntries(ENTRY_FIELDS.map((field) => [field, caseFields[field]]));

export const caseListEntrySchema = new Schema<CaseListEntry>(entryFields, {
  collection: CASE_LIST_COLLECTION,
  versionKey: false,
});
// Scoped like the case it lists (caseScope filters on memberState, partner and sharedWithPartner, units).
caseListEntrySchema.plugin(tenantScoped);
// A member state's lists (scope first, then filters, then the sort).
caseListEntrySchema.index({ memberState: 1, updatedAt: -1, _id: -1 });
caseListEntrySchema.index({ memberState: 1, status: 1, updatedAt: -1, _id: -1 });
caseListEntrySchema.index({ memberState: 1, createdAt: -1, _id: -1 });
caseListEntrySchema.index({ memberState: 1, reference: 1 });
// A partner's lists.
caseListEntrySchema.index({ partner: 1, sharedWithPartner: 1, updatedAt: -1, _id: -1 });
caseListEntrySchema.index({ partner: 1, sharedWithPartner: 1, status: 1, updatedAt: -1, _id: -1 });
caseListEntrySchema.index({ partner: 1, sharedWithPartner: 1, createdAt: -1, _id: -1 });
caseListEntrySchema.index({ partner: 1, sharedWithPartner: 1, reference: 1 });
// A member state's unit's lists (an implementing organisation's cases).
caseListEntrySchema.index({ units: 1, memberState: 1, updatedAt: -1, _id: -1 });
caseListEntrySchema.index({ units: 1, memberState: 1, status: 1, updatedAt: -1, _id: -1 });
