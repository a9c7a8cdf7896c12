import { formatIpAddress, maskIpAddress, parseIpAddress, type IpAddress } from './ip-address.js';

/**
 * Names an operator may list instead of CIDRs. `private` is the IPv4 space of RFC 1918 only;
 * its IPv6 counterpart is `uniquelocal`.
 */
export const NAMED_RANGES = {
  /** RFC 1122 section 3.2.1.3 and RFC 4291 section 2.5.3. */
  loopback: ['127.0.0.0/8', '::1/128'],
  /** RFC 1918 section 3. */
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
  /** RFC 3927 and RFC 4291 section 2.5.6. */
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  /** RFC 4193. */
  uniquelocal: ['fc00::/7'],
} as const satisfies Record<string, readonly string[]>;

export type RangeName = keyof typeof NAMED_RANGES;

type Range = readonly [network: IpAddress, prefixLength: number];

/** A compiled set of address ranges; `contains` costs one comparison per range. */
export interface AddressRanges {
  contains(address: IpAddress): boolean;
  /** Number of ranges after names are expanded. */
  readonly size: number;
}

/**
 * Compiles CIDRs (`10.0.0.0/8`, `2001:db8::/32`), single addresses and {@link NAMED_RANGES}
 * names. Raises an Error naming the entry when one is invalid; call
 * {@link addressRangeProblem} first to get the message without an exception.
 */
export function compileAddressRanges(entries: readonly string[]): AddressRanges {
  const ranges: Range[] = [];
  for (const entry of entries) {
    const problem = addressRangeProblem(entry);
    if (problem !== undefined) throw new Error(`invalid address range "${entry}": ${problem}`);
    const texts: readonly string[] = isRangeName(entry) ? NAMED_RANGES[entry] : [entry];
    for (const text of texts) ranges.push(parseRange(text)!);
  }
  return {
    size: ranges.length,
    contains: (address) => ranges.some((range) => rangeContains(range, address)),
  };
}

/** Returns why an address range entry is invalid, or undefined when it is valid. */
export function addressRangeProblem(entry: string): string | undefined {
  if (isRangeName(entry)) return undefined;
  if (entry.includes('%')) return 'must not carry a zone id';
  const range = parseRange(entry);
  if (range === undefined) {
    const names = Object.keys(NAMED_RANGES).join(', ');
    return `must be an address, a CIDR such as 10.0.0.0/8 or 2001:db8::/32, or one of ${names}`;
  }
  const [network, prefixLength] = range;
  const masked = maskIpAddress(network, prefixLength);
  const bits = network.kind() === 'ipv4' ? 32 : 128;
  if (prefixLength < bits && masked !== `${formatIpAddress(network)}/${prefixLength}`) {
    return `host bits are set; write the network address ${masked}`;
  }
  return undefined;
}

function isRangeName(entry: string): entry is RangeName {
  return Object.hasOwn(NAMED_RANGES, entry);
}

/**
 * Parses a CIDR or a single address. An IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`) becomes
 * the IPv4 range it covers, because peers are matched as IPv4. Returns undefined when invalid.
 */
function parseRange(entry: string): Range | undefined {
  const slash = entry.indexOf('/');
  const addressText = slash === -1 ? entry : entry.slice(0, slash);
  const address = parseIpAddress(addressText);
  if (address === undefined) return undefined;
  const declaredBits = addressText.includes(':') ? 128 : 32;
  const prefixText = slash === -1 ? String(declaredBits) : entry.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > declaredBits) return undefined;
  const mappedToIpv4 = address.kind() === 'ipv4' && declaredBits === 128;
  if (mappedToIpv4 && Number(prefixText) < 96) return undefined;
  const prefixLength = mappedToIpv4 ? Number(prefixText) - 96 : Number(prefixText);
  return [address, prefixLength];
}

function rangeContains([network, prefixLength]: Range, address: IpAddress): boolean {
  return network.kind() === address.kind() && address.match(network, prefixLength);
}
