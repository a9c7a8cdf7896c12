import { authFailure, type AuthFailure } from './failure.js';
import type { RouteAuth } from './schema.js';

/** The request parts a token can come from. */
export interface TokenRequest {
  /** Node's `req.rawHeaders`: names and values alternating, repeats kept. */
  readonly rawHeaders: readonly string[];
  /** The raw query string without `?`, or undefined when the target has none. */
  readonly query: string | undefined;
}

export interface TokenSourceOptions {
  readonly sources: RouteAuth['sources'];
  /** Maximum token size in bytes (`auth.max_token_bytes`, 8 KiB by default). */
  readonly maxTokenBytes: number;
}

export type TokenSourceKind = 'bearer' | 'cookie' | 'query';

export type ExtractedToken =
  | { readonly ok: true; readonly token: string; readonly source: TokenSourceKind }
  | { readonly ok: false; readonly failure: AuthFailure };

interface Candidate {
  readonly source: TokenSourceKind;
  readonly value: string;
}

/** RFC 6750 section 2.1: `b64token`, the syntax of a bearer token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Finds the one token of a request in the enabled sources. A second credential anywhere, such
 * as two `Authorization` fields or a header and a cookie, is `token_multiple`: picking one would
 * let a client choose which token a later component uses (RFC 6750 section 2 allows one method
 * per request). Size is checked before the token's syntax.
 */
export function extractToken(request: TokenRequest, options: TokenSourceOptions): ExtractedToken {
  const candidates = collectCandidates(request, options.sources);
  if (candidates.length === 0) {
    return failed('token_missing', 'no token in the enabled sources');
  }
  if (candidates.length > 1) {
    const sources = candidates.map((candidate) => candidate.source).join(', ');
    return failed('token_multiple', `${candidates.length} credentials found: ${sources}`);
  }
  const candidate = candidates[0]!;
  const token = candidate.source === 'bearer' ? bearerToken(candidate.value) : candidate.value;
  if (Buffer.byteLength(token ?? candidate.value) > options.maxTokenBytes) {
    return failed('token_too_large', `${candidate.source} token exceeds ${options.maxTokenBytes}B`);
  }
  if (token === undefined) {
    return failed('token_malformed', 'Authorization does not use the Bearer scheme');
  }
  if (!B64TOKEN.test(token)) {
    return failed('token_malformed', `${candidate.source} token has invalid characters`);
  }
  return { ok: true, token, source: candidate.source };
}

function collectCandidates(request: TokenRequest, sources: RouteAuth['sources']): Candidate[] {
  const candidates: Candidate[] = [];
  const { rawHeaders } = request;
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!.toLowerCase();
    const value = rawHeaders[index + 1]!;
    if (name === 'authorization' && sources.bearer) {
      candidates.push({ source: 'bearer', value });
    } else if (name === 'cookie' && sources.cookie !== undefined) {
      for (const cookie of cookieValues(value, sources.cookie)) {
        candidates.push({ source: 'cookie', value: cookie });
      }
    }
  }
  if (sources.query !== undefined && request.query !== undefined) {
    for (const value of new URLSearchParams(request.query).getAll(sources.query)) {
      candidates.push({ source: 'query', value });
    }
  }
  return candidates;
}

/**
 * Returns the credentials of an `Authorization` value when its scheme is Bearer (case-insensitive,
 * RFC 9110 section 11.1), or undefined for any other scheme.
 */
function bearerToken(value: string): string | undefined {
  const space = value.indexOf(' ');
  if (space < 0 || value.slice(0, space).toLowerCase() !== 'bearer') return undefined;
  return value.slice(space + 1).trimStart();
}

/**
 * Returns the values of every cookie called `name` in one `Cookie` field (RFC 6265 section
 * 5.4), with optional double quotes removed.
 */
export function cookieValues(header: string, name: string): string[] {
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=');
    if (equals < 0 || pair.slice(0, equals).trim() !== name) continue;
    const value = pair.slice(equals + 1).trim();
    const quoted = value.length >= 2 && value.startsWith('"') && value.endsWith('"');
    values.push(quoted ? value.slice(1, -1) : value);
  }
  return values;
}

function failed(reason: AuthFailure['reason'], detail: string): ExtractedToken {
  return { ok: false, failure: authFailure(reason, detail) };
}
