// The gateway's memory of the directory: what pages show of organisations and programmes.
import { describe, expect, it } from 'vitest';
import { DirectoryCache } from '../../src/modules/organisations/directory.cache.ts';

type Org = { _id: string; version: number; name: string };
const org = (code: string, version: number, name = `${code} v${version}`): Org => ({ _id: code, version, name });
const event = (...docs: Org[]) => ({ changes: docs.map((doc) => ({ collection: 'organisations', doc })) });
const loadFrom = (store: Map<string, Org>) => async (missing: string[]) =>
  new Map(missing.filter((c) => store.has(c)).map((c) => [c, store.get(c)!]));

describe('the directory cache', () => {
  it('answers what it remembered even when an event arrives while the rest is read', async () => {
    const cache = new DirectoryCache<Org>('organisations', (d) => d);
    const store = new Map([
      ['NL', org('NL', 1)],
      ['P-AF-HOPE', org('P-AF-HOPE', 1)],
    ]);
    await cache.getMany(['NL'], loadFrom(store));
    let release!: () => void;
    const slow = async (missing: string[]) => {
      await new Promise<void>((resolve) => (release = resolve));
      return loadFrom(store)(missing);
    };
    const page = cache.getMany(['NL', 'P-AF-HOPE'], slow);
    // Another organisation changes while the page reads the partner.
    cache.observe(event(org('BE', 2)));
    release();
    expect((await page).map((d) => d?._id)).toEqual(['NL', 'P-AF-HOPE']);
  });

  it('takes a change from the event, and a read that started before it never puts the old version back', async () => {
    const cache = new DirectoryCache<Org>('organisations', (d) => d);
    const store = new Map([['NL', org('NL', 1, 'Netherlands')]]);
    let release!: () => void;
    const slow = async (missing: string[]) => {
      const read = await loadFrom(store)(missing); // read before the event is projected
      await new Promise<void>((resolve) => (release = resolve));
      return read;
    };
    const page = cache.getMany(['NL'], slow);
    await Promise.resolve();
    cache.observe(event(org('NL', 2, 'Kingdom of the Netherlands')));
    release();
    await page;
    const [now] = await cache.getMany(['NL'], async () => new Map());
    expect(now).toMatchObject({ version: 2, name: 'Kingdom of the Netherlands' });
  });

  it('does not remember a code that does not exist: it is found once created', async () => {
    const cache = new DirectoryCache<Org>('organisations', (d) => d);
    const store = new Map<string, Org>();
    expect(await cache.getMany(['NL-GEM-X'], loadFrom(store))).toEqual([null]);
    store.set('NL-GEM-X', org('NL-GEM-X', 1));
    expect((await cache.getMany(['NL-GEM-X'], loadFrom(store)))[0]?._id).toBe('NL-GEM-X');
  });

  it('ignores documents of other collections', async () => {
    const cache = new DirectoryCache<Org>('organisations', (d) => d);
    cache.observe({ changes: [{ collection: 'programmes', doc: org('NL', 9) }] });
    expect(await cache.getMany(['NL'], async () => new Map([['NL', org('NL', 1)]]))).toEqual([org('NL', 1)]);
  });

  it('answers at once only what getMany would answer from memory: unknown and expired codes go to the store', async () => {
    let now = 0;
    const cache = new DirectoryCache<Org>(
      'organisations',
      (d) => d,
      () => now,
    );
    expect(cache.remembered('NL')).toBeUndefined();
    await cache.getMany(['NL'], loadFrom(new Map([['NL', org('NL', 1)]])));
    expect(cache.remembered('NL')).toEqual(org('NL', 1));
    cache.observe(event(org('NL', 2)));
    expect(cache.remembered('NL')).toEqual(org('NL', 2));
    now = 60_000; // a minute without news of it: it may have changed on another gateway
    expect(cache.remembered('NL')).toBeUndefined();
    expect(await cache.getMany(['NL'], loadFrom(new Map([['NL', org('NL', 3)]])))).toEqual([org('NL', 3)]);
  });
});
