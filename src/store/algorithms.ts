/**
 * The arithmetic of the two rate algorithms, used by the memory backend. The Lua script of the
 * Redis backend (`redis-script.ts`) computes the same formulas; change both together.
 * All times are in ms.
 */

/**
 * Tolerance for float comparisons, because `per / requests` is rarely exact: without it the
 * last unit of a 7-per-minute burst could be rejected by a rounding error.
 */
const EPSILON = 1e-6;

export interface Evaluation {
  readonly allowed: boolean;
  readonly remaining: number;
  readonly resetMs: number;
  readonly retryAfterMs: number;
}

export interface GcraEvaluation extends Evaluation {
  /** Theoretical arrival time to store when the request is consumed. */
  readonly nextTat: number;
}

/**
 * Evaluates GCRA with `tat` (theoretical arrival time) as its state: the time at which every
 * unit is free again. A request is admitted when its cost fits into `burst * interval` of
 * outstanding time.
 */
export function evaluateGcra(
  storedTat: number | undefined,
  now: number,
  cost: number,
  intervalMs: number,
  burst: number,
): GcraEvaluation {
  const tat = Math.max(storedTat ?? now, now);
  const capacityMs = burst * intervalMs;
  const nextTat = tat + cost * intervalMs;
  const allowAt = nextTat - capacityMs;
  if (allowAt <= now + EPSILON) {
    const remaining = Math.floor((now - allowAt) / intervalMs + EPSILON);
    return { allowed: true, remaining, resetMs: nextTat - now, retryAfterMs: 0, nextTat };
  }
  const available = Math.max(0, Math.floor((now - (tat - capacityMs)) / intervalMs + EPSILON));
  return {
    allowed: false,
    remaining: available,
    resetMs: tat - now,
    retryAfterMs: allowAt - now,
    nextTat,
  };
}

/** Counts of the current fixed window (`index = floor(now / windowMs)`) and the one before it. */
export interface WindowCounts {
  readonly index: number;
  readonly current: number;
  readonly previous: number;
}

export interface SlidingWindowEvaluation extends Evaluation {
  /** Counts to store when the request is consumed. */
  readonly next: WindowCounts;
}

/** Moves stored counts to the window that contains `now`. */
export function rollWindow(
  stored: WindowCounts | undefined,
  now: number,
  windowMs: number,
): WindowCounts {
  const index = Math.floor(now / windowMs);
  if (stored === undefined) return { index, current: 0, previous: 0 };
  if (stored.index === index) return stored;
  const previous = stored.index === index - 1 ? stored.current : 0;
  return { index, current: 0, previous };
}

/**
 * Evaluates the sliding window counter: `previous * overlap + current`, where `overlap` is the
 * share of the previous window still inside the sliding window that ends now.
 */
export function evaluateSlidingWindow(
  stored: WindowCounts | undefined,
  now: number,
  cost: number,
  windowMs: number,
  limit: number,
): SlidingWindowEvaluation {
  const counts = rollWindow(stored, now, windowMs);
  const elapsed = now - counts.index * windowMs;
  const used = (counts.previous * (windowMs - elapsed)) / windowMs + counts.current;
  const allowed = used + cost <= limit + EPSILON;
  const current = allowed ? counts.current + cost : counts.current;
  const next = { ...counts, current };
  const resetMs = slidingReset(current, counts.previous, elapsed, windowMs);
  if (allowed) {
    const remaining = Math.floor(limit - used - cost + EPSILON);
    return { allowed, remaining, resetMs, retryAfterMs: 0, next };
  }
  const remaining = Math.max(0, Math.floor(limit - used + EPSILON));
  const retryAfterMs = slidingRetryAfter(counts, elapsed, cost, windowMs, limit);
  return { allowed, remaining, resetMs, retryAfterMs, next };
}

/** Time until both counts have slid out of the window, so the whole limit is free again. */
function slidingReset(
  current: number,
  previous: number,
  elapsed: number,
  windowMs: number,
): number {
  if (current > 0) return 2 * windowMs - elapsed;
  if (previous > 0) return windowMs - elapsed;
  return 0;
}

/**
 * Time until `previous * overlap + current + cost <= limit`. When the current window alone is
 * too full, the wait runs into the next window, where the current count becomes the weighted one.
 */
function slidingRetryAfter(
  counts: WindowCounts,
  elapsed: number,
  cost: number,
  windowMs: number,
  limit: number,
): number {
  if (counts.current + cost <= limit) {
    const admitAt = windowMs * (1 - (limit - counts.current - cost) / counts.previous);
    return Math.max(0, admitAt - elapsed);
  }
  const admitAtNext = counts.current > 0 ? windowMs * (1 - (limit - cost) / counts.current) : 0;
  return windowMs - elapsed + Math.max(0, admitAtNext);
}
