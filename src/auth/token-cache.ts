import { createHash } from 'node:crypto';
import type { VerifiedToken } from './verified-token.js';

export interface TokenCacheOptions {
  /** Maximum entries; the least recently used entry is evicted first. 0 turns caching off. */
  readonly maxEntries: number;
  /** Maximum time in milliseconds an entry is reused, whatever the token's `exp`. */
  readonly maxAgeMs: number;
  /** Current time in milliseconds; `Date.now` by default. */
  readonly clock?: (() => number) | undefined;
}

interface Entry {
  readonly token: VerifiedToken;
  readonly expiresAt: number;
}

/**
 * Recently verified tokens, so that a client's repeated requests skip the signature check.
 * Keys are SHA-256 digests of the token, so the cache never contains a token that could be
 * replayed from a memory dump. An entry lasts until the token's `exp` or `maxAgeMs` after it
 * was stored, whichever comes first. Only successes are stored, so failures cannot fill it.
 */
export class TokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #clock: () => number;

  constructor(options: TokenCacheOptions) {
    this.#maxEntries = options.maxEntries;
    this.#maxAgeMs = options.maxAgeMs;
    this.#clock = options.clock ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Returns the verified token, or undefined when absent or expired. */
  get(token: string): VerifiedToken | undefined {
    const key = digest(token);
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= this.#clock()) return undefined;
    // Re-inserting moves the entry to the end of the Map's order: most recently used.
    this.#entries.set(key, entry);
    return entry.token;
  }

  /** Stores a verified token unless it has already expired. */
  set(token: string, verified: VerifiedToken): void {
    if (this.#maxEntries === 0) return;
    const now = this.#clock();
    const expiresAt = Math.min(verified.expiresAt, now + this.#maxAgeMs);
    if (expiresAt <= now) return;
    const key = digest(token);
    this.#entries.delete(key);
    this.#entries.set(key, { token: verified, expiresAt });
    while (this.#entries.size > this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
