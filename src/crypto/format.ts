import { CryptoError } from './errors.js';

/** Text before the key version in every ciphertext of format version 1. */
export const CIPHERTEXT_PREFIX = 'agfw:v1:';

/** Plaintext bytes per segment; every segment but the last is exactly this long. */
export const SEGMENT_BYTES = 64 * 1024;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** Truncated HMAC-SHA256 values that tell a wrong context or aad apart from tampering. */
export const CHECK_BYTES = 8;
export const INTEGRITY_BYTES = 16;
/** Context check, aad check and integrity value, before the first segment. */
export const HEADER_BYTES = 2 * CHECK_BYTES + INTEGRITY_BYTES;
const SEGMENT_OVERHEAD = NONCE_BYTES + TAG_BYTES;
const FULL_SEGMENT_BYTES = SEGMENT_BYTES + SEGMENT_OVERHEAD;

/** Largest key version; versions are written in decimal without leading zeros. */
export const MAX_KEY_VERSION = 2 ** 31 - 1;

/** One AES-256-GCM message of a ciphertext. */
export interface Segment {
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** A ciphertext string taken apart; nothing in it has been authenticated yet. */
export interface ParsedCiphertext {
  version: number;
  contextCheck: Buffer;
  aadCheck: Buffer;
  integrity: Buffer;
  segments: Segment[];
}

const CIPHERTEXT_PATTERN = /^agfw:v1:([1-9][0-9]{0,9}):([A-Za-z0-9_-]+)$/;

/** Returns the number of segments for a plaintext: at least one, so empty input has one. */
export function segmentCount(plaintextBytes: number): number {
  return Math.max(1, Math.ceil(plaintextBytes / SEGMENT_BYTES));
}

/** Returns the length of the ciphertext string for a plaintext of `plaintextBytes`. */
export function ciphertextLength(version: number, plaintextBytes: number): number {
  const bodyBytes = HEADER_BYTES + plaintextBytes + segmentCount(plaintextBytes) * SEGMENT_OVERHEAD;
  return CIPHERTEXT_PREFIX.length + String(version).length + 1 + Math.ceil((bodyBytes * 4) / 3);
}

/** Writes `agfw:v1:<version>:<base64url(header | segments)>`. */
export function formatCiphertext(message: ParsedCiphertext): string {
  const parts: Buffer[] = [message.contextCheck, message.aadCheck, message.integrity];
  for (const segment of message.segments) {
    parts.push(segment.nonce, segment.ciphertext, segment.tag);
  }
  return `${CIPHERTEXT_PREFIX}${message.version}:${Buffer.concat(parts).toString('base64url')}`;
}

/** Returns the key version of a ciphertext string that this service wrote. */
export function ciphertextVersion(text: string): number {
  return Number(text.slice(CIPHERTEXT_PREFIX.length, text.indexOf(':', CIPHERTEXT_PREFIX.length)));
}

/**
 * Takes a ciphertext string apart. Raises `crypto_ciphertext_malformed` when it does not have
 * the format, uses non-canonical base64url, or contains more than `maxPlaintextBytes` of plaintext.
 */
export function parseCiphertext(text: string, maxPlaintextBytes: number): ParsedCiphertext {
  const maxVersionLength = String(MAX_KEY_VERSION).length;
  if (text.length > ciphertextLength(MAX_KEY_VERSION, maxPlaintextBytes) + maxVersionLength) {
    throw malformed('the ciphertext is longer than the largest allowed payload');
  }
  const match = CIPHERTEXT_PATTERN.exec(text);
  if (match === null) {
    throw malformed('the ciphertext must have the form agfw:v1:<key version>:<base64url>');
  }
  const version = Number(match[1]);
  if (version > MAX_KEY_VERSION) throw malformed('the key version is out of range');
  const encoded = match[2]!;
  const body = Buffer.from(encoded, 'base64url');
  // Node ignores the unused low bits of the last character, so two strings can decode to the same
  // bytes. Requiring the canonical form makes every changed character an error.
  if (!isCanonicalBase64url(encoded, body)) throw malformed('the base64url text is not canonical');
  const segments = splitSegments(body.subarray(HEADER_BYTES), body.length);
  const plaintextBytes = segments.reduce((sum, segment) => sum + segment.ciphertext.length, 0);
  if (plaintextBytes > maxPlaintextBytes) {
    throw malformed('the ciphertext contains more plaintext than max_payload_bytes allows');
  }
  return {
    version,
    contextCheck: body.subarray(0, CHECK_BYTES),
    aadCheck: body.subarray(CHECK_BYTES, 2 * CHECK_BYTES),
    integrity: body.subarray(2 * CHECK_BYTES, HEADER_BYTES),
    segments,
  };
}

/**
 * Returns whether `encoded`, made of base64url characters only, is the canonical text of `body`,
 * the bytes Node decoded from it. Each full group of four characters maps one to one onto three
 * bytes, so only the length and the last, partial group need checking, in constant time where
 * encoding the whole body again would copy megabytes.
 */
function isCanonicalBase64url(encoded: string, body: Buffer): boolean {
  if (encoded.length !== Math.ceil((body.length * 4) / 3)) return false;
  const partial = encoded.length % 4;
  if (partial === 0) return true;
  // A partial group of 2 or 3 characters encodes 1 or 2 bytes.
  return (
    body.subarray(body.length - (partial - 1)).toString('base64url') === encoded.slice(-partial)
  );
}

/**
 * Splits the bytes after the header into segments: full ones of FULL_SEGMENT_BYTES, then one
 * shorter last segment unless the plaintext length was a whole number of segments.
 */
function splitSegments(rest: Buffer, bodyBytes: number): Segment[] {
  if (bodyBytes < HEADER_BYTES + SEGMENT_OVERHEAD) throw malformed('the ciphertext is too short');
  const fullCount = Math.floor(rest.length / FULL_SEGMENT_BYTES);
  const remainder = rest.length % FULL_SEGMENT_BYTES;
  if (remainder !== 0 && remainder < SEGMENT_OVERHEAD) {
    throw malformed('the last segment is shorter than a nonce and a tag');
  }
  const segments: Segment[] = [];
  for (let index = 0; index < fullCount; index++) {
    segments.push(segmentAt(rest, index * FULL_SEGMENT_BYTES, FULL_SEGMENT_BYTES));
  }
  if (remainder !== 0) segments.push(segmentAt(rest, fullCount * FULL_SEGMENT_BYTES, remainder));
  return segments;
}

function segmentAt(bytes: Buffer, start: number, length: number): Segment {
  const end = start + length;
  return {
    nonce: bytes.subarray(start, start + NONCE_BYTES),
    ciphertext: bytes.subarray(start + NONCE_BYTES, end - TAG_BYTES),
    tag: bytes.subarray(end - TAG_BYTES, end),
  };
}

function malformed(message: string): CryptoError {
  return new CryptoError('crypto_ciphertext_malformed', message);
}
