import { hkdfSync } from 'node:crypto';

/** Bytes of every master and derived key: AES-256 and HMAC-SHA256 keys. */
export const KEY_BYTES = 32;

// Distinct prefixes keep the HKDF info of the integrity key apart from every context's info.
const CONTEXT_INFO_PREFIX = 'agfw:v1:context:';
const INTEGRITY_INFO = 'agfw:v1:integrity';

// Master keys are uniformly random, so HKDF-Extract needs no salt (RFC 5869, section 3.1).
const NO_SALT = Buffer.alloc(0);

/** Derives the AES-256-GCM key of one context from a version's master key (HKDF-SHA256). */
export function deriveContextKey(masterKey: Buffer, context: string): Buffer {
  const info = Buffer.from(CONTEXT_INFO_PREFIX + context, 'utf8');
  return Buffer.from(hkdfSync('sha256', masterKey, NO_SALT, info, KEY_BYTES));
}

/**
 * Derives a version's HMAC-SHA256 key for the integrity and check values, which do not depend
 * on the context, so a wrong context is distinguished from a changed ciphertext.
 */
export function deriveIntegrityKey(masterKey: Buffer): Buffer {
  const info = Buffer.from(INTEGRITY_INFO, 'utf8');
  return Buffer.from(hkdfSync('sha256', masterKey, NO_SALT, info, KEY_BYTES));
}
