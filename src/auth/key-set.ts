import type { VerificationKey } from './key-import.js';

/**
 * Maximum keys tried for one token. It bounds the work an attacker can cause with a token
 * that has no `kid` when many keys fit its `alg`.
 * NOTE: 4 is a judgment (rotation rarely publishes more keys per algorithm), not a measurement.
 */
export const MAX_KEY_CANDIDATES = 4;

/** The outcome of looking up keys for a token. */
export type KeyLookup =
  | { readonly status: 'found'; readonly keys: readonly VerificationKey[] }
  | { readonly status: 'not_found' }
  /** No usable key set exists at all, for example because the JWKS could not be fetched. */
  | { readonly status: 'unavailable' };

/**
 * Picks the keys a token may be checked with. `kid` is an opaque string compared for equality
 * only (RFC 7515 section 4.1.4); it never becomes a path, a query or a URL. A token with a
 * `kid` gets the keys with that ID first, then keys configured without one. A token without
 * a `kid` gets every key. At most {@link MAX_KEY_CANDIDATES} are returned.
 */
export function selectByKeyId<Key extends { readonly kid: string | undefined }>(
  keys: readonly Key[],
  kid: string | undefined,
): Key[] {
  if (kid === undefined) return keys.slice(0, MAX_KEY_CANDIDATES);
  const exact = keys.filter((key) => key.kid === kid);
  const unnamed = keys.filter((key) => key.kid === undefined);
  return [...exact, ...unnamed].slice(0, MAX_KEY_CANDIDATES);
}

/** Verification keys indexed by algorithm. */
export class KeySet {
  readonly #byAlgorithm = new Map<string, VerificationKey[]>();
  readonly size: number;

  constructor(keys: readonly VerificationKey[]) {
    for (const key of keys) {
      const list = this.#byAlgorithm.get(key.alg) ?? [];
      list.push(key);
      this.#byAlgorithm.set(key.alg, list);
    }
    this.size = keys.length;
  }

  /** Returns the keys for `alg` that may have signed a token with this `kid`. */
  candidates(kid: string | undefined, alg: string): VerificationKey[] {
    return selectByKeyId(this.#byAlgorithm.get(alg) ?? [], kid);
  }
}
