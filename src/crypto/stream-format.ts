import { CryptoError } from './errors.js';
import {
  CHECK_BYTES,
  INTEGRITY_BYTES,
  MAX_KEY_VERSION,
  NONCE_BYTES,
  SEGMENT_BYTES,
  segmentCount,
  TAG_BYTES,
} from './format.js';

/**
 * The streaming form: a binary ciphertext written and read one segment at a time.
 *
 *   stream  = "agfw:s1:" | key version (4, big-endian) | context check (8) | aad check (8)
 *             | header integrity (16) | segment 0 | segment 1 | …
 *   segment = nonce (12) | ciphertext (same length as its plaintext) | tag (16)
 *
 * Every segment but the last contains SEGMENT_BYTES of plaintext. The last one is the one that
 * the end of the stream follows, and only it is sealed with the final flag, so a stream cut
 * at a segment boundary fails authentication.
 */
export const STREAM_MAGIC = Buffer.from('agfw:s1:', 'ascii');
/** Label of the streaming form in each segment's GCM aad, apart from the text form's. */
export const STREAM_LABEL = 'agfw:s1';
export const STREAM_HEADER_BYTES = STREAM_MAGIC.length + 4 + 2 * CHECK_BYTES + INTEGRITY_BYTES;
export const SEGMENT_OVERHEAD_BYTES = NONCE_BYTES + TAG_BYTES;
/** Bytes of a segment that contains SEGMENT_BYTES of plaintext. */
export const FULL_STREAM_SEGMENT_BYTES = SEGMENT_BYTES + SEGMENT_OVERHEAD_BYTES;

/** The header of a stream, before anything in it is authenticated. */
export interface StreamHeader {
  version: number;
  contextCheck: Buffer;
  aadCheck: Buffer;
  integrity: Buffer;
}

/** Returns the length in bytes of the stream for a plaintext of `plaintextBytes`. */
export function streamLength(plaintextBytes: number): number {
  return (
    STREAM_HEADER_BYTES + plaintextBytes + segmentCount(plaintextBytes) * SEGMENT_OVERHEAD_BYTES
  );
}

export function formatStreamHeader(header: StreamHeader): Buffer {
  const version = Buffer.alloc(4);
  version.writeUInt32BE(header.version);
  return Buffer.concat([
    STREAM_MAGIC,
    version,
    header.contextCheck,
    header.aadCheck,
    header.integrity,
  ]);
}

/**
 * Takes the first STREAM_HEADER_BYTES of a stream apart. Raises `crypto_ciphertext_malformed`
 * when they do not start with the magic text or the key version is out of range.
 */
export function parseStreamHeader(bytes: Buffer): StreamHeader {
  if (!bytes.subarray(0, STREAM_MAGIC.length).equals(STREAM_MAGIC)) {
    throw new CryptoError(
      'crypto_ciphertext_malformed',
      'the stream does not start with agfw:s1: (send ciphertexts of the streaming form only)',
    );
  }
  let offset = STREAM_MAGIC.length;
  const version = bytes.readUInt32BE(offset);
  if (version < 1 || version > MAX_KEY_VERSION) {
    throw new CryptoError('crypto_ciphertext_malformed', 'the key version is out of range');
  }
  offset += 4;
  const take = (length: number): Buffer => {
    const part = bytes.subarray(offset, offset + length);
    offset += length;
    return part;
  };
  return {
    version,
    contextCheck: take(CHECK_BYTES),
    aadCheck: take(CHECK_BYTES),
    integrity: take(INTEGRITY_BYTES),
  };
}
