/**
 * The short-lived read cache of the config and role stores: every creds request reads both, and
 * a warm container serves them from memory for `ttlMs`. Writes through the same store drop the
 * entry at once; edits made elsewhere (another function's container, the console) are seen after
 * at most `ttlMs` (docs/operations.md, "Propagation delay"). Misses are not kept, so a new config
 * or role is visible immediately; failed reads are not kept either. Concurrent misses share one read.
 */

/** the default for KUBELEASE_CACHE_SECONDS */
export const DEFAULT_CACHE_SECONDS = 5;

export class TtlCache<V> {
  private readonly entries = new Map<string, { at: number; value: Promise<V | undefined> }>();

  /** `ttlMs` 0: every get reads through */
  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    if (this.ttlMs <= 0) return load();
    const hit = this.entries.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const value = load();
    const entry = { at: this.now(), value };
    this.entries.set(key, entry);
    const forget = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    value.then((v) => v === undefined && forget(), forget);
    return value;
  }

  /** before and after a write: a read racing the write must not outlive it */
  async writing<T>(keys: (key: string) => boolean, write: () => Promise<T>): Promise<T> {
    this.drop(keys);
    try {
      return await write();
    } finally {
      this.drop(keys);
    }
  }

  private drop(match: (key: string) => boolean): void {
    for (const key of this.entries.keys()) if (match(key)) this.entries.delete(key);
  }
}
