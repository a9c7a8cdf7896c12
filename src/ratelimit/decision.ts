import type { RateLimitHeaderValues } from './headers.js';
import type { Permit } from './permit.js';

interface DecidedCommon {
  /** Shadow layers that would have limited this request. */
  readonly shadowLimited: readonly string[];
  /**
   * Source of the decision: the configured store (`primary`), its fail modes while Redis is
   * down (`fallback`), or `none` when no layer applied.
   */
  readonly source: 'primary' | 'fallback' | 'none';
  /** Header values for the most restrictive enforced layer; undefined when none applied. */
  readonly headers: RateLimitHeaderValues | undefined;
}

export interface AllowedDecision extends DecidedCommon {
  readonly outcome: 'allowed';
  /** Release when the response ends; see `releaseWhenDone`. */
  readonly permit: Permit;
}

/** The caller responds with 429 `rate_limited` and the headers, `Retry-After` included. */
export interface LimitedDecision extends DecidedCommon {
  readonly outcome: 'limited';
  readonly code: 'rate_limited';
  /** The layer that rejected; the one with the longest wait when several did. */
  readonly layer: string;
  /** At least 1. */
  readonly retryAfterSeconds: number;
  readonly headers: RateLimitHeaderValues;
}

/** The caller responds with 503 `rate_limit_unavailable`, because Redis is down and a layer denies. */
export interface UnavailableDecision {
  readonly outcome: 'unavailable';
  readonly code: 'rate_limit_unavailable';
  /** For the log only. */
  readonly reason: string;
}

export type RateLimitDecision = AllowedDecision | LimitedDecision | UnavailableDecision;
