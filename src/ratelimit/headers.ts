/**
 * Values of the `RateLimit-Policy` and `RateLimit` response headers in the structured-field
 * form of draft-ietf-httpapi-ratelimit-headers (revision 11, sections 3 and 4):
 *
 *     RateLimit-Policy: "per-ip";q=30;w=60
 *     RateLimit: "per-ip";r=12;t=24
 */

/** A quota policy item (section 3.1). */
export interface QuotaPolicy {
  /** Policy name, matched by {@link ServiceLimit.policy}. */
  readonly name: string;
  /** `q`: the quota in quota units. */
  readonly quota: number;
  /** `w`: the window in seconds; absent for concurrency. */
  readonly windowSeconds?: number;
  /** `qu`: absent for the default unit, `requests`. */
  readonly unit?: 'concurrent-requests';
}

/** A service limit item (section 4.1): the quota left under one policy. */
export interface ServiceLimit {
  readonly policy: string;
  /** `r`: quota units available. */
  readonly remaining: number;
  /** `t`: seconds within which the client can use no more than `remaining`. */
  readonly resetSeconds?: number;
}

export interface RateLimitHeaderValues {
  /** Every limit of the most restrictive layer, for `RateLimit-Policy`. */
  readonly policies: readonly QuotaPolicy[];
  /** The limit of that layer closest to exhaustion, for `RateLimit`. */
  readonly limit: ServiceLimit;
  /** Seconds for `Retry-After` (RFC 9110 section 10.2.3); present when the request was limited. */
  readonly retryAfterSeconds?: number;
}

/**
 * Renders the headers. Returns `RateLimit-Policy` and `RateLimit`, and `Retry-After` when the
 * request was limited.
 */
export function renderRateLimitHeaders(values: RateLimitHeaderValues): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Policy': values.policies.map(renderPolicy).join(', '),
    RateLimit: renderLimit(values.limit),
  };
  if (values.retryAfterSeconds !== undefined) {
    headers['Retry-After'] = String(values.retryAfterSeconds);
  }
  return headers;
}

function renderPolicy(policy: QuotaPolicy): string {
  let item = `${sfString(policy.name)};q=${sfInteger(policy.quota)}`;
  if (policy.unit !== undefined) item += `;qu=${sfString(policy.unit)}`;
  if (policy.windowSeconds !== undefined) item += `;w=${sfInteger(policy.windowSeconds)}`;
  return item;
}

function renderLimit(limit: ServiceLimit): string {
  let item = `${sfString(limit.policy)};r=${sfInteger(limit.remaining)}`;
  if (limit.resetSeconds !== undefined) item += `;t=${sfInteger(limit.resetSeconds)}`;
  return item;
}

/** RFC 9651 section 4.1.6: printable ASCII in quotes, with `"` and `\` escaped. */
function sfString(text: string): string {
  if (!/^[\x20-\x7e]*$/.test(text)) throw new RangeError(`not a structured-field string: ${text}`);
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** RFC 9651 section 4.1.4: at most 15 digits; the draft's values are non-negative. */
function sfInteger(value: number): string {
  const integer = Math.max(0, Math.floor(value));
  return String(Math.min(integer, 999_999_999_999_999));
}
