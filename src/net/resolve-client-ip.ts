import {
  isListHeader,
  type CompiledClientIpSettings,
  type ForwardingHeader,
} from './client-ip-settings.js';
import { collectHeaderLines, listHeaderHops } from './forwarding-hops.js';
import { parseXForwardedForEntry, type Hop } from './forwarding-node.js';
import { formatIpAddress, parseIpAddress, type IpAddress } from './ip-address.js';
import type { AddressRanges } from './trusted-proxies.js';

/** Input of the resolver: `socket.remoteAddress` and `req.rawHeaders` of a request. */
export interface ClientIpInput {
  readonly remoteAddress: string | undefined;
  readonly rawHeaders: readonly string[];
}

export interface ClientIpResolution {
  /**
   * The client address in canonical form (`192.0.2.1`, `2001:db8::1`): IPv4-mapped IPv6 written
   * as IPv4, no zone id, no port. `unknown` when the socket has no peer address.
   */
  readonly clientIp: string;
  /** The socket peer exactly as the socket reported it, for logs. */
  readonly peer: string | undefined;
  /** Source of `clientIp`: the socket, or the header that was believed. */
  readonly source: 'socket' | ForwardingHeader;
}

/**
 * Determines the client address of a request. Headers are read only when the socket peer is a
 * trusted proxy, and only the first configured header present on the request is used:
 *
 * - A list header (`X-Forwarded-For`, `Forwarded`) is walked from the right. Trusted addresses
 *   are skipped and the first untrusted one is the client; with `trustedHops` the client is that
 *   many entries from the right instead. A malformed or opaque entry (`unknown`, `_hidden`) ends
 *   the walk, and the last address to its right is used, so no text a client wrote to the left of
 *   a proxy's entry is ever used. At most `maxEntries` entries are examined.
 * - A single-value header is used when it contains exactly one valid address. Two lines or a comma
 *   make it invalid, as RFC 9110 section 5.3 forbids repeating a header that is not a list.
 *
 * Whenever the headers give no address, the client is the socket peer.
 */
export function resolveClientIp(
  input: ClientIpInput,
  settings: CompiledClientIpSettings,
): ClientIpResolution {
  const peer = input.remoteAddress;
  const peerAddress = peer === undefined ? undefined : parseIpAddress(peer);
  const fromSocket: ClientIpResolution = {
    clientIp: peerAddress ? formatIpAddress(peerAddress) : (peer ?? 'unknown'),
    peer,
    source: 'socket',
  };
  if (peerAddress === undefined || settings.headers.length === 0) return fromSocket;
  if (!settings.trustedProxies.contains(peerAddress)) return fromSocket;

  const lines = collectHeaderLines(input.rawHeaders, settings.headers);
  for (const header of settings.headers) {
    const headerLines = lines.get(header);
    if (headerLines === undefined) continue;
    const address = isListHeader(header)
      ? walkHops(listHeaderHops(header, headerLines), settings)
      : singleValueAddress(headerLines);
    if (address === undefined) return fromSocket;
    return { clientIp: formatIpAddress(address), peer, source: header };
  }
  return fromSocket;
}

/** Returns the client address from a list of hops, or undefined when no hop qualifies. */
function walkHops(hops: readonly Hop[], settings: CompiledClientIpSettings): IpAddress | undefined {
  const lowest = Math.max(0, hops.length - settings.maxEntries);
  return settings.trustedHops === undefined
    ? walkPastTrusted(hops, lowest, settings.trustedProxies)
    : walkFixedHops(hops, lowest, settings.trustedHops);
}

function walkPastTrusted(
  hops: readonly Hop[],
  lowest: number,
  trusted: AddressRanges,
): IpAddress | undefined {
  let candidate: IpAddress | undefined;
  for (let index = hops.length - 1; index >= lowest; index--) {
    const hop = hops[index]!;
    if (hop.kind !== 'address') break;
    candidate = hop.address;
    if (!trusted.contains(hop.address)) break;
  }
  return candidate;
}

/**
 * Takes the entry `hopCount` from the right. A shorter list means the request skipped the outer
 * proxies, so its leftmost entry, written by a proxy, is used.
 */
function walkFixedHops(
  hops: readonly Hop[],
  lowest: number,
  hopCount: number,
): IpAddress | undefined {
  let candidate: IpAddress | undefined;
  const stop = Math.max(lowest, hops.length - hopCount);
  for (let index = hops.length - 1; index >= stop; index--) {
    const hop = hops[index]!;
    if (hop.kind !== 'address') break;
    candidate = hop.address;
  }
  return candidate;
}

function singleValueAddress(lines: readonly string[]): IpAddress | undefined {
  if (lines.length !== 1 || lines[0]!.includes(',')) return undefined;
  const hop = parseXForwardedForEntry(lines[0]!.replace(/^[ \t]+|[ \t]+$/g, ''));
  return hop.kind === 'address' ? hop.address : undefined;
}
