import type { Dispatcher } from 'undici';
import type { Logger } from '../monitoring/logger.js';
import type { JwsAlgorithm } from './algorithms.js';
import { importJwkSet } from './key-import.js';
import { KeySet, type KeyLookup } from './key-set.js';
import { fetchJwksDocument } from './jwks-fetch.js';
import type { JwksConfig } from './schema.js';

export interface JwksKeySourceOptions {
  readonly config: JwksConfig;
  /** The issuer's allowed algorithms; JWKs that fit none of them are skipped. */
  readonly algorithms: readonly JwsAlgorithm[];
  /** Current time in milliseconds; `Date.now` by default. */
  readonly clock?: (() => number) | undefined;
  readonly dispatcher?: Dispatcher | undefined;
  readonly log?: Logger | undefined;
}

/** The state of a JWKS cache, for readiness checks and logs. */
export interface JwksStatus {
  readonly keys: number;
  /** Milliseconds since the last good fetch; undefined before the first. */
  readonly ageMs: number | undefined;
  /** Reason the last fetch failed; undefined when it succeeded. */
  readonly lastError: string | undefined;
}

/**
 * Keys from a JWKS URL, cached and refreshed by this class rather than by jose's
 * `createRemoteJWKSet`, so that the last good keys survive an outage and every fetch, whatever
 * triggered it, is subject to one cooldown.
 *
 * - A lookup at least `ttl - refresh_ahead` after the last good fetch starts a background
 *   fetch and uses the cached keys meanwhile.
 * - Cached keys are used until `max_age` after the last good fetch, however many fetches fail.
 * - A `kid` with no key starts a fetch and waits for it, so a rotated key is found at once.
 * - No fetch starts within `cooldown` of the previous start, so a flood of unknown kids costs
 *   the JWKS server at most one request per cooldown.
 * - Lookups that need a fetch while one is running wait for that one.
 *
 * There is no timer: an idle gateway refreshes on its next lookup.
 */
export class JwksKeySource {
  readonly #config: JwksConfig;
  readonly #algorithms: readonly JwsAlgorithm[];
  readonly #clock: () => number;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #log: Logger | undefined;
  #keys: KeySet | undefined;
  #fetchedAt = 0;
  #lastStartAt: number | undefined;
  #inFlight: Promise<void> | undefined;
  #lastError: string | undefined;

  constructor(options: JwksKeySourceOptions) {
    this.#config = options.config;
    this.#algorithms = options.algorithms;
    this.#clock = options.clock ?? Date.now;
    this.#dispatcher = options.dispatcher;
    this.#log = options.log;
  }

  /** Returns the keys that may have signed a token with this `kid` and `alg`. Never rejects, because fetch failures are logged and kept in {@link status}. */
  async lookup(kid: string | undefined, alg: string): Promise<KeyLookup> {
    if (!this.#usable()) {
      await this.#fetchUnlessCoolingDown();
      if (!this.#usable()) return { status: 'unavailable' };
    } else if (this.#age() >= this.#config.ttl - this.#config.refresh_ahead) {
      void this.#fetchUnlessCoolingDown();
    }
    const cached = this.#keys!.candidates(kid, alg);
    if (cached.length > 0) return { status: 'found', keys: cached };
    // RFC 7517 section 4.5: an unknown kid may be a new key that the cached set predates.
    await this.#fetchUnlessCoolingDown();
    const fresh = this.#usable() ? this.#keys!.candidates(kid, alg) : [];
    return fresh.length > 0 ? { status: 'found', keys: fresh } : { status: 'not_found' };
  }

  /**
   * Fetches now, unless a fetch is running or the cooldown has not passed, and resolves once
   * done. Call at startup so the first requests find keys. Resolves true when usable keys exist.
   */
  async refresh(): Promise<boolean> {
    await this.#fetchUnlessCoolingDown();
    return this.#usable();
  }

  status(): JwksStatus {
    return {
      keys: this.#keys?.size ?? 0,
      ageMs: this.#keys === undefined ? undefined : this.#age(),
      lastError: this.#lastError,
    };
  }

  #age(): number {
    return this.#clock() - this.#fetchedAt;
  }

  #usable(): boolean {
    return this.#keys !== undefined && this.#age() <= this.#config.max_age;
  }

  #fetchUnlessCoolingDown(): Promise<void> {
    if (this.#inFlight !== undefined) return this.#inFlight;
    const now = this.#clock();
    if (this.#lastStartAt !== undefined && now - this.#lastStartAt < this.#config.cooldown) {
      return Promise.resolve();
    }
    this.#lastStartAt = now;
    this.#inFlight = this.#fetch().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** Fetches and imports the key set. Never rejects: a failure keeps the previous keys. */
  async #fetch(): Promise<void> {
    const { url } = this.#config;
    try {
      const document = await fetchJwksDocument(url, {
        timeoutMs: this.#config.timeout,
        maxBytes: this.#config.max_bytes,
        dispatcher: this.#dispatcher,
      });
      const { keys, skipped } = await importJwkSet(document, this.#algorithms);
      if (keys.length === 0) throw new Error(`JWKS has no usable key (${skipped} skipped)`);
      this.#keys = new KeySet(keys);
      this.#fetchedAt = this.#clock();
      this.#lastError = undefined;
      this.#log?.info({ jwks: url, keys: keys.length, skipped }, 'JWKS fetched');
    } catch (error) {
      this.#lastError = (error as Error).message;
      const keptAgeMs = this.#keys === undefined ? undefined : this.#age();
      this.#log?.warn(
        { jwks: url, error: this.#lastError, keptAgeMs },
        'JWKS fetch failed; keeping the last good keys until max_age',
      );
    }
  }
}
