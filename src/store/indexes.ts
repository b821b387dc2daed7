// The indexes the models declare, compared with the store's and built when missing. A start
// only checks and builds what is missing, within ERIN_STORE_INDEX_TIMEOUT: on a populated replica
// set a build waits for every voting member, so new indexes are built ahead of a rolling upgrade
// with `npx erin store migrate`, which waits as long as the builds take.
import type { Model } from 'mongoose';

export type DeclaredIndex = {
  collection: string;
  name: string;
  key: Record<string, number | string>;
  options: Record<string, unknown>;
};

export class IndexBuildTimeout extends Error {
  constructor(
    readonly collection: string,
    readonly index: string,
    readonly timeoutMs: number,
  ) {
    super(
      `index ${collection}.${index} was not built within ERIN_STORE_INDEX_TIMEOUT (${timeoutMs} ms); ` +
        'its build goes on in the store. Build new indexes ahead of a start with `npx erin store migrate`, or raise ERIN_STORE_INDEX_TIMEOUT.',
    );
    this.name = 'IndexBuildTimeout';
  }
}

/** The name MongoDB gives an index it is not given one for: `memberState_1_updatedAt_-1`. */
function defaultName(key: Record<string, unknown>): string {
  return Object.entries(key)
    .map(([field, direction]) => `${field}_${String(direction)}`)
    .join('_');
}

export function declaredIndexes(models: readonly Model<unknown>[]): DeclaredIndex[] {
  return models.flatMap((model) =>
    model.schema.indexes().map(([key, options]) => {
      const { background: _background, ...rest } = options as Record<string, unknown>;
      return {
        collection: model.collection.collectionName,
        name: typeof rest.name === 'string' ? rest.name : defaultName(key),
        key,
        options: rest,
      };
    }),
  );
}

type StoredIndex = { name: string; key: Record<string, unknown>; unique?: boolean };

/** The store's indexes of a collection; none when it does not exist yet. */
async function storedIndexes(model: Model<unknown>): Promise<StoredIndex[] | undefined> {
  try {
    return (await model.collection.listIndexes().toArray()) as StoredIndex[];
  } catch (error) {
    const e = error as { code?: number; codeName?: string };
    if (e.code === 26 || e.codeName === 'NamespaceNotFound') return undefined;
    throw error;
  }
}

const sameKey = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  JSON.stringify(Object.entries(a)) === JSON.stringify(Object.entries(b));

export type IndexReport = {
  /** Collections created (they did not exist). */
  collections: string[];
  /** Indexes built, in the order they were. */
  created: DeclaredIndex[];
  /** Declared indexes the store had already. */
  present: number;
};

/**
 * Creates the models' missing collections and builds their missing indexes, one at a time. With
 * a timeout, the whole of it must finish within it: the index being built when it runs out (or the
 * next one to build) is named in an IndexBuildTimeout.
 */
export async function buildMissingIndexes(
  models: readonly Model<unknown>[],
  options: { timeoutMs?: number | undefined; onCreated?: (index: DeclaredIndex) => void } = {},
): Promise<IndexReport> {
  const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
  const report: IndexReport = { collections: [], created: [], present: 0 };
  for (const model of models) {
    const collection = model.collection.collectionName;
    let stored = await storedIndexes(model);
    if (!stored) {
      await model.createCollection().catch((error: { code?: number; codeName?: string }) => {
        if (error.code !== 48 && error.codeName !== 'NamespaceExists') throw error;
      });
      report.collections.push(collection);
      stored = [];
    }
    for (const index of declaredIndexes([model])) {
      if (stored.some((s) => s.name === index.name || sameKey(s.key, index.key))) {
        report.present += 1;
        continue;
      }
      await withinDeadline(
        () => model.collection.createIndex(index.key as never, { ...index.options, name: index.name }),
        deadline,
        () => new IndexBuildTimeout(collection, index.name, options.timeoutMs!),
      );
      report.created.push(index);
      options.onCreated?.(index);
    }
  }
  return report;
}

async function withinDeadline<T>(start: () => Promise<T>, deadline: number | undefined, timeout: () => Error): Promise<T> {
  if (deadline === undefined) return start();
  const left = deadline - Date.now();
  // Out of time before it starts: the build is not asked for.
  if (left <= 0) throw timeout();
  const work = start();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timeout()), left);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    // A build given up on goes on in the store; its outcome is no longer awaited.
    work.catch(() => undefined);
  }
}
