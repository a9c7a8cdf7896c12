import type { ForwardingHeader } from './client-ip-settings.js';
import { parseForwardedLine } from './forwarded-header.js';
import {
  INVALID_HOP,
  OPAQUE_HOP,
  parseForwardedNode,
  parseXForwardedForEntry,
  type Hop,
} from './forwarding-node.js';

/** Optional whitespace (RFC 9110 section 5.6.3) is spaces and tabs only, unlike `trim()`. */
const OWS_AT_ENDS = /^[ \t]+|[ \t]+$/g;

/**
 * Collects the values of the named headers from `rawHeaders` (`[name, value, name, value, …]`),
 * each header's lines in arrival order. Node's `req.headers` is not used because it keeps only
 * the first line of some headers and joins others, which loses where one proxy's line ends.
 */
export function collectHeaderLines(
  rawHeaders: readonly string[],
  names: readonly string[],
): Map<string, string[]> {
  const lines = new Map<string, string[]>();
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!.toLowerCase();
    if (!names.includes(name)) continue;
    const existing = lines.get(name);
    if (existing) existing.push(rawHeaders[index + 1]!);
    else lines.set(name, [rawHeaders[index + 1]!]);
  }
  return lines;
}

/**
 * Turns the lines of a list header into hops, left to right. Each line is parsed on its own and
 * the results are joined in order, which is what joining the lines with commas means (RFC 9110
 * section 5.3). Parsing per line keeps a broken line, such as an unclosed quote sent by a
 * client, from swallowing the lines that proxies appended after it.
 */
export function listHeaderHops(header: ForwardingHeader, lines: readonly string[]): Hop[] {
  const hops: Hop[] = [];
  for (const line of lines) {
    if (header === 'forwarded') hops.push(...forwardedHops(line));
    else hops.push(...xForwardedForHops(line));
  }
  return hops;
}

function xForwardedForHops(line: string): Hop[] {
  const hops: Hop[] = [];
  for (const part of line.split(',')) {
    const entry = part.replace(OWS_AT_ENDS, '');
    // RFC 9110 section 5.6.1: empty list elements are ignored.
    if (entry !== '') hops.push(parseXForwardedForEntry(entry));
  }
  return hops;
}

function forwardedHops(line: string): Hop[] {
  const { elements, malformed } = parseForwardedLine(line);
  const hops = elements.map((element) => {
    const node = element.get('for');
    return node === undefined ? OPAQUE_HOP : parseForwardedNode(node);
  });
  if (malformed) hops.push(INVALID_HOP);
  return hops;
}
