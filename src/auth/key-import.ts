import { importJWK, type CryptoKey } from 'jose';
import { HMAC_MIN_KEY_BYTES, isHmacAlgorithm, keyFitsSigningAlgorithm } from './algorithms.js';
import type { JwsAlgorithm } from './algorithms.js';
import { isJsonObject } from './json-pointer.js';
import type { JwkObject } from './key-files.js';
import { KeyLoadError } from './key-load-error.js';

/**
 * A key imported for exactly one algorithm (RFC 8725 section 3.1). The verifier only ever hands
 * it to jose with that algorithm, so the token's `alg` can select a key but never change its use.
 */
export interface VerificationKey {
  /** The key ID, matched against the token's `kid` as an opaque string. */
  readonly kid: string | undefined;
  readonly alg: JwsAlgorithm;
  readonly key: CryptoKey;
}

/** RSA keys shorter than this are rejected (RFC 7518 section 3.3). */
const MIN_RSA_MODULUS_BITS = 2048;

/** The public members of each key type (RFC 7518 section 6, RFC 8037 section 2). */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
};

const HMAC_HASH: Readonly<Record<string, string>> = {
  HS256: 'SHA-256',
  HS384: 'SHA-384',
  HS512: 'SHA-512',
};

/**
 * Imports the public part of an asymmetric JWK once for each allowed algorithm it fits, and
 * returns [] when it fits none. Symmetric (`oct`) JWKs are never imported here, because a key
 * published in a JWKS is public and anyone could sign with it. A `use` other than `sig`, or
 * `key_ops` without `verify`, also give [] (RFC 7517 sections 4.2 and 4.3). Throws on invalid
 * key material and on RSA keys below 2048 bits.
 */
export async function importPublicJwk(
  jwk: JwkObject,
  algorithms: readonly JwsAlgorithm[],
  kidOverride?: string,
): Promise<VerificationKey[]> {
  const members = PUBLIC_MEMBERS[String(jwk['kty'])];
  if (members === undefined || !usableForVerification(jwk)) return [];
  const shape = { kty: String(jwk['kty']), crv: stringMember(jwk, 'crv') };
  const declared = stringMember(jwk, 'alg');
  const fitting = algorithms.filter(
    (alg) => keyFitsSigningAlgorithm(shape, alg) && (declared === undefined || declared === alg),
  );
  if (fitting.length === 0) return [];
  if (shape.kty === 'RSA') checkRsaModulus(jwk);
  const publicJwk = Object.fromEntries(members.map((name) => [name, jwk[name]]));
  const kid = kidOverride ?? stringMember(jwk, 'kid');
  const keys: VerificationKey[] = [];
  for (const alg of fitting) {
    const key = (await importJWK(publicJwk, alg)) as CryptoKey;
    keys.push({ kid, alg, key });
  }
  return keys;
}

/**
 * Imports an HMAC secret once per allowed HS algorithm it is long enough for (RFC 7518 section
 * 3.2), as a non-extractable CryptoKey that can only verify. jose would otherwise import raw
 * bytes or a secret KeyObject again on every verification (jose 6.2, lib/key.js). Throws when
 * the secret is too short for every listed HS algorithm.
 */
export async function importHmacSecret(
  secret: Uint8Array,
  algorithms: readonly JwsAlgorithm[],
  kid: string | undefined,
  label: string,
): Promise<VerificationKey[]> {
  const listed = algorithms.filter(isHmacAlgorithm);
  const fitting = listed.filter((alg) => secret.byteLength >= HMAC_MIN_KEY_BYTES[alg]!);
  if (fitting.length === 0) {
    const needed = listed.map((alg) => `${alg} needs ${HMAC_MIN_KEY_BYTES[alg]}`).join(', ');
    throw new KeyLoadError(`secret in ${label} is ${secret.byteLength} bytes; ${needed}`);
  }
  const keys: VerificationKey[] = [];
  for (const alg of fitting) {
    const algorithm = { name: 'HMAC', hash: HMAC_HASH[alg]! };
    const key = await crypto.subtle.importKey('raw', secret, algorithm, false, ['verify']);
    keys.push({ kid, alg, key });
  }
  return keys;
}

export interface ImportedKeySet {
  readonly keys: VerificationKey[];
  /** JWKs left out: unusable for the allowed algorithms, or invalid. */
  readonly skipped: number;
}

/**
 * Imports a JWK Set document (RFC 7517 section 5). Members that cannot be used are skipped, so
 * one bad key does not take down the others. Throws when the document is not a JWK Set.
 */
export async function importJwkSet(
  document: unknown,
  algorithms: readonly JwsAlgorithm[],
): Promise<ImportedKeySet> {
  const members = jwkSetMembers(document);
  const keys: VerificationKey[] = [];
  let skipped = 0;
  for (const jwk of members) {
    if (!isJsonObject(jwk)) {
      skipped += 1;
      continue;
    }
    try {
      const imported = await importPublicJwk(jwk, algorithms);
      if (imported.length === 0) skipped += 1;
      keys.push(...imported);
    } catch {
      skipped += 1;
    }
  }
  return { keys, skipped };
}

function jwkSetMembers(document: unknown): unknown[] {
  if (!isJsonObject(document) || !Array.isArray(document['keys'])) {
    throw new Error('JWKS is not a JSON object with a "keys" array');
  }
  return document['keys'];
}

function usableForVerification(jwk: JwkObject): boolean {
  if (jwk['use'] !== undefined && jwk['use'] !== 'sig') return false;
  const operations = jwk['key_ops'];
  return operations === undefined || (Array.isArray(operations) && operations.includes('verify'));
}

function checkRsaModulus(jwk: JwkObject): void {
  const modulus = Buffer.from(String(jwk['n']), 'base64url');
  const first = modulus.findIndex((byte) => byte !== 0);
  const bits =
    first < 0 ? 0 : (modulus.length - first - 1) * 8 + (32 - Math.clz32(modulus[first]!));
  if (bits < MIN_RSA_MODULUS_BITS) {
    throw new KeyLoadError(`RSA key has a ${bits}-bit modulus; at least 2048 bits are required`);
  }
}

function stringMember(jwk: JwkObject, name: string): string | undefined {
  const value = jwk[name];
  return typeof value === 'string' ? value : undefined;
}
