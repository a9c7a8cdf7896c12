import { authFailure, type AuthFailure } from './failure.js';
import { isJsonObject } from './json-pointer.js';

/** A protected header after decoding: `alg` is a string, `kid` absent or a string. */
export interface JoseHeader {
  readonly alg: string;
  readonly kid?: string | undefined;
  readonly [name: string]: unknown;
}

/** A compact JWS (three segments, RFC 7515 section 7.1) or JWE (five, RFC 7516 section 7.1). */
export type CompactToken =
  | { readonly kind: 'jws'; readonly header: JoseHeader; readonly segments: readonly string[] }
  | { readonly kind: 'jwe'; readonly header: JoseHeader; readonly segments: readonly string[] };

export type ParsedToken =
  | { readonly ok: true; readonly token: CompactToken }
  | { readonly ok: false; readonly failure: AuthFailure };

/** Unpadded base64url (RFC 7515 section 2). Node's decoder skips invalid characters silently. */
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Splits a compact token and decodes its protected header, without checking any signature.
 * Fails with `token_malformed` on a wrong segment count, characters outside base64url, a
 * header that is not a JSON object, or a non-string `alg` or `kid`.
 */
export function parseCompactToken(text: string): ParsedToken {
  const segments = text.split('.');
  if (segments.length !== 3 && segments.length !== 5) {
    return malformed(`token has ${segments.length} segments, expected 3 (JWS) or 5 (JWE)`);
  }
  if (!segments.every(isBase64url)) return malformed('token segment is not base64url');
  if (segments[0] === '') return malformed('protected header is empty');
  // A JWE may have an empty encrypted key (`dir`), but a JWS always has a payload.
  if (segments.length === 3 && segments[1] === '') return malformed('JWS payload is empty');
  const header = decodeJsonSegment(segments[0]!);
  if (header === undefined) return malformed('protected header is not a JSON object');
  if (typeof header['alg'] !== 'string') return malformed('protected header has no "alg"');
  if (header['kid'] !== undefined && typeof header['kid'] !== 'string') {
    return malformed('"kid" header is not a string');
  }
  const kind = segments.length === 3 ? 'jws' : 'jwe';
  return { ok: true, token: { kind, header: header as JoseHeader, segments } };
}

/** Decodes a base64url segment holding a JSON object; undefined when it is anything else. */
export function decodeJsonSegment(segment: string): Record<string, unknown> | undefined {
  if (!isBase64url(segment)) return undefined;
  try {
    const value: unknown = JSON.parse(UTF8.decode(Buffer.from(segment, 'base64url')));
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isBase64url(segment: string): boolean {
  // A length of 4n + 1 cannot come from any byte string.
  return BASE64URL.test(segment) && segment.length % 4 !== 1;
}

function malformed(detail: string): ParsedToken {
  return { ok: false, failure: authFailure('token_malformed', detail) };
}
