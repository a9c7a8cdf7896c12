/** Limits for decoding base64 and hex runs; see NormalisationOptions.encoded. */
export interface EncodedLimits {
  readonly minLength: number;
  readonly maxBytes: number;
}

/** 1 for a base64 character (both alphabets), 2 when it is also a hex digit, 0 otherwise. */
const CLASS = new Uint8Array(128);
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_') {
  CLASS[char.charCodeAt(0)] = 1;
}
for (const char of '0123456789abcdefABCDEF') CLASS[char.charCodeAt(0)] = 2;

/** Share of control characters and U+FFFD above which decoded bytes count as binary. */
const MAX_UNPRINTABLE_SHARE = 0.05;

/**
 * Finds base64 and hex runs of at least `minLength` characters and returns the ones that decode
 * to readable UTF-8 text, at most `maxBytes` decoded bytes in all. A run of hex digits is read
 * as hex first, then as base64. Runs that decode to binary, such as hashes and ids, are dropped.
 */
export function decodeEncodedRuns(text: string, limits: EncodedLimits): string[] {
  const decoded: string[] = [];
  let budget = limits.maxBytes;
  for (const [start, end] of encodedRuns(text, limits.minLength)) {
    if (budget <= 0) break;
    const readable = decodeRun(
      text.slice(start, skipPadding(text, end)),
      isHexRun(text, start, end),
    );
    if (readable === undefined) continue;
    const clipped = readable.slice(0, budget);
    budget -= clipped.length;
    decoded.push(clipped);
  }
  for (const run of paddedShortRuns(text, limits.minLength)) {
    if (budget <= 0) break;
    const readable = decodeRun(run, false);
    if (readable === undefined) continue;
    const clipped = readable.slice(0, budget);
    budget -= clipped.length;
    decoded.push(clipped);
  }
  return decoded;
}

/**
 * A standalone base64 token with `=` padding and a length that is a multiple of 4. The padding
 * marks it as base64 even below the minimum length, as in `YGlkYA==`, which is `` `id` ``. The
 * token must stand alone, so each start position is tried once and the scan stays linear.
 */
const PADDED_TOKEN = /(?:^|[^A-Za-z0-9+/=_-])([A-Za-z0-9+/]{6,62}={1,2})(?![A-Za-z0-9+/=_-])/g;

function* paddedShortRuns(text: string, minLength: number): Generator<string> {
  if (!text.includes('=')) return;
  for (const match of text.matchAll(PADDED_TOKEN)) {
    const token = match[1]!;
    if (token.length % 4 === 0 && token.replace(/=+$/, '').length < minLength) yield token;
  }
}

/**
 * Yields [start, end) of every maximal run of base64 characters at least `minLength` long. It
 * probes the last character of each window first, as Boyer-Moore does, so ordinary prose with
 * its short words is skipped `minLength` characters at a time. Each character is still read a
 * bounded number of times, so the time stays linear.
 */
function* encodedRuns(text: string, minLength: number): Generator<[number, number]> {
  let from = 0;
  while (from + minLength <= text.length) {
    const probe = from + minLength - 1;
    if (!isBase64Char(text, probe)) {
      from = probe + 1;
      continue;
    }
    let start = probe;
    while (start > from && isBase64Char(text, start - 1)) start -= 1;
    let end = probe + 1;
    while (end < text.length && isBase64Char(text, end)) end += 1;
    if (end - start >= minLength) yield [start, end];
    from = end + 1;
  }
}

function isBase64Char(text: string, at: number): boolean {
  const code = text.charCodeAt(at);
  return code < 128 && CLASS[code] !== 0;
}

function isHexRun(text: string, start: number, end: number): boolean {
  for (let at = start; at < end; at += 1) {
    if (CLASS[text.charCodeAt(at)] !== 2) return false;
  }
  return true;
}

/** Includes up to two `=` padding characters after a run. */
function skipPadding(text: string, at: number): number {
  let end = at;
  while (end < text.length && end - at < 2 && text.charCodeAt(end) === 0x3d) end += 1;
  return end;
}

function decodeRun(run: string, allHex: boolean): string | undefined {
  if (allHex && run.length % 2 === 0) {
    const text = readableText(Buffer.from(run, 'hex'));
    if (text !== undefined) return text;
  }
  // Node's base64 decoder accepts the standard and the URL-safe alphabet.
  return readableText(Buffer.from(run, 'base64'));
}

function readableText(bytes: Buffer): string | undefined {
  if (bytes.length < 4) return undefined;
  const text = bytes.toString('utf8');
  let unprintable = 0;
  for (let at = 0; at < text.length; at += 1) {
    const code = text.charCodeAt(at);
    const control = code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d;
    if (control || code === 0x7f || code === 0xfffd) unprintable += 1;
  }
  return unprintable <= text.length * MAX_UNPRINTABLE_SHARE ? text : undefined;
}
