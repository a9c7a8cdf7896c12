import { InvalidRevocationError } from './errors.js';

/** The token claims a revocation can match. */
export const REVOCATION_KINDS = ['jti', 'sub', 'sid'] as const;

/**
 * Claim that a record matches: `jti` one token, `sub` every token of a subject issued at or before
 * `issuedBefore`, `sid` every token that carries the session id.
 */
export type RevocationKind = (typeof REVOCATION_KINDS)[number];

/** Maximum length of a revoked claim value, in UTF-16 code units. */
export const MAX_VALUE_LENGTH = 1_024;
/** Maximum length of a reason, in UTF-16 code units. */
export const MAX_REASON_LENGTH = 500;

/** A stored revocation. Times are milliseconds since the epoch. */
export interface RevocationRecord {
  readonly kind: RevocationKind;
  /** The claim value that is revoked: a `jti`, a `sub` or a `sid`. */
  readonly value: string;
  /** Reason for the revocation, meant for operators and logs, not for the token holder. */
  readonly reason: string;
  readonly createdAt: number;
  /** When the record is dropped; undefined keeps it until it is removed. */
  readonly expiresAt: number | undefined;
  /**
   * For `sub` only: tokens whose `iat`, in whole seconds, is at or before this time are
   * revoked. Undefined for `jti` and `sid`.
   */
  readonly issuedBefore: number | undefined;
}

/** A request to revoke, as passed to {@link RevocationList.revoke}. */
export interface RevocationRequest {
  readonly kind: RevocationKind;
  readonly value: string;
  readonly reason: string;
  /** Lifetime of the record in milliseconds from now. */
  readonly ttlMs?: number | undefined;
  /**
   * For `jti`: the token's `exp` in milliseconds since the epoch. The record is kept until
   * then plus the configured retention margin. `ttlMs` wins when both are given.
   */
  readonly tokenExpiresAt?: number | undefined;
  /** For `sub`: the cut-off in milliseconds since the epoch; the current time by default. */
  readonly issuedBefore?: number | undefined;
}

/** Settings that turn a request into a record. */
export interface RecordDefaults {
  /** Lifetime in ms of a `jti` record given neither `ttlMs` nor `tokenExpiresAt`. */
  readonly defaultJtiTtlMs: number;
  /** Time in ms that a `jti` record outlives the token's `exp`, to cover clock tolerance. */
  readonly retentionMarginMs: number;
}

export function isRevocationKind(value: string): value is RevocationKind {
  return (REVOCATION_KINDS as readonly string[]).includes(value);
}

/** Returns the key a record is stored under: `kind:value`, unique across the three kinds. */
export function recordKey(kind: RevocationKind, value: string): string {
  return `${kind}:${value}`;
}

/**
 * Builds the record for `request` at time `now` (ms). Raises InvalidRevocationError for an
 * empty or too long value or reason, a TTL that is not a positive number of milliseconds, or a
 * `tokenExpiresAt` that has already passed.
 */
export function buildRecord(
  request: RevocationRequest,
  now: number,
  defaults: RecordDefaults,
): RevocationRecord {
  validateText('value', request.value, MAX_VALUE_LENGTH);
  validateText('reason', request.reason, MAX_REASON_LENGTH);
  return {
    kind: request.kind,
    value: request.value,
    reason: request.reason,
    createdAt: now,
    expiresAt: recordExpiry(request, now, defaults),
    issuedBefore: request.kind === 'sub' ? (request.issuedBefore ?? now) : undefined,
  };
}

function recordExpiry(
  request: RevocationRequest,
  now: number,
  defaults: RecordDefaults,
): number | undefined {
  if (request.ttlMs !== undefined) {
    if (!Number.isFinite(request.ttlMs) || request.ttlMs <= 0) {
      throw new InvalidRevocationError(`ttl must be longer than 0ms, got ${request.ttlMs}`);
    }
    return now + request.ttlMs;
  }
  if (request.tokenExpiresAt !== undefined) {
    const expiresAt = request.tokenExpiresAt + defaults.retentionMarginMs;
    if (!Number.isFinite(expiresAt) || expiresAt <= now) {
      throw new InvalidRevocationError('the token has already expired, so it needs no revocation');
    }
    return expiresAt;
  }
  // A jti record is useless once its token expires, so it always gets a lifetime.
  return request.kind === 'jti' ? now + defaults.defaultJtiTtlMs : undefined;
}

function validateText(field: string, text: string, maxLength: number): void {
  if (typeof text !== 'string' || text.length === 0) {
    throw new InvalidRevocationError(`${field} must be a non-empty string`);
  }
  if (text.length > maxLength) {
    throw new InvalidRevocationError(`${field} must be at most ${maxLength} characters`);
  }
}

/** Returns whether `record` has expired at `now` (ms). */
export function isExpired(record: RevocationRecord, now: number): boolean {
  return record.expiresAt !== undefined && record.expiresAt <= now;
}
