// Evaluation extracts: a research body's request (written only as post-images of events),
// and the built file (pseudonymised rows, sealed at rest, deleted when it expires; never in
// the event log, so expiry really removes it).
import { Schema } from 'mongoose';
import { tenantScoped } from '../../store/tenant.ts';
import type { ExtractVariable } from './extract.catalogue.ts';
import { versionedFields, type Versioned } from '../../events/event.model.ts';

export const PART_STATUSES = ['PENDING', 'APPROVED', 'REFUSED'] as const;
export type PartStatus = (typeof PART_STATUSES)[number];

/** One member state's part of a request, decided by its data-protection officer. */
export type ExtractPart = {
  memberState: string;
  status: PartStatus;
  decidedAt: Date | null;
  comment: string | null;
};

export type ExtractGeneralisation = { variable: ExtractVariable; level: number; label: string };

/** What the build produced and reported; the rows themselves are in the file. */
export type ExtractBuild = {
  fileId: string;
  builtAt: Date;
  expiresAt: Date;
  rows: number;
  casesConsidered: number;
  suppressedRows: number;
  generalisations: ExtractGeneralisation[];
  sha256: string;
};

export type ExtractDoc = Versioned & {
  _id: string;
  researchBody: string;
  purpose: string;
  variables: ExtractVariable[];
  /** Months YYYY-MM, inclusive. */
  periodFrom: string;
  periodTo: string;
  memberStates: string[];
  k: number;
  parts: ExtractPart[];
  build: ExtractBuild | null;
  downloads: number;
  lastDownloadedAt: Date | null;
};

export const extractSchema = new Schema<ExtractDoc>(
  {
    _id: { type: String, required: true },
    researchBody: { type: String, required: true },
    purpose: { type: String, required: true },
    variables: { type: [String], required: true },
    periodFrom: { type: String, required: true },
    periodTo: { type: String, required: true },
    memberStates: { type: [String], required: true },
    k: { type: Number, required: true },
    parts: { type: Schema.Types.Mixed, required: true },
    build: { type: Schema.Types.Mixed, default: null },
    downloads: { type: Number, required: true },
    lastDownloadedAt: { type: Date, default: null },
    ...versionedFields,
  },
  { collection: 'extracts', versionKey: false },
);
extractSchema.plugin(tenantScoped);
extractSchema.index({ researchBody: 1, createdAt: -1, _id: -1 });
extractSchema.index({ memberStates: 1, createdAt: -1, _id: -1 });

/** The CSV of a built extract, gzipped and sealed under the extract and file ids. */
export type ExtractFileDoc = {
  _id: string;
  extractId: string;
  researchBody: string;
  sealed: Buffer;
  expiresAt: Date;
  createdAt: Date;
};

export const extractFileSchema = new Schema<ExtractFileDoc>(
  {
    _id: { type: String, required: true },
    extractId: { type: String, required: true },
    researchBody: { type: String, required: true },
    sealed: { type: Buffer, required: true },
    expiresAt: { type: Date, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'extract_files', versionKey: false },
);
extractFileSchema.plugin(tenantScoped);
// Housekeeping: expired files, and files of builds that never committed.
extractFileSchema.index({ expiresAt: 1 });
extractFileSchema.index({ createdAt: 1 });
