import { ExpiringLruMap } from '../../store/expiring-lru-map.js';
import type { WindowHit, WindowSpec, WindowStore } from './window-store.js';

/** Keys kept by default, windows and cooldowns each; about one per rule and grouping key. */
export const DEFAULT_MEMORY_WINDOW_KEYS = 100_000;

/**
 * Windows in this process. Each window is a Map from member to the time it was last added, in
 * insertion order, so the oldest member is always first. Beyond `maxKeys` the least recently
 * used window or cooldown is dropped, which resets that key's count or cooldown.
 */
export class MemoryWindowStore implements WindowStore {
  readonly #windows: ExpiringLruMap<Map<string, number>>;
  readonly #cooldowns: ExpiringLruMap<number>;
  readonly #now: () => number;

  constructor(options: { maxKeys?: number; now?: () => number } = {}) {
    const maxKeys = options.maxKeys ?? DEFAULT_MEMORY_WINDOW_KEYS;
    this.#windows = new ExpiringLruMap(maxKeys);
    this.#cooldowns = new ExpiringLruMap(maxKeys);
    this.#now = options.now ?? Date.now;
  }

  async hit(spec: WindowSpec, member: string): Promise<WindowHit> {
    return this.hitNow(spec, member);
  }

  /** Adds a member like `hit`, synchronously. */
  hitNow(spec: WindowSpec, member: string): WindowHit {
    const now = this.#now();
    const window = this.#windows.get(spec.key, now) ?? new Map<string, number>();
    window.delete(member);
    window.set(member, now);
    for (const [oldest, addedAt] of window) {
      if (addedAt > now - spec.windowMs && window.size <= spec.threshold) break;
      window.delete(oldest);
    }
    this.#windows.set(spec.key, window, now + spec.windowMs, now);
    const count = window.size;
    if (count < spec.threshold) return { count, fired: false, cooldownRemainingMs: 0 };
    const cooldownEnd = this.#cooldowns.get(spec.key, now);
    if (cooldownEnd !== undefined) {
      return { count, fired: false, cooldownRemainingMs: cooldownEnd - now };
    }
    this.#cooldowns.set(spec.key, now + spec.cooldownMs, now + spec.cooldownMs, now);
    return { count, fired: true, cooldownRemainingMs: spec.cooldownMs };
  }

  /** Windows and cooldowns held. */
  get size(): number {
    return this.#windows.size + this.#cooldowns.size;
  }

  async close(): Promise<void> {}
}
