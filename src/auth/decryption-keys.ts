import { importJWK, type CryptoKey } from 'jose';
import {
  CONTENT_KEY_BYTES,
  KEY_WRAP_BYTES,
  keyFitsDecryptionAlgorithm,
  type JweContentAlgorithm,
  type JweKeyManagementAlgorithm,
} from './algorithms.js';
import type { JwkObject } from './key-files.js';
import { KeyLoadError } from './key-load-error.js';

/** A private or symmetric key imported for one JWE key management algorithm. */
export interface DecryptionKey {
  readonly kid: string | undefined;
  readonly alg: JweKeyManagementAlgorithm;
  /** For `dir`, the one content algorithm the key is for. */
  readonly enc?: JweContentAlgorithm | undefined;
  /** For ECDH-ES, the key's curve, which the token's `epk` must share. */
  readonly crv?: string | undefined;
  /**
   * A CryptoKey, or raw bytes for `dir` with an AES-CBC-HMAC content algorithm, because jose
   * splits that key into its MAC and encryption halves itself.
   */
  readonly key: CryptoKey | Uint8Array;
}

/** Members a JWK may carry that are not key material and must not reach the import. */
const NON_KEY_MEMBERS = ['alg', 'use', 'key_ops', 'kid', 'ext', 'x5c', 'x5t', 'x5t#S256', 'x5u'];

/**
 * Imports a private JWK once for each configured RSA-OAEP or ECDH-ES algorithm it fits.
 * Throws when the JWK has no private part, has `use` other than `enc`, or fits none.
 */
export async function importPrivateJwk(
  jwk: JwkObject,
  algorithms: readonly JweKeyManagementAlgorithm[],
  kidOverride: string | undefined,
  label: string,
): Promise<DecryptionKey[]> {
  if (typeof jwk['d'] !== 'string') throw new KeyLoadError(`${label}: not a private key`);
  if (jwk['use'] !== undefined && jwk['use'] !== 'enc') {
    throw new KeyLoadError(`${label}: JWK "use" is not "enc"`);
  }
  const crv = typeof jwk['crv'] === 'string' ? jwk['crv'] : undefined;
  const fitting = algorithms.filter((alg) =>
    keyFitsDecryptionAlgorithm({ kty: String(jwk['kty']), crv }, alg),
  );
  if (fitting.length === 0) {
    throw new KeyLoadError(`${label}: key fits none of the key management algorithms`);
  }
  const material = Object.fromEntries(
    Object.entries(jwk).filter(([name]) => !NON_KEY_MEMBERS.includes(name)),
  );
  const kid = kidOverride ?? (typeof jwk['kid'] === 'string' ? jwk['kid'] : undefined);
  const keys: DecryptionKey[] = [];
  for (const alg of fitting) {
    const key = (await importJWK(material, alg)) as CryptoKey;
    keys.push({ kid, alg, crv, key });
  }
  return keys;
}

/**
 * Imports a symmetric secret for each configured `dir` content algorithm and AES key wrap
 * algorithm whose key size equals the secret's length (RFC 7518 sections 4.4 and 5).
 * Throws when it fits none.
 */
export async function importDecryptionSecret(
  secret: Uint8Array,
  algorithms: readonly JweKeyManagementAlgorithm[],
  contentAlgorithms: readonly JweContentAlgorithm[],
  kid: string | undefined,
  label: string,
): Promise<DecryptionKey[]> {
  const keys: DecryptionKey[] = [];
  if (algorithms.includes('dir')) {
    for (const enc of contentAlgorithms) {
      if (CONTENT_KEY_BYTES[enc] !== secret.byteLength) continue;
      keys.push({ kid, alg: 'dir', enc, key: await importContentKey(secret, enc) });
    }
  }
  for (const alg of algorithms) {
    if (KEY_WRAP_BYTES[alg] !== secret.byteLength) continue;
    const key = await crypto.subtle.importKey('raw', secret, 'AES-KW', false, ['unwrapKey']);
    keys.push({ kid, alg, key });
  }
  if (keys.length === 0) {
    throw new KeyLoadError(
      `${label}: a ${secret.byteLength}-byte secret fits none of the configured algorithms`,
    );
  }
  return keys;
}

async function importContentKey(
  secret: Uint8Array,
  enc: JweContentAlgorithm,
): Promise<CryptoKey | Uint8Array> {
  if (enc.endsWith('GCM')) {
    return crypto.subtle.importKey('raw', secret, 'AES-GCM', false, ['decrypt']);
  }
  return Uint8Array.from(secret);
}
