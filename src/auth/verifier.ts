import type { Dispatcher } from 'undici';
import type { Logger } from '../monitoring/logger.js';
import { checkTokenTimes } from './claims.js';
import { TokenDecryptor } from './decryption.js';
import { authFailure, type AuthFailure } from './failure.js';
import { IssuerKeys } from './issuer-keys.js';
import type { AuthConfig, IssuerConfig } from './schema.js';
import { verifySignedToken } from './signature.js';
import { TokenCache } from './token-cache.js';
import { decodeJsonSegment, parseCompactToken, type CompactToken } from './token-format.js';
import type { VerifiedToken } from './verified-token.js';

export interface TokenVerifierOptions {
  /** Folder that relative key and secret paths are resolved against: the config file's. */
  readonly baseDir: string;
  /** Environment that `env` secrets are read from; `process.env` by default. */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** Current time in milliseconds; `Date.now` by default. */
  readonly clock?: (() => number) | undefined;
  /** undici dispatcher for JWKS requests; undici's global one by default. */
  readonly dispatcher?: Dispatcher | undefined;
  readonly log?: Logger | undefined;
}

export interface VerifyOptions {
  /** Names of the issuers the route accepts; every configured issuer when undefined. */
  readonly issuers?: readonly string[] | undefined;
}

export type VerifyResult =
  | { readonly ok: true; readonly token: VerifiedToken; readonly cached: boolean }
  | { readonly ok: false; readonly failure: AuthFailure };

interface Issuer {
  readonly config: IssuerConfig;
  readonly keys: IssuerKeys;
}

/**
 * Verifies access tokens: compact JWS, or compact JWE with a nested JWS, against the
 * configured issuers. Create one per configuration with {@link TokenVerifier.create}. Keys are
 * imported once there, and JWKS keys are fetched and cached per issuer.
 */
export class TokenVerifier {
  readonly #issuers: ReadonlyMap<string, Issuer>;
  readonly #decryptor: TokenDecryptor | undefined;
  readonly #cache: TokenCache;
  readonly #maxTokenBytes: number;
  readonly #clock: () => number;

