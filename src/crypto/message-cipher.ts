import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  computeAadCheck,
  computeContextCheck,
  computeIntegrity,
  FORMAT_LABEL,
} from './check-values.js';
import { CryptoError } from './errors.js';
import {
  NONCE_BYTES,
  SEGMENT_BYTES,
  segmentCount,
  type ParsedCiphertext,
  type Segment,
} from './format.js';
import type { MessageKeys } from './keyring.js';
import { openSegment, sealSegment } from './segment-cipher.js';

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
    const chunk = plaintext.subarray(index * SEGMENT_BYTES, (index + 1) * SEGMENT_BYTES);
    const position = { label: FORMAT_LABEL, index, final: index === count - 1 };
    segments.push(sealSegment(keys, context, aad, position, randomBytes(NONCE_BYTES), chunk));
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
    const position = { label: FORMAT_LABEL, index, final: index === segments.length - 1 };
    const plaintext = openSegment(keys, context, aad, position, segment);
    if (plaintext === undefined) {
      throw new CryptoError('crypto_ciphertext_tampered', 'the ciphertext failed authentication');
    }
    parts.push(plaintext);
  }
  return Buffer.concat(parts);
}
