import { parseIpAddress, type IpAddress } from './ip-address.js';

/**
 * One hop of a forwarding list. Only `address` hops can be walked past. An `opaque` hop is a
 * node that names no address (`unknown`, an obfuscated identifier, a missing `for`). An
 * `invalid` hop is one that does not parse.
 */
export type Hop =
  | { readonly kind: 'address'; readonly address: IpAddress }
  | { readonly kind: 'opaque' }
  | { readonly kind: 'invalid' };

export const OPAQUE_HOP: Hop = Object.freeze({ kind: 'opaque' });
export const INVALID_HOP: Hop = Object.freeze({ kind: 'invalid' });

const PORT = /^\d{1,5}$/;
/** `obfnode` and `obfport` of RFC 7239 section 6.3: an underscore and then letters, digits, `._-`. */
const OBFUSCATED = /^_[A-Za-z0-9._-]+$/;
const IPV4_WITH_PORT = /^(\d+\.\d+\.\d+\.\d+):(\d{1,5})$/;

/**
 * Parses a `for` value of the `Forwarded` header (RFC 7239 section 6), already unquoted:
 * `192.0.2.43`, `192.0.2.43:47011`, `[2001:db8:cafe::17]`, `[2001:db8:cafe::17]:4711`,
 * `unknown` or an obfuscated `_hidden`, each optionally with a port or obfuscated port. A bare
 * IPv6 address without brackets is invalid, as the grammar requires them.
 */
export function parseForwardedNode(value: string): Hop {
  let name = value;
  let port: string | undefined;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close === -1) return INVALID_HOP;
    name = value.slice(0, close + 1);
    const rest = value.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return INVALID_HOP;
    port = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = value.indexOf(':');
    if (colon !== -1) {
      name = value.slice(0, colon);
      port = value.slice(colon + 1);
    }
  }
  if (port !== undefined && !PORT.test(port) && !OBFUSCATED.test(port)) return INVALID_HOP;
  return parseForwardedNodeName(name);
}

function parseForwardedNodeName(name: string): Hop {
  // RFC 7239 section 6 defines `nodename` with ABNF, whose quoted strings are case-insensitive.
  if (name.toLowerCase() === 'unknown' || OBFUSCATED.test(name)) return OPAQUE_HOP;
  if (name.startsWith('[') && name.endsWith(']')) {
    const inner = name.slice(1, -1);
    return inner.includes(':') ? addressHop(inner) : INVALID_HOP;
  }
  return name.includes(':') ? INVALID_HOP : addressHop(name);
}

/**
 * Parses one `X-Forwarded-For` entry, already trimmed. The header has no specification, so the
 * forms proxies are known to send are accepted: `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1`,
 * `[2001:db8::1]` and `[2001:db8::1]:8080`. `unknown` is an opaque hop.
 */
export function parseXForwardedForEntry(entry: string): Hop {
  if (entry.toLowerCase() === 'unknown') return OPAQUE_HOP;
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close === -1) return INVALID_HOP;
    const rest = entry.slice(close + 1);
    if (rest !== '' && !(rest.startsWith(':') && PORT.test(rest.slice(1)))) return INVALID_HOP;
    const inner = entry.slice(1, close);
    return inner.includes(':') ? addressHop(inner) : INVALID_HOP;
  }
  const withPort = IPV4_WITH_PORT.exec(entry);
  return addressHop(withPort ? withPort[1]! : entry);
}

function addressHop(text: string): Hop {
  const address = parseIpAddress(text);
  return address === undefined ? INVALID_HOP : { kind: 'address', address };
}
