// A case's list of files (evidence), kept so a case's page reads its files by primary key:
// the embedded store answers only an equality on `_id` from an index, and a query by `caseId`
// reads the whole evidence collection. Files are their own aggregate (an upload is not a write
// on the case, so it does not move the case's version clients hold), so the list cannot live
// on the case document, which only the case's own writes may replace.
//
// Every version of a case's list is a document of its own, `<caseId>:<version>`, holding the
// whole list. An upload adds its file by inserting the next version: the insert is the claim
// (atomic on every store, where a conditional update is not on the embedded store), and a
// rival that took the version first is read and included before the next attempt, so two
// concurrent uploads never lose one another. Each version holds the one before, so the newest
// holds every file whose upload listed it. The case's head (`_id` = the case id) remembers
// the newest version known, best effort (it may lag, never skip): readers take it, then ask
// for the version after it. Only ids are held here, nothing personal; each file is read by id
// through the tenant policy, so a list is never what decides who may see a file.
import type { Store } from '../../store/store.ts';
import { isDuplicateKey, MAX_BATCH } from '../../store/store.ts';

/** A case's files as of one version of its list (0: none yet). */
export type FileList = { version: number; ids: string[] };

/** The head: the newest version of the case's list that was known when it was written. */
type HeadDoc = FileList & { _id: string };
/** One version of a case's list, never changed once inserted. */
type VersionDoc = FileList & { _id: string; caseId: string };

/** The head's collection and the versions' (see the module's comment). */
export const FILE_LIST_HEADS = 'case_files';
export const FILE_LIST_VERSIONS = 'case_file_lists';

const EMPTY: FileList = { version: 0, ids: [] };

const versionId = (caseId: string, version: number) => `${caseId}:${version}`;

/** Versions a writer steps over before giving up (each step is a rival's upload to the same case). */
const MAX_STEPS = 1000;

export type CaseFiles = ReturnType<typeof createCaseFiles>;

