/**
 * JWS algorithms an issuer may list (RFC 7518 section 3, RFC 8037 for EdDSA). `none` is not
 * among them, so no configuration can accept unsigned tokens (RFC 8725 sections 2.1 and 3.1).
 */
export const JWS_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

export type JwsAlgorithm = (typeof JWS_ALGORITHMS)[number];

/**
 * JWE key management algorithms that may be configured (RFC 7518 section 4). RSA1_5 is left out
 * because of padding-oracle attacks (RFC 8725 section 3.2), and PBES2 because it is meant for
 * passwords and its iteration count is chosen by the sender.
 */
export const JWE_KEY_MANAGEMENT_ALGORITHMS = [
  'dir',
  'A128KW',
  'A256KW',
  'RSA-OAEP',
  'RSA-OAEP-256',
  'RSA-OAEP-384',
  'RSA-OAEP-512',
  'ECDH-ES',
  'ECDH-ES+A128KW',
  'ECDH-ES+A256KW',
] as const;

export type JweKeyManagementAlgorithm = (typeof JWE_KEY_MANAGEMENT_ALGORITHMS)[number];

/** JWE content encryption algorithms that may be configured (RFC 7518 section 5). */
export const JWE_CONTENT_ALGORITHMS = [
  'A128GCM',
  'A256GCM',
  'A128CBC-HS256',
  'A256CBC-HS512',
] as const;

export type JweContentAlgorithm = (typeof JWE_CONTENT_ALGORITHMS)[number];

/**
 * Minimum HMAC key size in bytes: at least the hash output size (RFC 7518 section 3.2).
 */
export const HMAC_MIN_KEY_BYTES: Readonly<Record<string, number>> = {
  HS256: 32,
  HS384: 48,
  HS512: 64,
};

/** Key size in bytes that `dir` needs for each content algorithm (RFC 7518 section 5.1). */
export const CONTENT_KEY_BYTES: Readonly<Record<JweContentAlgorithm, number>> = {
  A128GCM: 16,
  A256GCM: 32,
  'A128CBC-HS256': 32,
  'A256CBC-HS512': 64,
};

/** Key size in bytes of the AES key wrap algorithms (RFC 7518 section 4.4). */
export const KEY_WRAP_BYTES: Readonly<Record<string, number>> = { A128KW: 16, A256KW: 32 };

export function isHmacAlgorithm(alg: JwsAlgorithm): boolean {
  return alg.startsWith('HS');
}

/** The members of a public JWK that decide which algorithms it can verify. */
export interface PublicKeyShape {
  readonly kty: string;
  readonly crv?: string | undefined;
}

const EC_CURVE_BY_ALGORITHM: Readonly<Record<string, string>> = {
  ES256: 'P-256',
  ES384: 'P-384',
  ES512: 'P-521',
};

/**
 * Tells whether a public key of this type and curve can verify `alg`. Binding each key to the
 * algorithms its type allows is what stops algorithm confusion (RFC 8725 section 2.1): an RSA
 * public key is never handed to an HMAC check.
 */
export function keyFitsSigningAlgorithm(shape: PublicKeyShape, alg: JwsAlgorithm): boolean {
  if (alg.startsWith('RS') || alg.startsWith('PS')) return shape.kty === 'RSA';
  if (alg.startsWith('ES')) return shape.kty === 'EC' && shape.crv === EC_CURVE_BY_ALGORITHM[alg];
  if (alg === 'EdDSA') return shape.kty === 'OKP' && shape.crv === 'Ed25519';
  return false;
}

/** Tells whether a private key of this type and curve can unwrap keys with `alg`. */
export function keyFitsDecryptionAlgorithm(
  shape: PublicKeyShape,
  alg: JweKeyManagementAlgorithm,
): boolean {
  if (alg.startsWith('RSA-OAEP')) return shape.kty === 'RSA';
  if (alg.startsWith('ECDH-ES')) {
    if (shape.kty === 'EC') return ['P-256', 'P-384', 'P-521'].includes(shape.crv ?? '');
    return shape.kty === 'OKP' && shape.crv === 'X25519';
  }
  return false;
}
