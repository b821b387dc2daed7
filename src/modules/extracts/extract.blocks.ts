// The blocks extracts are built from, frozen at their first release. A block is one member
// state's cases registered in one calendar quarter (extract.periods.ts). The first extract
// that releases a block takes its cases as they stand then — the cases, and what of each the
// catalogue may read — and every later extract releases the block from that snapshot, so the
// same block with the same variables gives the same rows, whenever asked: a case referred,
// closed or changed later, or consenting later, changes nothing. A case that leaves a frozen
// block (erased, or its consent no longer covering evaluation research) cannot be left out
// alone, since the rows without it would single out its row: the whole block is withheld from
// then on, and every built file holding it is withdrawn (extract.service.ts).
//
// Each case's snapshot is sealed under the case's own key, so erasing the case destroys it as
// every other copy. The snapshot is written first and the block claimed after, by an insert
// against its `_id` (the store's one atomic primitive): of two builds freezing a block at
// once, one claim wins and both release its snapshot; the loser's is deleted.
import { randomUUID } from 'node:crypto';
import { Schema, type Model } from 'mongoose';
import { CaseErasedError, type CaseKeys } from '../../crypto/case-keys.ts';
import type { Clock } from '../../clock.ts';
import { isDuplicateKey, type Store } from '../../store/store.ts';
import { extractSourceScope } from '../../auth/policy.ts';
import { op, SYSTEM, tenantScoped } from '../../store/tenant.ts';
import { todayIso } from '../../validation.ts';
import { consentCovers } from '../cases/case.consent.ts';
import type { CaseDoc } from '../cases/case.model.ts';
import type { PlanDoc } from '../plans/plan.model.ts';
import type { SourceCase, SourceCaseField } from './extract.catalogue.ts';
import { quarterOfCase, type Quarter } from './extract.periods.ts';

/** A member state's quarter, frozen: which snapshot of its cases every extract releases. */
export type BlockDoc = {
  /** `<member state>:<quarter>`, e.g. `NL:2026-Q1`. */
  _id: string;
  memberState: string;
  quarter: Quarter;
  snapshotId: string;
  /** Cases in the snapshot (a snapshot read back with fewer is not released). */
  cases: number;
  frozenAt: Date;
};

/** One case of a snapshot: what the catalogue reads of it, sealed under the case's key. */
export type BlockCaseDoc = {
  /** `<snapshot id>:<case id>`. */
  _id: string;
  snapshotId: string;
  caseId: string;
  sealed: string;
  createdAt: Date;
};

const blockSchema = new Schema<BlockDoc>(
  {
    _id: { type: String, required: true },
    memberState: { type: String, required: true },
    quarter: { type: String, required: true },
    snapshotId: { type: String, required: true },
    cases: { type: Number, required: true },
    frozenAt: { type: Date, required: true },
  },
  { collection: 'extract_blocks', versionKey: false },
);
blockSchema.plugin(tenantScoped);
// The blocks of a built file's snapshots (its download's check).
blockSchema.index({ snapshotId: 1 });

const blockCaseSchema = new Schema<BlockCaseDoc>(
  {
    _id: { type: String, required: true },
    snapshotId: { type: String, required: true },
    caseId: { type: String, required: true },
    sealed: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'extract_block_cases', versionKey: false },
);
blockCaseSchema.plugin(tenantScoped);
// A block's snapshot is read by its id; an erased case's snapshots (to withdraw files) by the case.
blockCaseSchema.index({ snapshotId: 1 });
blockCaseSchema.index({ caseId: 1 });
blockCaseSchema.index({ createdAt: 1 });

/** A block as an extract gets it: its rows' source, or withheld (a case left it since it was frozen). */
export type ReleasedBlock = {
  _id: string;
  memberState: string;
  quarter: Quarter;
  snapshotId: string;
  /** Null: withheld. */
  cases: SourceCase[] | null;
};

/** What the builder reads of a case to freeze it, and to see whether it may still be released. */
export type LiveCase = Pick<CaseDoc, SourceCaseField | '_id' | 'spend' | 'planInForce' | 'consent' | 'erasedAt'>;
const LIVE_FIELDS =
  'memberState originCountry programme returnType status closureReason household arrivedOn createdAt actualEur spend latestScores planInForce consent erasedAt';

type PlanRow = Pick<PlanDoc, 'caseId' | 'planVersion' | 'totalEur' | 'components'>;

/** Snapshots of builds that never claimed their block are removed after this long. */
const ORPHAN_AGE_MS = 3_600_000;

export const blockIdOf = (memberState: string, quarter: Quarter) => `${memberState}:${quarter}`;
const snapshotContext = (snapshotId: string) => `extract-snapshot:${snapshotId}`;

/**
 * Whether a case may be in an extract today: sent (never a draft), not erased, and its
 * returnee's consent covers evaluation research.
 */
function releasable(c: LiveCase | undefined, today: string): boolean {
  return !!c && c.status !== 'DRAFT' && !c.erasedAt && consentCovers(c, 'EVALUATION_RESEARCH', today);
}