export function createCaseFiles(store: Store) {
  const heads = store.connection.collection<HeadDoc>(FILE_LIST_HEADS);
  const versions = store.connection.collection<VersionDoc>(FILE_LIST_VERSIONS);
  const options = () => store.queryOptions;

  const headOf = async (caseId: string): Promise<FileList | null> => {
    const head = await heads.findOne({ _id: caseId }, options());
    return head && { version: head.version, ids: head.ids };
  };

  const versionOf = async (caseId: string, version: number): Promise<FileList | null> => {
    const found = await versions.findOne({ _id: versionId(caseId, version) }, options());
    return found && { version: found.version, ids: found.ids };
  };

  /** The newest version after `known`, asking for each next one by primary key until none. */
  async function newestFrom(caseId: string, known: FileList): Promise<FileList> {
    let list = known;
    for (let step = 0; step < MAX_STEPS; step += 1) {
      const next = await versionOf(caseId, list.version + 1);
      if (!next) return list;
      list = next;
    }
    throw new Error(`the file list of case ${caseId} did not end`);
  }

  /** Moves the head on to `list`, unless it was seen at that version or later already. */
  async function advanceHead(caseId: string, seen: FileList | null, list: FileList): Promise<void> {
    if (!seen || seen.version >= list.version) return;
    // By `_id` alone (a primary-key write on every store). Two writers may cross and leave
    // the head at the older of their versions: readers and the next writer step forward.
    await heads.replaceOne({ _id: caseId }, { version: list.version, ids: list.ids });
  }

  /**
   * Adds files to the case's list from `from` on: inserts the next version holding the list
   * and them; on a version taken meanwhile, reads it and tries the one after. Answers the
   * version that holds them.
   */
  async function include(caseId: string, ids: readonly string[], from: FileList): Promise<FileList> {
    let list = from;
    for (let step = 0; step < MAX_STEPS; step += 1) {
      const missing = ids.filter((id) => !list.ids.includes(id));
      if (missing.length === 0) return list;
      const next: VersionDoc = {
        _id: versionId(caseId, list.version + 1),
        caseId,
        version: list.version + 1,
        ids: [...list.ids, ...missing],
      };
      try {
        await versions.insertOne(next);
        return { version: next.version, ids: next.ids };
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        // Another upload took this version: its list is the one to add to.
        const taken = await versionOf(caseId, next.version);
        if (!taken) throw error;
        list = taken;
      }
    }
    throw new Error(`could not list files on case ${caseId}`);
  }

  /**
   * Gives a case stored before cases had a list one holding `ids` (its files, as found by
   * case) and whatever uploads listed on it meanwhile, then its head. Answers the list.
   */
  async function complete(caseId: string, ids: readonly string[]): Promise<FileList> {
    const list = await include(caseId, ids, await newestFrom(caseId, EMPTY));
    try {
      await heads.insertOne({ _id: caseId, version: list.version, ids: list.ids });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error; // completed meanwhile (another gateway's start)
    }
    return list;
  }

  return {
    /**
     * A new case's empty list: its head, so its page reads its files by primary key from the
     * start (a case without a head was stored before cases had one; see backfill).
     */
    async open(caseId: string): Promise<void> {
      await heads.insertOne({ _id: caseId, version: 0, ids: [] });
    },

    /** The heads of many new cases (bulk imports); those that exist are left as they are. */
    async openMany(caseIds: readonly string[]): Promise<void> {
      for (let from = 0; from < caseIds.length; from += MAX_BATCH) {
        const batch = caseIds.slice(from, from + MAX_BATCH).map((id) => ({ _id: id, version: 0, ids: [] }));
        await heads.insertMany(batch, { ordered: false }).catch((error: unknown) => {
          if (!isDuplicateKey(error)) throw error;
        });
      }
    },

    /**
     * Lists an uploaded file on its case (before the upload commits: see EvidenceService), and
     * moves the case's head on. A case without a head (stored before cases had one) gets its
     * versions all the same: the backfill reads them when it completes the case.
     */
    async add(caseId: string, id: string): Promise<void> {
      const head = await headOf(caseId);
      const list = await include(caseId, [id], head ?? EMPTY);
      await advanceHead(caseId, head, list);
    },

    /**
     * The case's head, or null for a case stored before cases had one (its files are then
     * found by case). The head may lag: ask `after` for what was listed since.
     */
    head: headOf,

    /** What was listed after `known`: the newest version, or `known` when there is none. */
    after: newestFrom,

    complete,

    /**
     * `complete` for many cases that had no version of their list when the backfill looked: their
     * first versions and heads in batches (a start at tens of thousands of cases). A batch in
     * which a version was taken meanwhile (an upload) is completed case by case instead.
     */
    async completeMany(lists: readonly { caseId: string; ids: readonly string[] }[]): Promise<void> {
      for (let from = 0; from < lists.length; from += MAX_BATCH) {
        const batch = lists.slice(from, from + MAX_BATCH);
        const first = batch.map(({ caseId, ids }) => ({ _id: versionId(caseId, 1), caseId, version: 1, ids: [...ids] }));
        try {
          await versions.insertMany(first, { ordered: false });
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          for (const { caseId, ids } of batch) await complete(caseId, ids);
          continue;
        }
        await heads
          .insertMany(
            first.map(({ caseId, ids }) => ({ _id: caseId, version: 1, ids })),
            { ordered: false },
          )
          .catch((error: unknown) => {
            if (!isDuplicateKey(error)) throw error; // completed meanwhile (another gateway's start)
          });
      }
    },

    /** Which of these cases have a head (the backfill leaves them as they are). */
    async withHeads(): Promise<Set<string>> {
      // Whole collection, once: in `_id` order, which every store walks by its primary key.
      const docs = await heads.find({}, { ...options(), projection: { _id: 1 }, sort: { _id: 1 } }).toArray();
      return new Set(docs.map((d) => d._id));
    },
  };
}
