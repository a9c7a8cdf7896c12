import ipaddr from 'ipaddr.js';

/** A parsed IP address; IPv4-mapped IPv6 addresses are always converted to IPv4. */
export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** Text after the last colon of an IPv6 address written with an embedded IPv4 part. */
const EMBEDDED_IPV4 = /:(\d+\.\d+\.\d+\.\d+)$/;

/**
 * Parses an IPv4 or IPv6 address strictly and returns it in the form used for keys.
 *
 * IPv4 must be four decimal parts (`192.0.2.1`), so the short and octal forms that `inet_aton`
 * accepts (`127.1`, `0x7f.0.0.1`, `010.0.0.1`) are rejected: two parsers must not read one text
 * as two addresses. An IPv6 zone id (`fe80::1%eth0`) is dropped, and an IPv4-mapped IPv6 address
 * (`::ffff:192.0.2.1`) becomes IPv4. Returns undefined for anything else, ports included.
 */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (text.includes(':')) return parseIpv6(text);
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  return ipaddr.IPv4.parse(text);
}

function parseIpv6(text: string): IpAddress | undefined {
  const percent = text.indexOf('%');
  const withoutZone = percent === -1 ? text : text.slice(0, percent);
  if (percent === 0 || percent === text.length - 1) return undefined;
  const embedded = EMBEDDED_IPV4.exec(withoutZone);
  if (embedded && !ipaddr.IPv4.isValidFourPartDecimal(embedded[1]!)) return undefined;
  if (!ipaddr.IPv6.isValid(withoutZone)) return undefined;
  const address = ipaddr.IPv6.parse(withoutZone);
  return address.isIPv4MappedAddress() ? address.toIPv4Address() : address;
}

/** Writes an address as `192.0.2.1` or in the RFC 5952 form `2001:db8::1`. */
export function formatIpAddress(address: IpAddress): string {
  return address.kind() === 'ipv4'
    ? address.toString()
    : (address as ipaddr.IPv6).toRFC5952String();
}

/**
 * Returns the canonical text of an address (see {@link parseIpAddress}), or the text unchanged
 * when it is not an address, so that a log line still shows what the socket reported.
 */
export function canonicalIpText(text: string): string {
  const address = parseIpAddress(text);
  return address === undefined ? text : formatIpAddress(address);
}

/**
 * Returns the network of `address` with the first `prefixLength` bits kept, written as
 * `192.0.2.0/24` or `2001:db8::/64`. A prefix at least the address length returns the address
 * itself without a suffix.
 */
export function maskIpAddress(address: IpAddress, prefixLength: number): string {
  const bits = address.kind() === 'ipv4' ? 32 : 128;
  if (prefixLength >= bits) return formatIpAddress(address);
  const bytes = address.toByteArray();
  for (let index = 0; index < bytes.length; index++) {
    const keep = Math.min(8, Math.max(0, prefixLength - index * 8));
    bytes[index] = bytes[index]! & ((0xff << (8 - keep)) & 0xff);
  }
  return `${formatIpAddress(ipaddr.fromByteArray(bytes))}/${prefixLength}`;
}
