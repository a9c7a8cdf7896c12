import { promisify } from 'node:util';
import zlib from 'node:zlib';

const DECODERS = {
  gzip: promisify(zlib.gunzip),
  'x-gzip': promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress),
} as const;

export interface DecompressLimits {
  readonly maxBytes: number;
  readonly maxRatio: number;
}

/** A decoded body, or why it cannot be decoded: a status code family and a client detail. */
export type DecodedBody =
  | { readonly ok: true; readonly body: Buffer }
  | {
      readonly ok: false;
      readonly code: 'unsupported_media_type' | 'payload_too_large' | 'invalid_body';
      readonly reason: string;
      readonly detail: string;
    };

/** Tells whether a Content-Encoding value means no decoding: absent, empty or `identity`. */
export function isIdentityEncoding(encoding: string | undefined): boolean {
  if (encoding === undefined) return true;
  const value = encoding.trim().toLowerCase();
  return value === '' || value === 'identity';
}

/**
 * Decodes a request body for inspection. The output is capped at the smaller of `maxBytes`
 * and `maxRatio` times the input, so a small compression bomb stops at the cap instead of
 * filling memory. Stacked encodings are refused: clients have no need for them.
 */
export async function decompressBody(
  body: Buffer,
  encoding: string,
  limits: DecompressLimits,
): Promise<DecodedBody> {
  const name = encoding.trim().toLowerCase();
  if (!Object.hasOwn(DECODERS, name)) {
    return {
      ok: false,
      code: 'unsupported_media_type',
      reason: `content-encoding ${name.slice(0, 40)} is not supported`,
      detail: 'send the body uncompressed or with Content-Encoding gzip, deflate or br',
    };
  }
  const byRatio = Math.max(body.length, 1) * limits.maxRatio;
  const cap = Math.min(limits.maxBytes, byRatio);
  try {
    const decoded = await DECODERS[name as keyof typeof DECODERS](body, { maxOutputLength: cap });
    return { ok: true, body: decoded };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      const detail =
        cap === limits.maxBytes
          ? `the decompressed body exceeds ${limits.maxBytes} bytes`
          : `the body expands more than ${limits.maxRatio} times when decompressed`;
      return { ok: false, code: 'payload_too_large', reason: detail, detail };
    }
    return {
      ok: false,
      code: 'invalid_body',
      reason: `${name} decoding failed: ${(error as Error).message}`,
      detail: `the body is not valid ${name} data`,
    };
  }
}
