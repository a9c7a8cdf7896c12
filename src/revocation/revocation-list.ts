import type { RevocationKind, RevocationRecord, RevocationRequest } from './record.js';
import type { RevocationStatsSnapshot } from './stats.js';

/**
 * The claims of a verified token that a check reads. A jose `JWTPayload` fits. Values of the
 * wrong type are ignored, as if absent. `iat` and `exp` are in seconds since the epoch.
 */
export interface TokenClaims {
  readonly jti?: unknown;
  readonly sub?: unknown;
  readonly sid?: unknown;
  readonly iat?: unknown;
  readonly exp?: unknown;
}

/**
 * The outcome of a check. `unavailable` means that the list cannot vouch for its contents and
 * its fail mode is `deny`: the caller rejects the request with 503 `revocation_unavailable`.
 */
export type RevocationCheck =
  | { readonly revoked: false }
  | { readonly revoked: true; readonly kind: RevocationKind; readonly reason: string }
  | { readonly unavailable: true };

/** One page of {@link RevocationList.list}. */
export interface RevocationPage {
  /** Records in ascending order of kind, then value. */
  readonly records: readonly RevocationRecord[];
  /** Cursor of the next page; undefined on the last page. */
  readonly nextCursor: string | undefined;
}

export interface ListOptions {
  /** A `nextCursor` from the previous page; the first page when undefined. */
  readonly cursor?: string | undefined;
  /** Records per page, 1 to {@link MAX_PAGE_LIMIT}; {@link DEFAULT_PAGE_LIMIT} by default. */
  readonly limit?: number | undefined;
}

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1_000;

/**
 * A set of revoked tokens, subjects and sessions. `check` is synchronous and reads local
 * state only, so it costs no round trip on the request path. The other methods may talk to a
 * shared store.
 *
 * Errors: `revoke` raises InvalidRevocationError for bad input and RevocationListFullError
 * when the list has reached its maximum size. `list` raises InvalidCursorError for a cursor
 * that it did not issue and RangeError for a `limit` outside 1 to MAX_PAGE_LIMIT. Each of
 * the three raises RevocationUnavailableError when the shared store failed.
 */
export interface RevocationList {
  /** Returns whether a verified token is revoked. Expired records never match. */
  check(claims: TokenClaims): RevocationCheck;
  /** Stores a revocation, replacing a record of the same kind and value, and returns it. */
  revoke(request: RevocationRequest): Promise<RevocationRecord>;
  /** Removes a revocation; returns false when there was none. */
  unrevoke(kind: RevocationKind, value: string): Promise<boolean>;
  /** Returns one page of the records that have not expired. */
  list(options?: ListOptions): Promise<RevocationPage>;
  /** Loads the records and starts background work; call once before `check`. */
  start(): Promise<void>;
  /** Stops background work and closes connections. */
  stop(): Promise<void>;
  /** Returns the current counters and gauges. */
  stats(): RevocationStatsSnapshot;
}
