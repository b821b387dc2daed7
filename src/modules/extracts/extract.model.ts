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

/** A member state's quarter (extract.blocks.ts). */
export type ExtractBlockRef = { memberState: string; quarter: string };

/** What the build produced and reported; the rows themselves are in the file. */
export type ExtractBuild = {
  fileId: string;
  builtAt: Date;
  expiresAt: Date;
  rows: number;
  /** Rounded (extract.table.ts). */
  casesConsidered: number;
  /** Rounded (extract.table.ts). */
  suppressedRows: number;
  generalisations: ExtractGeneralisation[];
  /** Blocks of the period not released: a case left them since they were frozen. */
  withheld: ExtractBlockRef[];
  /** Set when a case of the file left its block (erased, consent ended): the file is deleted. */
  withdrawnAt: Date | null;
  sha256: string;
};

export type ExtractDoc = Versioned & {
  _id: string;
  researchBody: string;
  purpose: string;
  variables: ExtractVariable[];
  /** Months YYYY-MM, inclusive: whole calendar quarters of registration (extract.periods.ts). */
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
  /** The block snapshots its rows come from (extract.blocks.ts): erasing one of their cases withdraws it. */
  snapshots: string[];
  sealed: Buffer;
  expiresAt: Date;
  createdAt: Date;
};

export const extractFileSchema = new Schema<ExtractFileDoc>(
  {
    _id: { type: String, required: true },
    extractId: { type: String, required: true },
    researchBody: { type: String, required: true },
    snapshots: { type: [String], default: [] },
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
