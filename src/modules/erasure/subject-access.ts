// Subject access (GDPR art. 15): everything held on one case, opened, for the member state
// that answers the returnee's request (`erin export-case REF`). The export is recorded in the
// case's audit trail (`CaseExported`: who, which case) before anything is handed over. An
// erased case exports what is left of it: its personal values read as null.
import { Audience, caseParties } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { fact } from '../../events/executor.ts';
import { notFound } from '../../errors.ts';
import { SYSTEM } from '../../store/tenant.ts';
import type { CaseDoc } from '../cases/case.model.ts';
import { caseFieldContext } from '../cases/case.sealing.ts';
import type { EvidenceDoc } from '../evidence/evidence.model.ts';
import { answersContext } from '../monitoring/monitoring.model.ts';
import { narrativeContext } from '../progress/progress.model.ts';
import { guidanceContext } from '../return-leg/return-leg.service.ts';
import type { Needs } from '../../deps.ts';

export const CASE_EXPORTED = 'CaseExported';

/** The collections holding a case's records, by the name the export gives them. */
const RECORDS = {
  plans: 'plans',
  progressUpdates: 'progress_updates',
  surveys: 'surveys',
  evidence: 'evidence',
  shipments: 'shipments',
  finalReports: 'final_reports',
} as const;

/** Events of the case read per round trip. */
const EVENT_PAGE = 1000;

type Doc = Record<string, unknown> & { _id: string };

export type SubjectAccess = ReturnType<typeof createSubjectAccess>;

export function createSubjectAccess(deps: Needs<'store' | 'executor' | 'log' | 'cases' | 'sealing' | 'evidence' | 'clock'>) {
  const { store, executor, log, cases, sealing, evidence, clock } = deps;
  const json = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

  async function openedCase(c: CaseDoc) {
    const key = await sealing.keys.forReading(c._id);
    const open = (field: string, sealed: string | null | undefined) =>
      sealed ? key.openText(caseFieldContext(c._id, field), sealed) : null;
    const { vulnerabilitySealed, needsAssessmentSealed, birthMonthsSealed, entitlement, returnSupport, ...clear } = c;
    const { amountsSealed: _sealed, linesSealed: _lines, ...rest } = entitlement;
    const guidance = returnSupport?.guidanceSealed ? key.openText(guidanceContext(c._id), returnSupport.guidanceSealed) : null;
    return {
      ...clear,
      vulnerability: json(open('vulnerability', vulnerabilitySealed)),
      needsAssessment: open('needs', needsAssessmentSealed),
      birthMonths: json(open('birthMonths', birthMonthsSealed)),
      entitlement: { ...rest, ...(await sealing.openEntitlement(c)) },
      returnSupport: returnSupport ? { ...withoutKey(returnSupport, 'guidanceSealed'), guidance: json(guidance) } : null,
    };
  }

  /** Every record of the case in one collection (the member state's index on it serves the query). */
  async function records(c: CaseDoc, collection: string): Promise<Doc[]> {
    return store.connection
      .collection<Doc>(collection)
      .find({ memberState: c.memberState, caseId: c._id }, store.queryOptions)
      .toArray();
  }

  async function openedRecords(c: CaseDoc) {
    const key = await sealing.keys.forReading(c._id);
    const out: Record<keyof typeof RECORDS, unknown[]> = {
      plans: [],
      progressUpdates: [],
      surveys: [],
      evidence: [],
      shipments: [],
      finalReports: [],
    };
    for (const [name, collection] of Object.entries(RECORDS) as [keyof typeof RECORDS, string][]) {
      const docs = await records(c, collection);
      out[name] = await Promise.all(
        docs.map(async (d) => {
          if (name === 'progressUpdates') {
            const { narrativeSealed, ...rest } = d;
            return { ...rest, narrative: key.openText(narrativeContext(d._id), String(narrativeSealed)) };
          }
          if (name === 'surveys') {
            const { answersSealed, ...rest } = d;
            return { ...rest, answers: json(key.openText(answersContext(d._id), String(answersSealed))) };
          }
          if (name === 'evidence') {
            const { filenameSealed: _name, sha256Sealed: _digest, ...meta } = await evidence.opened(d as unknown as EvidenceDoc);
            const content = await evidence.contentOf(meta);
            return { ...meta, contentBase64: content?.toString('base64') ?? null };
          }
          return d;
        }),
      );
    }
    return out;
  }

  /** What was done to the case, by whom and when (the log's entries of it, without their post-images). */
  async function history(caseId: string) {
    const entries = [];
    for (let after = 0; ;) {
      const page = await log.ofCase(caseId, after, EVENT_PAGE);
      entries.push(...page.map((e) => ({ seq: e._id, at: e.at, type: e.type, actor: e.actor, data: e.data })));
      if (page.length < EVENT_PAGE) return entries;
      after = page.at(-1)!._id;
    }
  }

  return {
    /**
     * Everything held on the case with this reference, opened. The export is recorded in the
     * case's audit trail first: if that fails, nothing is handed over. NOT_FOUND for an unknown reference.
     */
    async exportCase(principal: Principal, reference: string) {
      const found = await cases.model.findOne({ reference }, { _id: 1 }).setOptions({ scope: SYSTEM }).lean<{ _id: string }>();
      const c = found ? await cases.load(SYSTEM, found._id) : null;
      if (!c) throw notFound('Case', reference);
      await executor.recordFacts(principal, [
        fact({
          aggregateType: 'case-export',
          caseId: c._id,
          type: CASE_EXPORTED,
          // In the case's audit trail, never in a feed or webhook.
          audience: caseParties(c).map(Audience.auditOnly),
          data: { reference: c.reference, purpose: 'SUBJECT_ACCESS' },
        }),
      ]);
      return {
        reference: c.reference,
        exportedAt: clock.now(),
        erased: Boolean(c.erasedAt),
        case: await openedCase(c),
        ...(await openedRecords(c)),
        events: await history(c._id),
      };
    },
  };
}

function withoutKey<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
  const { [key]: _dropped, ...rest } = value;
  return rest;
}
