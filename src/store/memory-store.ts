import { randomUUID } from 'node:crypto';
import {
  evaluateGcra,
  evaluateSlidingWindow,
  type Evaluation,
  type WindowCounts,
} from './algorithms.js';
import { ExpiringLruMap } from './expiring-lru-map.js';
import type {
  BackendDecision,
  CheckOutcome,
  Lease,
  LimitCheck,
  RateLimitBackend,
} from './store.js';

/** Default of `max_keys`. */
export const DEFAULT_MEMORY_MAX_KEYS = 100_000;

export interface MemoryStoreOptions {
  /** Maximum rate-limit keys held; default {@link DEFAULT_MEMORY_MAX_KEYS}. */
  maxKeys?: number;
  /** Clock in ms. Default `performance.now()`, which never jumps with the wall clock. */
  now?: () => number;
}

type RateState = { kind: 'gcra'; tat: number } | { kind: 'window'; counts: WindowCounts };

/** An evaluated check and how to consume it. */
interface Pending {
  readonly outcome: CheckOutcome;
  commit(leaseId: string): void;
}

/**
 * The in-process backend. Checks run synchronously, so each decision is atomic on its own.
 *
 * Rate state lives in a bounded LRU map. Concurrency slots live in a separate map that is never
 * evicted, because dropping a held slot would admit more requests than `max_in_flight`. It is
 * bounded by the number of requests in flight, as every slot belongs to one of them, and a slot
 * is held until its lease is released: a process holds no slot after it exits.
 */
export class MemoryStore implements RateLimitBackend {
  private readonly rates: ExpiringLruMap<RateState>;
  private readonly slots = new Map<string, Set<string>>();
  private readonly now: () => number;

  constructor(options: MemoryStoreOptions = {}) {
    this.rates = new ExpiringLruMap(options.maxKeys ?? DEFAULT_MEMORY_MAX_KEYS);
    this.now = options.now ?? (() => performance.now());
  }

  async decide(checks: readonly LimitCheck[]): Promise<BackendDecision> {
    return this.decideNow(checks);
  }

  /** {@link decide} without the promise, for callers that want the synchronous result. */
  decideNow(checks: readonly LimitCheck[]): BackendDecision {
    const now = this.now();
    const pending = checks.map((check) => this.evaluate(check, now));
    const outcomes = pending.map((entry) => entry.outcome);
    const committed = outcomes.every((outcome, index) => outcome.allowed || checks[index]!.shadow);
    if (!committed) return { committed, outcomes, lease: undefined };
    const leaseId = randomUUID();
    for (const entry of pending) if (entry.outcome.allowed) entry.commit(leaseId);
    const slotKeys = checks
      .filter((check, index) => check.kind === 'concurrency' && outcomes[index]!.allowed)
      .map((check) => check.key);
    const lease = slotKeys.length > 0 ? this.lease(slotKeys, leaseId) : undefined;
    return { committed, outcomes, lease };
  }

  /** Number of keys held, rate and concurrency keys together. */
  get size(): number {
    return this.rates.size + this.slots.size;
  }

  /** Number of live rate keys dropped because the map was full. */
  get evictions(): number {
    return this.rates.evictions;
  }

  async close(): Promise<void> {}

  private evaluate(check: LimitCheck, now: number): Pending {
    if (check.kind === 'concurrency') {
      const inFlight = this.slots.get(check.key)?.size ?? 0;
      const allowed = inFlight + 1 <= check.maxInFlight;
      const remaining = allowed ? check.maxInFlight - inFlight - 1 : 0;
      return {
        outcome: { allowed, remaining, resetMs: 0, retryAfterMs: 0 },
        commit: (leaseId) => this.takeSlot(check.key, leaseId),
      };
    }
    const state = this.rates.get(check.key, now);
    if (check.kind === 'gcra') {
      const tat = state?.kind === 'gcra' ? state.tat : undefined;
      const result = evaluateGcra(tat, now, check.cost, check.intervalMs, check.burst);
      const next: RateState = { kind: 'gcra', tat: result.nextTat };
      return {
        outcome: toOutcome(result),
        commit: () => this.rates.set(check.key, next, result.nextTat, now),
      };
    }
    const counts = state?.kind === 'window' ? state.counts : undefined;
    const result = evaluateSlidingWindow(counts, now, check.cost, check.windowMs, check.limit);
    // The counts matter until the window after the current one has ended.
    const expiresAt = (result.next.index + 2) * check.windowMs;
    const next: RateState = { kind: 'window', counts: result.next };
    return {
      outcome: toOutcome(result),
      commit: () => this.rates.set(check.key, next, expiresAt, now),
    };
  }

  private takeSlot(key: string, leaseId: string): void {
    const holders = this.slots.get(key);
    if (holders) holders.add(leaseId);
    else this.slots.set(key, new Set([leaseId]));
  }

  private lease(keys: readonly string[], leaseId: string): Lease {
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        for (const key of keys) this.freeSlot(key, leaseId);
      },
    };
  }

  private freeSlot(key: string, leaseId: string): void {
    const holders = this.slots.get(key);
    if (holders === undefined) return;
    holders.delete(leaseId);
    if (holders.size === 0) this.slots.delete(key);
  }
}

/** Rounds times up to whole ms, as the Redis script does, so both backends report alike. */
function toOutcome(evaluation: Evaluation): CheckOutcome {
  return {
    allowed: evaluation.allowed,
    remaining: evaluation.remaining,
    resetMs: Math.ceil(evaluation.resetMs),
    retryAfterMs: Math.ceil(evaluation.retryAfterMs),
  };
}
