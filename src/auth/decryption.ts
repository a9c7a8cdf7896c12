import path from 'node:path';
import { compactDecrypt, errors } from 'jose';
import type { JweContentAlgorithm, JweKeyManagementAlgorithm } from './algorithms.js';
import { importDecryptionSecret, importPrivateJwk, type DecryptionKey } from './decryption-keys.js';
import { authFailure, type AuthFailure } from './failure.js';
import { authFailureFromJose } from './jose-errors.js';
import { isJsonObject } from './json-pointer.js';
import { readKeyFile } from './key-files.js';
import { selectByKeyId } from './key-set.js';
import type { DecryptionConfig } from './schema.js';
import { readSecret, type KeyLoadContext } from './secrets.js';
import type { JoseHeader } from './token-format.js';

export type DecryptResult =
  | { readonly ok: true; readonly plaintext: string }
  | { readonly ok: false; readonly failure: AuthFailure };

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decrypts compact JWE tokens (RFC 7516) with the configured keys and algorithms. */
export class TokenDecryptor {
  readonly #config: DecryptionConfig;
  readonly #keys: readonly DecryptionKey[];

  private constructor(config: DecryptionConfig, keys: readonly DecryptionKey[]) {
    this.#config = config;
    this.#keys = keys;
  }

  /** Reads and imports every decryption key once. Throws a KeyLoadError on an unusable key. */
  static async create(config: DecryptionConfig, context: KeyLoadContext): Promise<TokenDecryptor> {
    const keys: DecryptionKey[] = [];
    for (const [index, entry] of config.keys.entries()) {
      const label = `auth.decryption.keys[${index}]`;
      for (const jwk of await readKeyFile(path.resolve(context.baseDir, entry.file))) {
        keys.push(
          ...(await importPrivateJwk(jwk, config.key_management_algorithms, entry.kid, label)),
        );
      }
    }
    for (const [index, entry] of config.secrets.entries()) {
      const label = `auth.decryption.secrets[${index}]`;
      const bytes = await readSecret(entry, context);
      try {
        const algorithms = config.key_management_algorithms;
        const contentAlgorithms = config.content_algorithms;
        keys.push(
          ...(await importDecryptionSecret(bytes, algorithms, contentAlgorithms, entry.kid, label)),
        );
      } finally {
        bytes.fill(0);
      }
    }
    return new TokenDecryptor(config, keys);
  }

  /**
   * Decrypts a compact JWE and returns the nested token. `alg` and `enc` must be configured,
   * `crit` and `zip` must be absent, and `cty` must be `JWT` (RFC 7519 section 5.2). Keys are
   * chosen by `alg`, `enc`, `kid` and the `epk` curve, never from `jku`, `jwk` or `x5u`.
   */
  async decrypt(token: string, header: JoseHeader): Promise<DecryptResult> {
    const rejected = this.#checkHeader(header);
    if (rejected !== undefined) return { ok: false, failure: rejected };
    const alg = header.alg as JweKeyManagementAlgorithm;
    const enc = header['enc'] as JweContentAlgorithm;
    const candidates = selectByKeyId(this.#fitting(alg, enc, header), header.kid);
    for (const candidate of candidates) {
      try {
        const result = await compactDecrypt(token, candidate.key, {
          keyManagementAlgorithms: [alg],
          contentEncryptionAlgorithms: [enc],
          maxDecompressedLength: 0,
        });
        return nestedToken(result.plaintext, result.protectedHeader.cty);
      } catch (error) {
        if (!(error instanceof errors.JWEDecryptionFailed)) {
          return { ok: false, failure: authFailureFromJose(error) };
        }
      }
    }
    return { ok: false, failure: authFailure('decryption_failed', 'no decryption key fits') };
  }

  #checkHeader(header: JoseHeader): AuthFailure | undefined {
    const algorithms: readonly string[] = this.#config.key_management_algorithms;
    const contentAlgorithms: readonly string[] = this.#config.content_algorithms;
    if (!algorithms.includes(header.alg)) {
      return authFailure('algorithm_not_allowed', 'JWE "alg" is not configured');
    }
    if (typeof header['enc'] !== 'string' || !contentAlgorithms.includes(header['enc'])) {
      return authFailure('algorithm_not_allowed', 'JWE "enc" is not configured');
    }
    // RFC 7516 section 4.1.13: extensions listed in crit must be understood; none are.
    if (header['crit'] !== undefined) return authFailure('crit_unsupported', 'JWE has "crit"');
    // Compressing before encrypting leaks plaintext through the length (RFC 8725 section 3.6).
    if (header['zip'] !== undefined) return authFailure('token_malformed', 'JWE is compressed');
    return undefined;
  }

  #fitting(alg: string, enc: string, header: JoseHeader): DecryptionKey[] {
    const epk = header['epk'];
    const curve = isJsonObject(epk) ? epk['crv'] : undefined;
    return this.#keys.filter(
      (key) =>
        key.alg === alg &&
        (key.enc === undefined || key.enc === enc) &&
        (key.crv === undefined || key.crv === curve),
    );
  }
}

function nestedToken(plaintext: Uint8Array, cty: string | undefined): DecryptResult {
  // RFC 7515 section 4.1.10: "JWT" and "application/jwt" name the same type.
  if (cty?.toLowerCase().replace(/^application\//, '') !== 'jwt') {
    return { ok: false, failure: authFailure('token_malformed', 'JWE "cty" is not JWT') };
  }
  try {
    return { ok: true, plaintext: UTF8.decode(plaintext) };
  } catch {
    return { ok: false, failure: authFailure('token_malformed', 'nested token is not UTF-8') };
  }
}
