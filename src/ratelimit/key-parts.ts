import { isValidClaimPath } from '../auth/claim-path.js';

/**
 * One part of a layer's key. The values of all parts together name the bucket a request
 * counts against; a layer without parts has one bucket for all requests.
 */
export type KeyPart =
  | {
      readonly kind: 'client_ip';
      /** Leading bits kept of an IPv4 address: 32 keeps all. */
      readonly ipv4Prefix: number;
      /** Leading bits kept of an IPv6 address: 128 keeps all, 64 groups one subnet. */
      readonly ipv6Prefix: number;
    }
  | { readonly kind: 'route' | 'method' | 'session' | 'user_agent' }
  | { readonly kind: 'claim'; readonly path: string }
  | { readonly kind: 'header'; readonly name: string };

/** An HTTP token (RFC 9110 section 5.6.2), the syntax of header names. */
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const CLIENT_IP = /^client_ip(?:\/(\d{1,3}))?(?:\/(\d{1,3}))?$/;
const SIMPLE_PARTS = new Set(['route', 'method', 'session', 'user_agent']);

/** Text shown in messages about key parts. */
export const KEY_PART_HINT =
  'client_ip, client_ip/24, client_ip/64, client_ip/24/64, route, method, session, user_agent, ' +
  'claim:PATH or header:NAME';

/**
 * Parses a key part as written in a policy file, or returns an error message. `client_ip/N/M`
 * sets the IPv4 and IPv6 prefixes. `client_ip/N` with one number sets the IPv4 prefix when N is
 * at most 32 and the IPv6 prefix otherwise, because an IPv6 prefix of /32 or shorter covers a
 * whole provider and is no use as a client key.
 */
export function parseKeyPart(text: string): KeyPart | string {
  if (SIMPLE_PARTS.has(text))
    return { kind: text as 'route' | 'method' | 'session' | 'user_agent' };
  if (text.startsWith('claim:')) {
    const path = text.slice('claim:'.length);
    if (isValidClaimPath(path)) return { kind: 'claim', path };
    return `"${text}": the claim path must be a dot path such as org.id or a JSON Pointer`;
  }
  if (text.startsWith('header:')) {
    const name = text.slice('header:'.length);
    if (HTTP_TOKEN.test(name)) return { kind: 'header', name: name.toLowerCase() };
    return `"${text}": the header name must be an HTTP token such as X-Api-Key`;
  }
  const match = CLIENT_IP.exec(text);
  if (match) return clientIpPart(text, match[1], match[2]);
  return `"${text}" is not a key part; use ${KEY_PART_HINT}`;
}

function clientIpPart(
  text: string,
  first: string | undefined,
  second: string | undefined,
): KeyPart | string {
  if (first === undefined) return { kind: 'client_ip', ipv4Prefix: 32, ipv6Prefix: 128 };
  const firstBits = Number(first);
  if (second !== undefined) {
    const secondBits = Number(second);
    if (firstBits < 1 || firstBits > 32 || secondBits < 1 || secondBits > 128) {
      return `"${text}": write client_ip/IPV4/IPV6 with 1-32 and 1-128 bits, such as client_ip/24/64`;
    }
    return { kind: 'client_ip', ipv4Prefix: firstBits, ipv6Prefix: secondBits };
  }
  if (firstBits < 1 || firstBits > 128) return `"${text}": the prefix must be 1 to 128 bits`;
  return firstBits <= 32
    ? { kind: 'client_ip', ipv4Prefix: firstBits, ipv6Prefix: 128 }
    : { kind: 'client_ip', ipv4Prefix: 32, ipv6Prefix: firstBits };
}
