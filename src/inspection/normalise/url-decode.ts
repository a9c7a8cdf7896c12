const ESCAPE = /%(?:u([0-9a-fA-F]{4})|([0-9a-fA-F]{2}))/;
const ESCAPES = /(?:%(?:u[0-9a-fA-F]{4}|[0-9a-fA-F]{2}))+/g;

/**
 * Decodes `%XX` escapes as UTF-8 and the non-standard `%uXXXX` escapes that IIS accepts, once.
 * Malformed escapes stay as they are and invalid UTF-8 becomes U+FFFD, so decoding never throws.
 * `+` is not turned into a space, because outside form encoding it is a literal plus.
 */
export function urlDecodeOnce(text: string): string {
  if (!text.includes('%')) return text;
  return text.replace(ESCAPES, decodeRun);
}

/**
 * Decodes up to `maxPasses` times, stopping early once a pass changes nothing, because
 * attackers encode twice or more to slip past filters that decode once.
 */
export function urlDecodeRepeatedly(text: string, maxPasses: number): string {
  let current = text;
  for (let pass = 0; pass < maxPasses; pass += 1) {
    const next = urlDecodeOnce(current);
    if (next === current) break;
    current = next;
  }
  return current;
}

/** Decodes one run of adjacent escapes, so multi-byte UTF-8 sequences come out whole. */
function decodeRun(run: string): string {
  let text = '';
  const bytes: number[] = [];
  for (let at = 0; at < run.length;) {
    const match = ESCAPE.exec(run.slice(at, at + 6))!;
    if (match[1] !== undefined) {
      text += Buffer.from(bytes).toString('utf8') + String.fromCharCode(parseInt(match[1], 16));
      bytes.length = 0;
    } else {
      bytes.push(parseInt(match[2]!, 16));
    }
    at += match[0].length;
  }
  return text + Buffer.from(bytes).toString('utf8');
}
