/**
 * NIST SP 800-38D, section 8.3: with random 96-bit nonces, one key may be used for at most 2^32
 * GCM invocations. Warnings start at a quarter of that by default.
 */
export const GCM_RANDOM_NONCE_LIMIT = 2 ** 32;
export const DEFAULT_WARN_AFTER_MESSAGES = 2 ** 30;

/**
 * Counts GCM messages (segments) sealed per key version in this process, and calls `onWarn`
 * once per version when its count reaches `warnAfter`.
 *
 * NOTE: the count starts at zero with every process and is not shared between replicas, so the
 * real number of messages under a version is at least this count, not at most.
 */
export class MessageCounter {
  readonly #counts = new Map<number, number>();
  readonly #warned = new Set<number>();

  /** Message count at which a version gets its warning; a reload may change it. */
  warnAfter: number;

  constructor(
    warnAfter: number,
    private readonly onWarn: (version: number, messages: number) => void,
  ) {
    this.warnAfter = warnAfter;
  }

  /** Adds `messages` GCM messages to `version`'s count. */
  add(version: number, messages: number): void {
    const count = (this.#counts.get(version) ?? 0) + messages;
    this.#counts.set(version, count);
    if (count >= this.warnAfter && !this.#warned.has(version)) {
      this.#warned.add(version);
      this.onWarn(version, count);
    }
  }

  count(version: number): number {
    return this.#counts.get(version) ?? 0;
  }
}
