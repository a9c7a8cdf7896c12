/**
 * Failure codes of the encryption service. Each is also a code of the gateway's error catalogue,
 * so the API sends it unchanged.
 */
export type CryptoErrorCode =
  | 'crypto_invalid_request'
  | 'crypto_ciphertext_malformed'
  | 'crypto_ciphertext_tampered'
  | 'crypto_ciphertext_truncated'
  | 'crypto_context_mismatch'
  | 'crypto_aad_mismatch'
  | 'crypto_key_version_unknown'
  | 'crypto_key_version_retired'
  | 'crypto_payload_too_large';

/**
 * A rejected encryption or decryption. The message states what failed and on which field, and
 * never contains plaintext, ciphertext, additional data or key bytes, so it is safe to log and
 * to send to the caller.
 */
export class CryptoError extends Error {
  override readonly name = 'CryptoError';

  constructor(
    readonly code: CryptoErrorCode,
    message: string,
  ) {
    super(message);
  }
}
