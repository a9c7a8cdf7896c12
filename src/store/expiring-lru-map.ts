interface Entry<V> {
  value: V;
  expiresAt: number;
}

/**
 * A map with a maximum size whose entries expire. Setting a key makes it the most recently
 * used; when the map is full, the least recently set entry is dropped, expired or not. Memory
 * therefore stays bounded under a flood of distinct keys, at the price that a flood can push out
 * a live key, which then starts again with a full quota (counted in `evictions`).
 */
export class ExpiringLruMap<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private evictedLive = 0;

  /** @param maxEntries Maximum number of keys held; at least 1. */
  constructor(private readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    }
  }

  /** Returns the value of a key that has not expired at `now`; an expired key is deleted. */
  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Stores a value until `expiresAt` and drops the oldest entries beyond the maximum. */
  set(key: string, value: V, expiresAt: number, now: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt });
    this.dropExpiredOldest(now);
    while (this.entries.size > this.maxEntries) this.dropOldest(now);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Number of entries dropped before they expired. */
  get evictions(): number {
    return this.evictedLive;
  }

  /**
   * Drops a few expired entries from the old end, so that `size` follows the live keys without a
   * timer. Two per call is enough to outpace one new key per call.
   */
  private dropExpiredOldest(now: number): void {
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (dropped === 2 || entry.expiresAt > now) return;
      this.entries.delete(key);
      dropped++;
    }
  }

  private dropOldest(now: number): void {
    const oldest = this.entries.entries().next();
    if (oldest.done) return;
    const [key, entry] = oldest.value;
    this.entries.delete(key);
    if (entry.expiresAt > now) this.evictedLive++;
  }
}
