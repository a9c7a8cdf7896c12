import { AutoRotation, scheduleOf, type AutoRotationSchedule } from '../crypto/auto-rotation.js';
import type { Caller } from '../crypto/callers.js';
import { EncryptionService } from '../crypto/encryption-service.js';
import { Keyring } from '../crypto/keyring.js';
import type { LoadedCrypto } from '../crypto/load-crypto.js';
import { MessageCounter } from '../crypto/message-counter.js';
import type { CryptoSettings } from '../crypto/settings.js';
import type { Logger } from '../monitoring/logger.js';
import type { GatewayMetrics } from '../monitoring/metrics.js';

/** Interval at which the period of automatic rotation is checked without traffic. */
const ROTATION_CHECK_MS = 60_000;

/**
 * One complete key set: the service over one keyring, the callers and the settings they came
 * from. A request takes the current state once, when it starts, and uses it to its end.
 */
export interface CryptoState {
  readonly service: EncryptionService;
  readonly callers: readonly Caller[];
  readonly settings: CryptoSettings;
  readonly fingerprint: string;
  readonly keyDigests: ReadonlyMap<number, string>;
}

/**
 * The encryption API's current key set, replaced whole by a reload. The message counts and the
 * automatic rotation outlive each replacement, so they cover the whole process.
 */
export class CryptoRuntime {
  readonly #metrics: GatewayMetrics;
  readonly #log: Logger;
  readonly #counter: MessageCounter;
  #rotation: AutoRotation | undefined;
  #state: CryptoState;
  #timer: NodeJS.Timeout | undefined;

  /** Builds the first state; raises a RangeError when the keys and settings do not fit. */
  constructor(loaded: LoadedCrypto, metrics: GatewayMetrics, log: Logger) {
    this.#metrics = metrics;
    this.#log = log;
    const { settings } = loaded;
    this.#counter = new MessageCounter(settings.rotation.warn_after_messages, (version, messages) =>
      log.warn(
        { key_version: version, messages, warn_after: this.#counter.warnAfter },
        'crypto key version nears the AES-GCM message limit; rotate the key',
      ),
    );
    this.#state = this.build(loaded);
    this.apply(this.#state);
    metrics.cryptoKeys.source = () => ({
      version: this.#state.service.encryptVersion,
      overdue: this.#rotation?.overdue ?? false,
    });
  }

  get state(): CryptoState {
    return this.#state;
  }

  /**
   * Builds a complete state from loaded keys and callers without touching the running one, and
   * zeroes the loaded key buffers, as the keyring keeps copies. Raises a RangeError naming the
   * version when the keys and settings do not fit, or when a running version's key changed.
   */
  build(loaded: LoadedCrypto): CryptoState {
    const { settings } = loaded;
    let keyring: Keyring;
    try {
      this.#checkKeysKept(loaded.keyDigests);
      keyring = new Keyring(loaded.keys, {
        minVersion: settings.min_version,
        encryptVersion: settings.rotation.encrypt_version,
        contextKeyCacheSize: settings.context_key_cache_size,
      });
    } finally {
      for (const key of loaded.keys) key.material.fill(0);
    }
    const schedule = scheduleOf(settings);
    // An existing rotation object gets its new schedule in apply(), so that a rejected reload
    // leaves it unchanged. A new one starts only when the running state has none.
    const rotation =
      schedule === undefined ? undefined : (this.#rotation ?? this.#createRotation(schedule));
    const service = new EncryptionService({
      keyring,
      maxPayloadBytes: settings.max_payload_bytes,
      counter: this.#counter,
      rotation,
      observer: {
        sealed: (version, messages) =>
          this.#metrics.cryptoMessages.inc({ key_version: version }, messages),
        nearLimit: () => undefined,
      },
    });
    return {
      service,
      callers: loaded.callers,
      settings,
      fingerprint: loaded.fingerprint,
      keyDigests: loaded.keyDigests,
    };
  }

  /**
   * Raises when a version of the running key set has other key bytes in `digests`: every
   * ciphertext of that version would then fail as tampered, so it is almost surely a mistake,
   * such as a key file written again. The first state, built at start, has nothing to compare.
   */
  #checkKeysKept(digests: ReadonlyMap<number, string>): void {
    // The constructor builds the first state before #state is set.
    const running = this.#state as CryptoState | undefined;
    if (running === undefined) return;
    for (const [version, digest] of digests) {
      const current = running.keyDigests.get(version);
      if (current !== undefined && current !== digest) {
        throw new RangeError(
          `key version ${version} has other key bytes than the running key of that version; ` +
            'a version must keep its key, so write the new key as a new version',
        );
      }
    }
  }

  /** Makes `state` the current one. Requests that already hold the old state keep it. */
  apply(state: CryptoState): void {
    const schedule = scheduleOf(state.settings);
    this.#rotation = state.service.rotation;
    if (schedule !== undefined) this.#rotation?.update(schedule);
    this.#counter.warnAfter = state.settings.rotation.warn_after_messages;
    this.#state = state;
  }

  /** Checks the rotation period once a minute, so a rotation is logged without traffic. */
  start(): void {
    this.#timer ??= setInterval(() => void this.#state.service.encryptVersion, ROTATION_CHECK_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #createRotation(schedule: AutoRotationSchedule): AutoRotation {
    const log = this.#log;
    const rotations = this.#metrics.cryptoKeys.rotations;
    return new AutoRotation(schedule, {
      rotated(from, to, reason) {
        rotations.inc({ reason });
        log.info({ from_version: from, key_version: to, reason }, 'crypto key rotated');
      },
      overdue(due, reason) {
        log.warn(
          { due_version: due, reason },
          'crypto key rotation is due but no newer key version is loaded; provision the next key',
        );
      },
    });
  }
}
