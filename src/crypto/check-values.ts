import { createHmac } from 'node:crypto';
import { CHECK_BYTES, INTEGRITY_BYTES, type Segment } from './format.js';
import type { MessageKeys } from './keyring.js';

/** Label of format version 1, at the start of every HMAC input and of every segment's GCM aad. */
export const FORMAT_LABEL = 'agfw:v1';

/** HMAC-SHA256 over the key version, the first nonce and the context, cut to 8 bytes. */
export function computeContextCheck(keys: MessageKeys, context: string, nonce: Buffer): Buffer {
  return hmac(keys.integrityKey, 'context-check', [
    uint32(keys.version),
    nonce,
    lengthPrefixed(Buffer.from(context, 'utf8')),
  ]).subarray(0, CHECK_BYTES);
}

/** HMAC-SHA256 over the key version, the first nonce, the context and the aad, cut to 8 bytes. */
export function computeAadCheck(
  keys: MessageKeys,
  context: string,
  aad: Buffer,
  nonce: Buffer,
): Buffer {
  return hmac(keys.integrityKey, 'aad-check', [
    uint32(keys.version),
    nonce,
    lengthPrefixed(Buffer.from(context, 'utf8')),
    lengthPrefixed(aad),
  ]).subarray(0, CHECK_BYTES);
}

/** Covers the header checks and every segment's length, nonce and tag, in order. */
export function computeIntegrity(
  keys: MessageKeys,
  contextCheck: Buffer,
  aadCheck: Buffer,
  segments: readonly Segment[],
): Buffer {
  const parts = [uint32(keys.version), contextCheck, aadCheck, uint32(segments.length)];
  for (const segment of segments) {
    parts.push(uint32(segment.ciphertext.length), segment.nonce, segment.tag);
  }
  return hmac(keys.integrityKey, 'integrity', parts).subarray(0, INTEGRITY_BYTES);
}

/**
 * Covers the header of the streaming form and the first segment's nonce, which are all known
 * before any segment is sealed, cut to 16 bytes.
 */
export function computeStreamHeaderIntegrity(
  keys: MessageKeys,
  contextCheck: Buffer,
  aadCheck: Buffer,
  firstNonce: Buffer,
): Buffer {
  return hmac(keys.integrityKey, 'stream-header', [
    uint32(keys.version),
    contextCheck,
    aadCheck,
    firstNonce,
  ]).subarray(0, INTEGRITY_BYTES);
}

/** HMAC-SHA256 with a label first, so values computed for different purposes never collide. */
function hmac(key: Buffer, label: string, parts: readonly Buffer[]): Buffer {
  const mac = createHmac('sha256', key);
  mac.update(lengthPrefixed(Buffer.from(`${FORMAT_LABEL}:${label}`, 'utf8')));
  for (const part of parts) mac.update(part);
  return mac.digest();
}

export function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}

export function lengthPrefixed(bytes: Buffer): Buffer {
  return Buffer.concat([uint32(bytes.length), bytes]);
}
