import type { Detector } from '../detector.js';
import { OpenerDetector, readRun, type Extension } from '../opener-detector.js';

const LABEL = '[A-Z0-9 ]{0,24}PRIVATE KEY(?: BLOCK)?';
const END_LINE = new RegExp(`-----END ${LABEL}-----`, 'y');
/** Longest END line: "-----END " + 24 + "PRIVATE KEY BLOCK-----". */
const MAX_END_LINE = 59;
/** 8,000 characters fit an 8192-bit RSA key with its header lines. */
const MAX_BODY = 8_000;
/** A body of 64 or more characters without an END line is a key cut short, still a leak. */
const MIN_TRUNCATED_BODY = 64;
/** Fewer key characters than this is an empty template such as BEGIN…END with nothing inside. */
const MIN_KEY_CHARACTERS = 16;

/** Body characters: base64, header lines (`Proc-Type: 4,ENCRYPTED`), and `\n` written as escapes. */
const BODY_CHAR = /[A-Za-z0-9+/=:,. \t\r\n\\-]/;

/**
 * PEM, OpenSSH and PGP private keys: a `-----BEGIN … PRIVATE KEY-----` line, a body of base64
 * and header lines of up to 8,000 characters, and the END line. Line breaks may also be written
 * as the escapes `\n` and `\r`, as in a key inside JSON text.
 */
export function privateKey(): Detector {
  return new OpenerDetector({
    id: 'private-key',
    kind: 'private_key',
    group: 'secrets',
    opener: `-----BEGIN ${LABEL}-----`,
    maxExtension: MAX_BODY + MAX_END_LINE,
    extend: extendKey,
  });
}

function extendKey(text: string, match: RegExpExecArray, complete: boolean): Extension {
  const start = match.index;
  const bodyStart = start + match[0].length;
  // The body stops at the next "-----", which starts the END line.
  const body = readRun(text, bodyStart, (char) => BODY_CHAR.test(char), MAX_BODY);
  let bodyEnd = body.end;
  const dashes = text.indexOf('-----', bodyStart);
  if (dashes >= 0 && dashes < bodyEnd) bodyEnd = dashes;
  else if (body.atTextEnd && !complete) return 'pending';
  const keyCharacters = text.slice(bodyStart, bodyEnd).replace(/\\[nr]|\s/g, '').length;
  if (keyCharacters < MIN_KEY_CHARACTERS) return undefined;
  END_LINE.lastIndex = bodyEnd;
  const endLine = END_LINE.exec(text);
  if (endLine) return { start, end: bodyEnd + endLine[0].length };
  if (!complete && text.length - bodyEnd < MAX_END_LINE) return 'pending';
  return keyCharacters >= MIN_TRUNCATED_BODY ? { start, end: bodyEnd } : undefined;
}
