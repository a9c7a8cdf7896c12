/**
 * What a rate-limit store decides and how it is asked. One request becomes a list of checks,
 * and a store decides them together: either every enforced check admits the request and all
 * admitting checks are consumed, or nothing is consumed.
 */

/** Behavior of a Redis-backed check while Redis fails; see `FailoverStore`. */
export type FailMode = 'local' | 'allow' | 'deny';

export const FAIL_MODES = ['local', 'allow', 'deny'] as const satisfies readonly FailMode[];

interface CheckBase {
  /** Store key without the store's prefix; unique per layer, key value, tier and limit. */
  readonly key: string;
  /** A shadow check is evaluated and consumed when it admits, but never rejects the request. */
  readonly shadow: boolean;
  readonly failMode: FailMode;
}

/**
 * Generic cell rate algorithm (GCRA): a request of cost `c` is admitted when at most `burst`
 * units are in use, and one unit is freed every `intervalMs`. Up to `burst` requests pass at
 * once, then one per interval, so no window edge ever lets two bursts through back to back.
 */
export interface GcraCheck extends CheckBase {
  readonly kind: 'gcra';
  readonly cost: number;
  /** `per / requests`, in ms. */
  readonly intervalMs: number;
  readonly burst: number;
}

/**
 * Sliding window counter: the count of the previous fixed window, weighted by how much of it
 * still overlaps the sliding window, plus the count of the current one. It assumes requests in
 * the previous window were evenly spread, so it is an estimate of an exact sliding log.
 */
export interface SlidingWindowCheck extends CheckBase {
  readonly kind: 'sliding_window';
  readonly cost: number;
  readonly windowMs: number;
  readonly limit: number;
}

/** At most `maxInFlight` admitted requests hold a slot of this key at once. */
export interface ConcurrencyCheck extends CheckBase {
  readonly kind: 'concurrency';
  readonly maxInFlight: number;
}

export type LimitCheck = GcraCheck | SlidingWindowCheck | ConcurrencyCheck;

/** The result of one check. Times are in ms. */
export interface CheckOutcome {
  readonly allowed: boolean;
  /** Units left after this request when it was admitted; units available now otherwise. */
  readonly remaining: number;
  /** Time until all units are free again; 0 for concurrency checks. */
  readonly resetMs: number;
  /** Time until this check would admit the request; 0 when it admitted it. */
  readonly retryAfterMs: number;
}

/** Concurrency slots taken by a request. `release` is idempotent and never rejects. */
export interface Lease {
  release(): Promise<void>;
}

/** Result of a backend that decided every check. */
export interface BackendDecision {
  /** True when every enforced check admitted the request and the admitting checks were consumed. */
  readonly committed: boolean;
  /** One outcome per check, in order. */
  readonly outcomes: readonly CheckOutcome[];
  /** Present when the decision committed and took at least one concurrency slot. */
  readonly lease: Lease | undefined;
}

/** A backend that decides atomically and raises when it cannot decide at all. */
export interface RateLimitBackend {
  decide(checks: readonly LimitCheck[]): Promise<BackendDecision>;
  close(): Promise<void>;
}

/**
 * Result of a store. `outcomes[i]` is undefined for a check that was skipped because its fail
 * mode is `allow` while the primary backend is down. `unavailable` means the caller responds
 * with 503 `rate_limit_unavailable`.
 */
export type StoreDecision =
  | (Omit<BackendDecision, 'outcomes'> & {
      readonly status: 'decided';
      readonly outcomes: readonly (CheckOutcome | undefined)[];
      /** `fallback` when the in-memory limiter decided because Redis failed. */
      readonly source: 'primary' | 'fallback';
    })
  | { readonly status: 'unavailable'; readonly reason: string };

/** Store interface of the rate limiter; see `createRateLimitStore`. */
export interface RateLimitStore {
  decide(checks: readonly LimitCheck[]): Promise<StoreDecision>;
  /** Counters and gauges for metrics and health checks. */
  stats(): StoreStats;
  close(): Promise<void>;
}

export interface StoreStats {
  /** `fallback` while Redis is considered down; always `primary` for the memory backend. */
  readonly state: 'primary' | 'fallback';
  /** Keys held by the in-memory limiter, concurrency keys included. */
  readonly memoryKeys: number;
  /** Live keys the in-memory limiter dropped because it was full. */
  readonly memoryEvictions: number;
  readonly switchesToFallback: number;
  /** Switches to Redis, the first connection included. */
  readonly switchesToPrimary: number;
  /** Decisions made while Redis was down, whatever the fail mode. */
  readonly fallbackDecisions: number;
  /** Decisions that returned `unavailable`. */
  readonly unavailableDecisions: number;
  /** Redis errors that no fail mode may hide, such as CROSSSLOT. */
  readonly permanentErrors: number;
}
