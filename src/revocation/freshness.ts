import type { RevocationLog } from './log.js';
import type { RevocationFailMode } from './settings.js';
import type { RevocationCounters } from './stats.js';

export interface FreshnessOptions {
  /** Age in ms of the last sync beyond which the replica is stale while pub/sub is down. */
  readonly boundMs: number;
  readonly failMode: RevocationFailMode;
  /**
   * Whether a confirmed subscription alone proves freshness. False in Cluster mode, because
   * ioredis's Cluster picks its own subscriber connection, which the list cannot PING.
   */
  readonly trustSubscription: boolean;
  readonly clock: () => number;
  readonly log: RevocationLog;
  readonly counters: RevocationCounters;
}

/**
 * Decides whether the local replica may serve checks. It is fresh when it has loaded at least
 * once and either its subscription is up and confirmed, or its last successful sync is at
 * most `boundMs` old. A subscription is confirmed by a sync that started after it was
 * established, because messages published while it was down were lost. Every switch between
 * fresh and stale is logged and counted when it is noticed: on a check, on a sync or
 * subscription change, or on a timer set for the moment the bound runs out.
 */
export class FreshnessTracker {
  readonly #options: FreshnessOptions;
  #fresh = false;
  #staleSince: number;
  #lastSyncAt: number | undefined;
  #subscribedAt: number | undefined;
  #confirmed = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: FreshnessOptions) {
    this.#options = options;
    this.#staleSince = options.clock();
  }

  get fresh(): boolean {
    return this.#fresh;
  }

  get subscribed(): boolean {
    return this.#subscribedAt !== undefined;
  }

  get lastSyncAt(): number | undefined {
    return this.#lastSyncAt;
  }

  subscriptionUp(): void {
    this.#subscribedAt = this.#options.clock();
    this.#confirmed = false;
    this.#inputsChanged();
  }

  subscriptionDown(): void {
    this.#subscribedAt = undefined;
    this.#confirmed = false;
    this.#inputsChanged();
  }

  /** Records a successful sync that started at `startedAt` (ms). */
  syncSucceeded(startedAt: number): void {
    this.#lastSyncAt = this.#options.clock();
    if (this.#subscribedAt !== undefined && startedAt >= this.#subscribedAt) {
      this.#confirmed = true;
    }
    this.#inputsChanged();
  }

  /**
   * Recomputes freshness, logs and counts a switch, and returns the result. Cheap enough to
   * run on every check: no timer is touched.
   */
  evaluate(): boolean {
    const now = this.#options.clock();
    const fresh = this.#computeFresh(now);
    if (fresh !== this.#fresh) this.#switch(fresh, now);
    return fresh;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #inputsChanged(): void {
    this.evaluate();
    this.#scheduleExpiry(this.#options.clock());
  }

  #computeFresh(now: number): boolean {
    if (this.#lastSyncAt === undefined) return false;
    if (this.#options.trustSubscription && this.#confirmed) return true;
    return now - this.#lastSyncAt <= this.#options.boundMs;
  }

  #switch(fresh: boolean, now: number): void {
    this.#fresh = fresh;
    const { log, counters, failMode } = this.#options;
    if (fresh) {
      counters.freshSwitches++;
      log.info({ staleForMs: now - this.#staleSince }, 'revocation replica is fresh again');
      return;
    }
    this.#staleSince = now;
    counters.staleSwitches++;
    const lastSyncAgeMs = this.#lastSyncAt === undefined ? undefined : now - this.#lastSyncAt;
    const effect =
      failMode === 'deny'
        ? 'checks return unavailable until Redis is reachable'
        : 'checks are answered from the stale replica';
    log.warn(
      { failMode, lastSyncAgeMs, subscribed: this.subscribed },
      `revocation replica is stale: ${effect}`,
    );
  }

  /** Sets a timer for the moment the bound runs out, so a switch is logged without checks. */
  #scheduleExpiry(now: number): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#fresh || this.#lastSyncAt === undefined) return;
    if (this.#options.trustSubscription && this.#confirmed) return;
    const delay = Math.max(0, this.#lastSyncAt + this.#options.boundMs - now) + 1;
    this.#timer = setTimeout(() => this.evaluate(), delay);
    this.#timer.unref();
  }
}
