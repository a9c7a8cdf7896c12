import { GatewayError } from '../errors/gateway-error.js';

/** A request target split into its normalised path and its raw query (without the `?`). */
export interface NormalizedTarget {
  path: string;
  query: string | undefined;
}

// RFC 3986 section 2.3: only these may be decoded without changing what the path means.
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
// pchar = unreserved / pct-encoded / sub-delims / ":" / "@" (RFC 3986 section 3.3), plus "/".
const PATH_CHARACTERS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
// Queries may also carry "?" and "/" (section 3.4); controls, spaces and NUL are never valid.
const QUERY_CHARACTERS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%[\]{}|^`"<>\\]*$/;
const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;

function invalid(reason: string): never {
  throw new GatewayError('invalid_path', reason);
}

/**
 * Normalises an origin-form request target so that routing and the upstream see the same path:
 * percent-escapes of unreserved characters are decoded and the others upper-cased, runs of "/"
 * are merged and dot-segments removed (RFC 3986 section 5.2.4). Encoded "/" and "\", raw "\",
 * NUL, bytes outside the path grammar and malformed escapes raise `invalid_path`, because
 * backends disagree on what they mean and that disagreement is how route checks are bypassed.
 * The result is idempotent and never contains a "." or ".." segment.
 */
export function normalizeTarget(target: string): NormalizedTarget {
  if (!target.startsWith('/')) invalid('request target is not in origin form');
  const queryStart = target.indexOf('?');
  const rawPath = queryStart === -1 ? target : target.slice(0, queryStart);
  const query = queryStart === -1 ? undefined : target.slice(queryStart + 1);
  if (query !== undefined && !QUERY_CHARACTERS.test(query)) {
    invalid('query contains a character outside the URI grammar');
  }
  if (query?.includes('%00')) invalid('query contains an encoded NUL');
  return { path: normalizePath(rawPath), query };
}

export function normalizePath(rawPath: string): string {
  if (!PATH_CHARACTERS.test(rawPath)) invalid('path contains a character outside the URI grammar');
  const decoded = decodeUnreserved(rawPath);
  const segments: string[] = [];
  const parts = decoded.split('/');
  for (const [index, part] of parts.entries()) {
    const isLast = index === parts.length - 1;
    if (part === '.' || part === '..') {
      if (part === '..') segments.pop();
      // A trailing dot-segment leaves a directory path behind it: "/a/b/.." becomes "/a/".
      if (isLast) segments.push('');
      continue;
    }
    // Empty segments come from merged slashes; only a trailing one is kept ("/a/" stays "/a/").
    if (part === '' && !isLast) continue;
    segments.push(part);
  }
  return `/${segments.join('/')}`.replace(/\/{2,}/g, '/');
}

function decodeUnreserved(path: string): string {
  if (!path.includes('%')) return path;
  let output = '';
  for (let index = 0; index < path.length; index += 1) {
    const character = path[index]!;
    if (character !== '%') {
      output += character;
      continue;
    }
    const hex = path.slice(index + 1, index + 3);
    if (!HEX_PAIR.test(hex)) invalid('path contains a malformed percent-escape');
    const code = Number.parseInt(hex, 16);
    if (code === 0x00) invalid('path contains an encoded NUL');
    if (code === 0x2f || code === 0x5c) invalid('path contains an encoded slash or backslash');
    const decoded = String.fromCharCode(code);
    output += UNRESERVED.test(decoded) ? decoded : `%${hex.toUpperCase()}`;
    index += 2;
  }
  return output;
}
