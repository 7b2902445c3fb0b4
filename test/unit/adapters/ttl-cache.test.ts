import { TtlCache } from '../../../lib/adapters/ttl-cache.js';

describe('TtlCache (config and role reads of a warm container)', () => {
  let now = 0;
  let reads = 0;
  const value = (v: string | undefined) => async () => {
    reads++;
    return v;
  };
  beforeEach(() => {
    now = 1_000;
    reads = 0;
  });

  test('a hit is served from memory until ttlMs has passed, then read again', async () => {
    const cache = new TtlCache<string>(5000, () => now);
    expect(await cache.get('m', value('a'))).toBe('a');
    now += 4999;
    expect(await cache.get('m', value('b'))).toBe('a');
    now += 1;
    expect(await cache.get('m', value('b'))).toBe('b');
    expect(reads).toBe(2);
  });

  test('concurrent misses share one read', async () => {
    const cache = new TtlCache<string>(5000, () => now);
    const all = await Promise.all([cache.get('m', value('a')), cache.get('m', value('x')), cache.get('m', value('y'))]);
    expect(all).toEqual(['a', 'a', 'a']);
    expect(reads).toBe(1);
  });

  test('absent items and failed reads are not kept: a new role is visible at once', async () => {
    const cache = new TtlCache<string>(5000, () => now);
    expect(await cache.get('m', value(undefined))).toBeUndefined();
    expect(await cache.get('m', value('new'))).toBe('new');
    const failing = new TtlCache<string>(5000, () => now);
    await expect(failing.get('m', () => Promise.reject(new Error('throttled')))).rejects.toThrow('throttled');
    expect(await failing.get('m', value('ok'))).toBe('ok');
  });

  test('a write through the store drops the entry, also one read while it ran', async () => {
    const cache = new TtlCache<string>(5000, () => now);
    expect(await cache.get('m', value('old'))).toBe('old');
    let release: () => void = () => undefined;
    const write = cache.writing(
      (k) => k === 'm',
      () => new Promise<void>((r) => (release = r)),
    );
    // a read racing the write may see the old item, but must not be kept past the write
    expect(await cache.get('m', value('old'))).toBe('old');
    release();
    await write;
    expect(await cache.get('m', value('new'))).toBe('new');
    expect(await cache.get('other', value('o'))).toBe('o');
  });

  test('ttlMs 0 reads through every time', async () => {
    const cache = new TtlCache<string>(0, () => now);
    await cache.get('m', value('a'));
    await cache.get('m', value('a'));
    expect(reads).toBe(2);
  });
});
