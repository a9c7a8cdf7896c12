import { decodeBase64Json, decodeBase64Text } from '../../checks/base64.js';
import type { Detector } from '../detector.js';
import { OpenerDetector, readRun, type Extension } from '../opener-detector.js';

const BASE64URL = (char: string): boolean => /[A-Za-z0-9_-]/.test(char);
/** Segment limits in characters; a header with an x5c certificate chain can reach thousands. */
const MAX_HEADER = 4_000;
const MAX_PAYLOAD = 16_000;
const MAX_SIGNATURE = 1_000;

/**
 * JSON Web Tokens in JWS compact form. The header and payload must be base64url JSON (`eyJ` is
 * the encoding of `{"`) and the header must name an `alg`. The signature may be missing, as in
 * tokens printed without it. Only the start of the payload is decoded, so a token cut short
 * still counts.
 */
export function jsonWebToken(): Detector {
  return new OpenerDetector({
    id: 'jwt',
    kind: 'jwt',
    group: 'secrets',
    opener: 'eyJ[A-Za-z0-9_-]{5}',
    maxExtension: MAX_HEADER + MAX_PAYLOAD + MAX_SIGNATURE + 2,
    extend: extendToken,
  });
}

function extendToken(text: string, match: RegExpExecArray, complete: boolean): Extension {
  const start = match.index;
  if (/[A-Za-z0-9_.-]/.test(text[start - 1] ?? '')) return undefined;
  const header = readRun(text, start, BASE64URL, MAX_HEADER);
  if (header.atTextEnd && !complete) return 'pending';
  if (text[header.end] !== '.') return undefined;
  const payload = readRun(text, header.end + 1, BASE64URL, MAX_PAYLOAD);
  if ((payload.atTextEnd || text[payload.end] === undefined) && !complete) return 'pending';
  let end = payload.end;
  if (text[end] === '.') {
    const signature = readRun(text, end + 1, BASE64URL, MAX_SIGNATURE);
    if (signature.atTextEnd && !complete) return 'pending';
    end = signature.end;
  }
  if (/[A-Za-z0-9_.-]/.test(text[end] ?? '')) return undefined;
  const headerJson = decodeBase64Json(text.slice(start, header.end));
  if (typeof headerJson?.alg !== 'string') return undefined;
  const payloadText = text.slice(header.end + 1, payload.end);
  const whole = payloadText.slice(0, payloadText.length - (payloadText.length % 4));
  if (!decodeBase64Text(whole)?.startsWith('{"')) return undefined;
  return { start, end };
}
