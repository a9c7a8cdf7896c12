import type { IncomingHttpHeaders } from 'node:http';
import { FLAG_HEADER } from '../inspection/flag-header.js';

// RFC 9110 section 7.6.1 and RFC 9112 section 9.6: meaningful for one connection only, so a
// proxy must not forward them in either direction.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);

/**
 * Headers the gateway sets from its own view. Copies sent by the client are dropped, because
 * only the gateway knows who connected and over what.
 */
const GATEWAY_OWNED_REQUEST_HEADERS = new Set([
  'host',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'forwarded',
  'x-real-ip',
  'x-request-id',
  // Node answers `Expect: 100-continue` to the client itself; undici rejects the header.
  'expect',
  // Set only by the inspection stage in flag mode; a client must not forge a clean verdict.
  FLAG_HEADER,
]);

/** The header names listed in `Connection`, lower-cased; they are hop-by-hop too. */
export function connectionListed(value: string | string[] | undefined): Set<string> {
  const names = new Set<string>();
  if (value === undefined) return names;
  for (const line of Array.isArray(value) ? value : [value]) {
    for (const name of line.split(',')) {
      const trimmed = name.trim().toLowerCase();
      if (trimmed !== '') names.add(trimmed);
    }
  }
  return names;
}

/**
 * Copies the client's header lines for the upstream, in order and with repeats kept, less
 * hop-by-hop headers and the headers the gateway owns. Returns a flat `[name, value, ...]` list.
 */
export function upstreamRequestHeaders(rawHeaders: readonly string[]): string[] {
  let listed: Set<string> | undefined;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (rawHeaders[index]!.toLowerCase() === 'connection') {
      listed ??= new Set();
      for (const name of connectionListed(rawHeaders[index + 1])) listed.add(name);
    }
  }
  const output: string[] = [];
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || GATEWAY_OWNED_REQUEST_HEADERS.has(lower)) continue;
    if (listed?.has(lower)) continue;
    output.push(name, rawHeaders[index + 1]!);
  }
  return output;
}

/** Filters the upstream's response headers for the client: hop-by-hop headers are removed. */
export function clientResponseHeaders(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const connection = headers['connection'];
  // Most responses list only `keep-alive`, a hop-by-hop header already, so the Set of listed
  // names is built only when the value names something else.
  const listed =
    connection === undefined || isHopByHopOnly(connection)
      ? undefined
      : connectionListed(connection);
  const output: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed?.has(lower)) continue;
    output[lower] = value;
  }
  return output;
}

function isHopByHopOnly(value: string | string[]): boolean {
  return typeof value === 'string' && value.trim().toLowerCase() === 'keep-alive';
}

/** Formats a node of RFC 7239 `Forwarded`: IPv6 addresses are bracketed and quoted. */
export function forwardedNode(address: string): string {
  return address.includes(':') ? `"[${address}]"` : address;
}

/** Quotes a `Forwarded` value unless it is a plain token (RFC 7239 section 4). */
export function forwardedValue(value: string): string {
  return /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(value)
    ? value
    : `"${value.replace(/["\\]/g, '\\$&')}"`;
}
