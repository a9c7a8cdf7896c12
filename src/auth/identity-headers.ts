import { readClaim } from './claim-path.js';
import type { RouteIdentity } from './schema.js';
import { removeTokenFromHeaders } from './token-removal.js';
import type { TokenSourceKind } from './token-source.js';

/** The source of the request's token, so that it can be removed. */
export interface TokenOrigin {
  readonly source: TokenSourceKind;
  /** The cookie name, when `source` is `cookie`. */
  readonly cookie?: string | undefined;
}

export interface IdentityHeadersResult {
  /** The new flat `[name, value, ...]` header list. */
  readonly headers: string[];
  /** Headers left out because their claim could not be written as a header value. */
  readonly omitted: readonly string[];
}

/**
 * A value that is safe to send as a header: visible ASCII and inner spaces (RFC 9110 section
 * 5.5), so a claim can never add a line break and inject a header.
 */
const SAFE_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * Removes every header of the identity mapping from a flat `[name, value, ...]` list, whatever
 * its case or count.
 */
export function removeIdentityHeaders(
  headers: readonly string[],
  identity: RouteIdentity,
): string[] {
  const mapped = new Set(identity.headers.map((mapping) => mapping.header.toLowerCase()));
  const output: string[] = [];
  for (let index = 0; index + 1 < headers.length; index += 2) {
    if (!mapped.has(headers[index]!.toLowerCase()))
      output.push(headers[index]!, headers[index + 1]!);
  }
  return output;
}

/**
 * Builds the headers sent to the backend. Every mapped header is removed whatever its case or
 * count, because a client could otherwise send its own `X-User-Id`. Then one field is appended
 * per claim present. The client's token is removed too, unless `forward_token` is set.
 */
export function applyIdentityHeaders(
  headers: readonly string[],
  claims: Readonly<Record<string, unknown>>,
  identity: RouteIdentity,
  origin: TokenOrigin,
): IdentityHeadersResult {
  const base = identity.forward_token
    ? headers
    : removeTokenFromHeaders(headers, origin.source, origin.cookie);
  const output = removeIdentityHeaders(base, identity);
  const omitted: string[] = [];
  for (const { header, claim } of identity.headers) {
    const value = readClaim(claims, claim);
    if (value === undefined || value === null) continue;
    const text = headerValue(value);
    if (text === undefined) omitted.push(header);
    else output.push(header, text);
  }
  return { headers: output, omitted };
}

/**
 * Writes a claim as a header value: strings as they are, numbers and booleans as JSON, arrays
 * of those joined with `,`. Returns undefined for objects, empty values, characters outside
 * visible ASCII, and array items containing `,`, which would read as two items.
 */
export function headerValue(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    const items = value.map(scalarText);
    if (items.length === 0 || items.some((item) => item === undefined || item.includes(','))) {
      return undefined;
    }
    return safe(items.join(','));
  }
  const text = scalarText(value);
  return text === undefined ? undefined : safe(text);
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

function safe(text: string): string | undefined {
  return SAFE_VALUE.test(text) ? text : undefined;
}
