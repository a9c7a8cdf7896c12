import type { Logger } from '../../monitoring/logger.js';
import type { MemoryWindowStore } from './memory-window-store.js';
import type { WindowHit, WindowSpec, WindowStore } from './window-store.js';

/** Shortest time in ms between two warnings about a failing Redis; the rest are counted. */
const WARN_INTERVAL_MS = 10_000;

/**
 * Uses the shared store, and this process's memory store for each hit the shared one fails.
 * During an outage every replica therefore counts on its own: a key whose events spread over N
 * replicas needs up to N times the threshold to fire, and each replica may fire once per
 * cooldown. Counts made in memory are not copied to Redis afterwards.
 */
export class FailoverWindowStore implements WindowStore {
  readonly #primary: WindowStore;
  readonly #fallback: MemoryWindowStore;
  readonly #log: Logger;
  #lastWarnAt = -Infinity;
  #failures = 0;

  constructor(primary: WindowStore, fallback: MemoryWindowStore, log: Logger) {
    this.#primary = primary;
    this.#fallback = fallback;
    this.#log = log;
  }

  async hit(spec: WindowSpec, member: string): Promise<WindowHit> {
    try {
      return await this.#primary.hit(spec, member);
    } catch (error) {
      this.#failures++;
      const now = performance.now();
      if (now - this.#lastWarnAt >= WARN_INTERVAL_MS) {
        this.#lastWarnAt = now;
        this.#log.warn(
          { err: error, failures: this.#failures },
          'alert window store unavailable; counting in this process until Redis responds',
        );
      }
      return this.#fallback.hitNow(spec, member);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#primary.close(), this.#fallback.close()]);
  }
}