  private constructor(
    config: AuthConfig,
    issuers: ReadonlyMap<string, Issuer>,
    decryptor: TokenDecryptor | undefined,
    clock: () => number,
  ) {
    this.#issuers = issuers;
    this.#decryptor = decryptor;
    this.#maxTokenBytes = config.max_token_bytes;
    this.#clock = clock;
    this.#cache = new TokenCache({
      maxEntries: config.token_cache.max_entries,
      maxAgeMs: config.token_cache.max_age,
      clock,
    });
  }

  /**
   * Loads every key, secret and decryption key of `config` once. Throws a KeyLoadError naming
   * the setting when one cannot be used. JWKS URLs are not fetched; see {@link warmUp}.
   */
  static async create(config: AuthConfig, options: TokenVerifierOptions): Promise<TokenVerifier> {
    const clock = options.clock ?? Date.now;
    const context = { ...options, env: options.env ?? process.env, clock };
    const issuers = new Map<string, Issuer>();
    for (const issuer of config.issuers) {
      issuers.set(issuer.issuer, { config: issuer, keys: await IssuerKeys.load(issuer, context) });
    }
    const decryptor =
      config.decryption === undefined
        ? undefined
        : await TokenDecryptor.create(config.decryption, context);
    return new TokenVerifier(config, issuers, decryptor, clock);
  }

  /** Names of the configured issuers, for checking the names that routes list. */
  get issuerNames(): string[] {
    return [...this.#issuers.values()].map((issuer) => issuer.config.name);
  }

  /**
   * Fetches every issuer's JWKS. Resolves true when each has usable keys; never rejects.
   * Call it before accepting traffic, so that the first requests do not wait for a fetch.
   */
  async warmUp(): Promise<boolean> {
    const results = await Promise.all(
      [...this.#issuers.values()].map((issuer) => issuer.keys.jwks?.refresh() ?? true),
    );
    return results.every(Boolean);
  }

  /**
   * Verifies a token and returns its claims, or the reason it was rejected. Rejects tokens over
   * `max_token_bytes` before parsing. Throws only on a bug, never because of the token.
   */
  async verify(token: string, options: VerifyOptions = {}): Promise<VerifyResult> {
    if (Buffer.byteLength(token) > this.#maxTokenBytes) {
      return failed('token_too_large', `token exceeds ${this.#maxTokenBytes}B`);
    }
    const cached = this.#cache.get(token);
    if (cached !== undefined) {
      if (!isAccepted(cached.issuer, options)) {
        return failed('issuer_invalid', `issuer ${cached.issuer} is not accepted on this route`);
      }
      return { ok: true, token: cached, cached: true };
    }
    const result = await this.#verifyUncached(token, options);
    if (result.ok) this.#cache.set(token, result.token);
    return result;
  }

  async #verifyUncached(token: string, options: VerifyOptions): Promise<VerifyResult> {
    const parsed = parseCompactToken(token);
    if (!parsed.ok) return parsed;
    if (parsed.token.kind === 'jws') return this.#verifySigned(token, parsed.token, options, false);
    if (this.#decryptor === undefined) {
      return failed('decryption_failed', 'token is a JWE and auth.decryption is not configured');
    }
    const decrypted = await this.#decryptor.decrypt(token, parsed.token.header);
    if (!decrypted.ok) return decrypted;
    const nested = parseCompactToken(decrypted.plaintext);
    if (!nested.ok) return nested;
    if (nested.token.kind !== 'jws') return failed('token_malformed', 'nested token is not a JWS');
    return this.#verifySigned(decrypted.plaintext, nested.token, options, true);
  }

  /**
   * Checks what can be checked without a key, then the signature and claims. The unverified
   * `iss` only chooses which issuer's keys to try; jose then requires `iss` to match.
   */
  async #verifySigned(
    text: string,
    jws: CompactToken,
    options: VerifyOptions,
    encrypted: boolean,
  ): Promise<VerifyResult> {
    const payload = decodeJsonSegment(jws.segments[1]!);
    if (payload === undefined) return failed('token_malformed', 'payload is not a JSON object');
    const issuer =
      typeof payload['iss'] === 'string' ? this.#issuers.get(payload['iss']) : undefined;
    if (issuer === undefined || !isAccepted(issuer.config.name, options)) {
      return failed('issuer_invalid', 'iss is missing, unknown or not accepted on this route');
    }
    const rejected = checkHeader(jws, issuer.config);
    if (rejected !== undefined) return { ok: false, failure: rejected };
    const lookup = await issuer.keys.lookup(jws.header.kid, jws.header.alg);
    if (lookup.status === 'unavailable') {
      return failed('jwks_unavailable', `no usable keys for issuer ${issuer.config.name}`);
    }
    if (lookup.status === 'not_found') return failed('key_not_found', 'no key fits kid and alg');
    const now = this.#clock();
    const verified = await verifySignedToken(text, lookup.keys, issuer.config, now);
    if (!verified.ok) return verified;
    const timeFailure = checkTokenTimes(verified.claims, issuer.config, now);
    if (timeFailure !== undefined) return { ok: false, failure: timeFailure };
    const token: VerifiedToken = {
      issuer: issuer.config.name,
      claims: verified.claims,
      expiresAt: verified.claims.exp! * 1000,
      algorithm: verified.key.alg,
      keyId: verified.key.kid,
      encrypted,
    };
    return { ok: true, token, cached: false };
  }
}

/**
 * Header checks before any key is looked up, so that a rejected token never causes a JWKS
 * fetch. `jku`, `x5u`, `x5c` and `jwk` are never read: keys come from configuration only
 * (RFC 8725 section 3.10).
 */
function checkHeader(jws: CompactToken, issuer: IssuerConfig): AuthFailure | undefined {
  const { alg } = jws.header;
  // RFC 8725 section 3.1: the allow-list, not the token, decides; `none` is never on it.
  if (!(issuer.algorithms as readonly string[]).includes(alg)) {
    return authFailure('algorithm_not_allowed', `alg ${JSON.stringify(alg.slice(0, 32))}`);
  }
  // RFC 7515 section 4.1.11: extensions listed in crit must be understood; none are.
  if (jws.header['crit'] !== undefined) return authFailure('crit_unsupported', 'JWS has "crit"');
  if (jws.segments[2] === '') return authFailure('signature_invalid', 'signature is empty');
  return undefined;
}

function isAccepted(issuerName: string, options: VerifyOptions): boolean {
  return options.issuers === undefined || options.issuers.includes(issuerName);
}

function failed(reason: AuthFailure['reason'], detail: string): VerifyResult {
  return { ok: false, failure: authFailure(reason, detail) };
}
