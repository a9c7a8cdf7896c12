import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { CryptoError } from './errors.js';
import {
  CHECK_BYTES,
  INTEGRITY_BYTES,
  NONCE_BYTES,
  SEGMENT_BYTES,
  segmentCount,
  TAG_BYTES,
  type ParsedCiphertext,
  type Segment,
} from './format.js';
import type { MessageKeys } from './keyring.js';

const ALGORITHM = 'aes-256-gcm';
const FORMAT_LABEL = 'agfw:v1';

/**
 * Encrypts `plaintext` as one AES-256-GCM message per segment, each with a fresh random 96-bit
 * nonce, and computes the header values. Returns the parts for formatCiphertext.
 */
export function sealMessage(
  keys: MessageKeys,
  context: string,
  plaintext: Buffer,
  aad: Buffer,
): ParsedCiphertext {
  const count = segmentCount(plaintext.length);
  const segments: Segment[] = [];
  for (let index = 0; index < count; index++) {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, keys.contextKey, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(segmentAad(keys.version, context, aad, index, index === count - 1));
    const chunk = plaintext.subarray(index * SEGMENT_BYTES, (index + 1) * SEGMENT_BYTES);
    const ciphertext = Buffer.concat([cipher.update(chunk), cipher.final()]);
    segments.push({ nonce, ciphertext, tag: cipher.getAuthTag() });
  }
  const firstNonce = segments[0]!.nonce;
  const contextCheck = computeContextCheck(keys, context, firstNonce);
  const aadCheck = computeAadCheck(keys, context, aad, firstNonce);
  const integrity = computeIntegrity(keys, contextCheck, aadCheck, segments);
  return { version: keys.version, contextCheck, aadCheck, integrity, segments };
}

/**
 * Authenticates and decrypts a parsed ciphertext, checking in an order that names the cause.
 * The integrity value comes first and is keyed per version, not per context, so a changed nonce,
 * tag, check value or segment list is `crypto_ciphertext_tampered`. The context and aad checks
 * follow. Each segment's GCM tag comes last and catches a changed ciphertext byte.
 */
export function openMessage(
  keys: MessageKeys,
  context: string,
  message: ParsedCiphertext,
  aad: Buffer,
): Buffer {
  const { segments } = message;
  const expectedIntegrity = computeIntegrity(
    keys,
    message.contextCheck,
    message.aadCheck,
    segments,
  );
  if (!timingSafeEqual(expectedIntegrity, message.integrity)) {
    throw new CryptoError('crypto_ciphertext_tampered', 'the ciphertext failed authentication');
  }
  const firstNonce = segments[0]!.nonce;
  if (!timingSafeEqual(computeContextCheck(keys, context, firstNonce), message.contextCheck)) {
    throw new CryptoError(
      'crypto_context_mismatch',
      'the ciphertext was not encrypted under this context',
    );
  }
  if (!timingSafeEqual(computeAadCheck(keys, context, aad, firstNonce), message.aadCheck)) {
    throw new CryptoError(
      'crypto_aad_mismatch',
      'the ciphertext was not encrypted with this additional data',
    );
  }
  const parts: Buffer[] = [];
  for (const [index, segment] of segments.entries()) {
    const decipher = createDecipheriv(ALGORITHM, keys.contextKey, segment.nonce, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(segmentAad(keys.version, context, aad, index, index === segments.length - 1));
    decipher.setAuthTag(segment.tag);
    try {
      parts.push(decipher.update(segment.ciphertext), decipher.final());
    } catch {
      throw new CryptoError('crypto_ciphertext_tampered', 'the ciphertext failed authentication');
    }
  }
  return Buffer.concat(parts);
}

/**
 * The GCM additional data of one segment: format, key version, context, caller aad, segment
 * index and final flag, each variable field with its length so no two inputs encode alike.
 */
export function segmentAad(
  version: number,
  context: string,
  aad: Buffer,
  index: number,
  final: boolean,
): Buffer {
  return Buffer.concat([
    lengthPrefixed(Buffer.from(FORMAT_LABEL, 'utf8')),
    uint32(version),
    lengthPrefixed(Buffer.from(context, 'utf8')),
    lengthPrefixed(aad),
    uint32(index),
    Buffer.from([final ? 1 : 0]),
  ]);
}

function computeContextCheck(keys: MessageKeys, context: string, nonce: Buffer): Buffer {
  return hmac(keys.integrityKey, 'context-check', [
    uint32(keys.version),
    nonce,
    lengthPrefixed(Buffer.from(context, 'utf8')),
  ]).subarray(0, CHECK_BYTES);
}

function computeAadCheck(keys: MessageKeys, context: string, aad: Buffer, nonce: Buffer): Buffer {
  return hmac(keys.integrityKey, 'aad-check', [
    uint32(keys.version),
    nonce,
    lengthPrefixed(Buffer.from(context, 'utf8')),
    lengthPrefixed(aad),
  ]).subarray(0, CHECK_BYTES);
}

/** Covers the header checks and every segment's length, nonce and tag, in order. Exported for tests. */
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

/** HMAC-SHA256 with a label first, so values computed for different purposes never collide. */
function hmac(key: Buffer, label: string, parts: readonly Buffer[]): Buffer {
  const mac = createHmac('sha256', key);
  mac.update(lengthPrefixed(Buffer.from(`${FORMAT_LABEL}:${label}`, 'utf8')));
  for (const part of parts) mac.update(part);
  return mac.digest();
}

function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}

function lengthPrefixed(bytes: Buffer): Buffer {
  return Buffer.concat([uint32(bytes.length), bytes]);
}