/** What the catalogue may read of a case, and nothing else (no identifier of the exchange). */
function sourceOf(c: LiveCase, plan: PlanRow | undefined): SourceCase {
  return {
    memberState: c.memberState,
    originCountry: c.originCountry,
    programme: c.programme,
    returnType: c.returnType,
    status: c.status,
    closureReason: c.closureReason ?? null,
    household: (c.household ?? []).map((h) => ({ yearOfBirth: h.yearOfBirth, gender: h.gender, relation: h.relation })),
    arrivedOn: c.arrivedOn ?? null,
    createdAt: c.createdAt,
    actualEur: c.actualEur ?? 0,
    spendKinds: (c.spend ?? []).map((s) => s.kind),
    latestScores: c.latestScores ?? null,
    plan: plan ? { totalEur: plan.totalEur ?? null, kinds: (plan.components ?? []).map((k) => k.kind) } : null,
  };
}

function parseSource(json: string): SourceCase {
  const source = JSON.parse(json) as SourceCase & { createdAt: string };
  return { ...source, createdAt: new Date(source.createdAt) };
}

export type BlockStore = ReturnType<typeof createBlockStore>;

export function createBlockStore(deps: {
  store: Store;
  keys: CaseKeys;
  clock: Clock;
  cases: Model<CaseDoc>;
  plans: Model<PlanDoc>;
}) {
  const { store, keys, clock } = deps;
  const Blocks: Model<BlockDoc> = store.model('ExtractBlock', blockSchema);
  const BlockCases: Model<BlockCaseDoc> = store.model('ExtractBlockCase', blockCaseSchema);

  /** Every case of the member states, as it stands (all of them: member states have index bounds, a status filter has none). */
  async function liveCases(memberStates: readonly string[]): Promise<Map<string, LiveCase>> {
    const rows = await deps.cases
      .find({})
      .setOptions({ scope: extractSourceScope(memberStates) })
      .select(LIVE_FIELDS)
      .lean<LiveCase[]>();
    return new Map(rows.map((c) => [c._id, c]));
  }

  /** The plans in force of `cases`, by case. */
  async function plansInForce(memberStates: readonly string[], cases: LiveCase[]): Promise<Map<string, PlanRow>> {
    const plans = new Map<string, PlanRow>();
    if (!cases.some((c) => c.planInForce !== null)) return plans;
    const inForce = new Map(cases.map((c) => [c._id, c.planInForce]));
    const all = await deps.plans
      .find({})
      .setOptions({ scope: extractSourceScope(memberStates) })
      .select('caseId planVersion totalEur components.kind')
      .lean<PlanRow[]>();
    for (const plan of all) if (inForce.get(plan.caseId) === plan.planVersion) plans.set(plan.caseId, plan);
    return plans;
  }

  /** The case ids of snapshots, by snapshot. */
  async function membersOf(snapshotIds: readonly string[]): Promise<Map<string, BlockCaseDoc[]>> {
    const members = new Map<string, BlockCaseDoc[]>(snapshotIds.map((id) => [id, []]));
    if (snapshotIds.length === 0) return members;
    const docs = await BlockCases.find({ snapshotId: op({ $in: [...snapshotIds] }) })
      .setOptions({ scope: SYSTEM })
      .lean<BlockCaseDoc[]>();
    for (const doc of docs) members.get(doc.snapshotId)?.push(doc);
    return members;
  }

  /**
   * Freezes a block: its releasable cases' snapshot first, then the claim. Answers the block
   * as claimed (ours, or that of a build that claimed it first).
   */
  async function freeze(
    memberState: string,
    quarter: Quarter,
    cases: LiveCase[],
    plans: Map<string, PlanRow>,
  ): Promise<BlockDoc> {
    const snapshotId = randomUUID();
    const now = clock.now();
    // Keys asked for together are read together.
    const sealed = await Promise.all(
      cases.map(async (c) => {
        try {
          const key = await keys.forWriting(c._id);
          return key.seal(snapshotContext(snapshotId), JSON.stringify(sourceOf(c, plans.get(c._id))));
        } catch (error) {
          // Erased while we read it: it is in no snapshot.
          if (error instanceof CaseErasedError) return null;
          throw error;
        }
      }),
    );
    const members = cases.flatMap((c, i) =>
      sealed[i] ? [{ _id: `${snapshotId}:${c._id}`, snapshotId, caseId: c._id, sealed: sealed[i], createdAt: now }] : [],
    );
    if (members.length > 0) await BlockCases.insertMany(members, { ordered: false });
    const block: BlockDoc = {
      _id: blockIdOf(memberState, quarter),
      memberState,
      quarter,
      snapshotId,
      cases: members.length,
      frozenAt: now,
    };
    try {
      await Blocks.create(block);
      return block;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      await dropSnapshot(snapshotId);
      const winner = await Blocks.findOne({ _id: block._id }).setOptions({ scope: SYSTEM }).lean<BlockDoc>();
      if (!winner) throw error;
      return winner;
    }
  }

  async function dropSnapshot(snapshotId: string): Promise<void> {
    await BlockCases.deleteMany({ snapshotId }).setOptions({ scope: SYSTEM });
  }

  /** A frozen block's cases for an extract, or null when one of them may no longer be released. */
  async function open(block: BlockDoc, members: BlockCaseDoc[], live: Map<string, LiveCase>, today: string) {
    if (members.length !== block.cases) throw new Error(`snapshot of block ${block._id} is incomplete`);
    if (members.some((m) => !releasable(live.get(m.caseId), today) || live.get(m.caseId)!.memberState !== block.memberState)) {
      return null;
    }
    const opened = await Promise.all(
      members.map(async (m) => (await keys.forReading(m.caseId)).openText(snapshotContext(block.snapshotId), m.sealed)),
    );
    // A snapshot that no longer opens: its case was erased since.
    if (opened.some((json) => json === null)) return null;
    return opened.map((json) => parseSource(json!));
  }

  return {
    blocks: Blocks,

    /**
     * The blocks of `memberStates` × `quarters` as extracts release them: frozen now if this
     * is their first release (with the cases that may be released today), else as frozen.
     */
    async release(memberStates: readonly string[], quarters: readonly Quarter[]): Promise<ReleasedBlock[]> {
      const wanted = memberStates.flatMap((memberState) => quarters.map((quarter) => ({ memberState, quarter })));
      const ids = wanted.map((w) => blockIdOf(w.memberState, w.quarter));
      const frozen = new Map(
        (
          await Blocks.find({ _id: op({ $in: ids }) })
            .setOptions({ scope: SYSTEM })
            .lean<BlockDoc[]>()
        ).map((b) => [b._id, b]),
      );
      const live = await liveCases(memberStates);
      const today = todayIso(clock.now());
      const toFreeze = wanted.filter((w) => !frozen.has(blockIdOf(w.memberState, w.quarter)));
      if (toFreeze.length > 0) {
        const eligible = [...live.values()].filter((c) => releasable(c, today));
        const plans = await plansInForce(memberStates, eligible);
        for (const { memberState, quarter } of toFreeze) {
          const cases = eligible.filter((c) => c.memberState === memberState && quarterOfCase(c) === quarter);
          const block = await freeze(memberState, quarter, cases, plans);
          frozen.set(block._id, block);
        }
      }
      const blocks = ids.map((id) => frozen.get(id)!);
      const members = await membersOf(blocks.map((b) => b.snapshotId));
      const released: ReleasedBlock[] = [];
      for (const block of blocks) {
        const { _id, memberState, quarter, snapshotId } = block;
        released.push({ _id, memberState, quarter, snapshotId, cases: await open(block, members.get(snapshotId)!, live, today) });
      }
      return released;
    },

    /**
     * Whether every case of these snapshots may still be released (a built file holding them
     * may still be downloaded).
     */
    async stillReleasable(snapshotIds: readonly string[]): Promise<boolean> {
      const members = [...(await membersOf(snapshotIds)).values()].flat();
      if (members.length === 0) return true;
      const blocks = await Blocks.find({ snapshotId: op({ $in: [...snapshotIds] }) })
        .setOptions({ scope: SYSTEM })
        .lean<BlockDoc[]>();
      const memberStates = [...new Set(blocks.map((b) => b.memberState))];
      const live = await liveCases(memberStates);
      const today = todayIso(clock.now());
      return members.every((m) => releasable(live.get(m.caseId), today));
    },

    /** The snapshots that hold a case (to withdraw the files built from them when it is erased). */
    async snapshotsOf(caseId: string): Promise<string[]> {
      const docs = await BlockCases.find({ caseId }, { snapshotId: 1 })
        .setOptions({ scope: SYSTEM })
        .lean<Pick<BlockCaseDoc, 'snapshotId'>[]>();
      return [...new Set(docs.map((d) => d.snapshotId))];
    },

    /** Housekeeping: snapshots of builds that lost their claim or never made it. */
    async purge(): Promise<number> {
      const cutoff = new Date(clock.now().getTime() - ORPHAN_AGE_MS);
      const old = await BlockCases.find({ createdAt: op({ $lt: cutoff }) }, { snapshotId: 1 })
        .setOptions({ scope: SYSTEM })
        .lean<Pick<BlockCaseDoc, 'snapshotId'>[]>();
      const snapshots = [...new Set(old.map((d) => d.snapshotId))];
      if (snapshots.length === 0) return 0;
      const claimed = new Set(
        (
          await Blocks.find({ snapshotId: op({ $in: snapshots }) }, { snapshotId: 1 })
            .setOptions({ scope: SYSTEM })
            .lean<Pick<BlockDoc, 'snapshotId'>[]>()
        ).map((b) => b.snapshotId),
      );
      let dropped = 0;
      for (const snapshotId of snapshots) {
        if (claimed.has(snapshotId)) continue;
        await dropSnapshot(snapshotId);
        dropped += 1;
      }
      return dropped;
    },
  };
}
