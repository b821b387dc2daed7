// Evidence files (invoices, receipts, photos, certificates), stored the way GridFS does:
// one small metadata document per file and its bytes in numbered chunks, each chunk
// encrypted on its own. Both are tenant-owned, with the case's tenant fields.
import { caseRecordFields, type CaseRecord, type VersionedCaseRecord } from '../cases/case.model.ts';
import { Schema } from 'mongoose';
import { tenantScoped } from '../../store/tenant.ts';
import { versionedFields } from '../../events/event.model.ts';

export const EVIDENCE_KINDS = [
  'RECEIPT',
  'INVOICE',
  'PHOTO',
  'HANDOVER_CERTIFICATE',
  'TRAINING_CERTIFICATE',
  'SHIPPING_DOCUMENT',
  'OTHER',
] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/** Well under the store's document limit; GridFS uses the same size. */
export const CHUNK_SIZE = 255 * 1024;

export type Actor = { organisation: string; subject: string };

export type EvidenceDoc = VersionedCaseRecord & {
  _id: string;
  kind: EvidenceKind;
  /**
   * As given by the uploader (display only, sanitised; the type comes from the content), sealed
   * under the case's key (a name can say what the file is about). `filename` in clear on files
   * uploaded before; open with EvidenceService.opened.
   */
  filenameSealed?: string | null;
  filename?: string;
  contentType: string;
  size: number;
  /** SHA-256 of the plaintext, hex, sealed under the case's key (a digest in clear confirms a guessed file); `sha256` in clear on older files. */
  sha256Sealed?: string | null;
  sha256?: string;
  chunkSize: number;
  chunkCount: number;
  uploadedBy: Actor;
  uploadedAt: Date;
};

export const evidenceSchema = new Schema<EvidenceDoc>(
  {
    _id: { type: String, required: true },
    ...caseRecordFields,
    kind: { type: String, enum: EVIDENCE_KINDS, required: true },
    filenameSealed: { type: String, default: null },
    filename: { type: String },
    contentType: { type: String, required: true },
    size: { type: Number, required: true },
    sha256Sealed: { type: String, default: null },
    sha256: { type: String },
    chunkSize: { type: Number, required: true },
    chunkCount: { type: Number, required: true },
    uploadedBy: { organisation: String, subject: String },
    uploadedAt: { type: Date, required: true },
    ...versionedFields,
  },
  { collection: 'evidence', versionKey: false },
);
evidenceSchema.plugin(tenantScoped);
evidenceSchema.index({ caseId: 1, uploadedAt: 1 });
evidenceSchema.index({ memberState: 1, caseId: 1 });
evidenceSchema.index({ partner: 1, sharedWithPartner: 1, caseId: 1 });

export type EvidenceChunkDoc = CaseRecord & {
  /** `<evidenceId>:<n>` */
  _id: string;
  evidenceId: string;
  n: number;
  /** AES-256-GCM (src/crypto/sealed.ts), bound to `evidence:<evidenceId>:<n>`. */
  data: Buffer;
  createdAt: Date;
};

export const evidenceChunkSchema = new Schema<EvidenceChunkDoc>(
  {
    _id: { type: String, required: true },
    evidenceId: { type: String, required: true },
    ...caseRecordFields,
    n: { type: Number, required: true },
    data: { type: Buffer, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'evidence_chunks', versionKey: false },
);
evidenceChunkSchema.plugin(tenantScoped);
evidenceChunkSchema.index({ evidenceId: 1, n: 1 }, { unique: true });
// Housekeeping: chunks of uploads that never committed.
evidenceChunkSchema.index({ createdAt: 1 });
