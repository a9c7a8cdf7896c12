import { CryptoError } from './errors.js';
import { MAX_KEY_VERSION } from './format.js';
import { deriveContextKey, deriveIntegrityKey, KEY_BYTES } from './key-derivation.js';
import { LruCache } from './lru-cache.js';

/**
 * State of a key version: `active` encrypts (one version) and decrypts, `decrypt_only` decrypts
 * older ciphertexts, `pending` is newer than the active version and decrypts until it becomes
 * active, and `retired` is below `min_version`, so its ciphertexts are rejected.
 */
export type KeyVersionState = 'active' | 'decrypt_only' | 'pending' | 'retired';

/** A master key as loaded from its file or environment variable. */
export interface MasterKey {
  version: number;
  material: Buffer;
}

/** The keys one message is sealed or opened with. */
export interface MessageKeys {
  version: number;
  contextKey: Buffer;
  integrityKey: Buffer;
}

export interface KeyringOptions {
  /** Versions below this one are retired: their ciphertexts are rejected. */
  minVersion: number;
  /** Version that encrypts; the newest by default. */
  encryptVersion?: number | undefined;
  /** Maximum derived context keys kept in memory. */
  contextKeyCacheSize: number;
}

interface UsableVersion {
  masterKey: Buffer;
  integrityKey: Buffer;
}

/**
 * Numbered master keys. The material sits in private fields only, so logging or serialising a
 * keyring shows none of it, and no method returns a master key.
 */
export class Keyring {
  readonly #usable = new Map<number, UsableVersion>();
  readonly #retired = new Set<number>();
  readonly #contextKeys: LruCache<string, Buffer>;
  readonly encryptVersion: number;
  readonly minVersion: number;

  /** Raises a RangeError naming the version when the keys or options are inconsistent. */
  constructor(keys: readonly MasterKey[], options: KeyringOptions) {
    this.minVersion = options.minVersion;
    this.#contextKeys = new LruCache(options.contextKeyCacheSize);
    for (const { version, material } of keys) {
      if (!Number.isInteger(version) || version < 1 || version > MAX_KEY_VERSION) {
        throw new RangeError(
          `key version ${version} must be an integer from 1 to ${MAX_KEY_VERSION}`,
        );
      }
      if (this.#usable.has(version) || this.#retired.has(version)) {
        throw new RangeError(`key version ${version} is listed twice`);
      }
      if (material.length !== KEY_BYTES) {
        throw new RangeError(
          `key version ${version} has ${material.length} bytes; it must have ${KEY_BYTES}`,
        );
      }
      if (version < options.minVersion) {
        this.#retired.add(version);
        continue;
      }
      const masterKey = Buffer.from(material);
      this.#usable.set(version, { masterKey, integrityKey: deriveIntegrityKey(masterKey) });
    }
    if (this.#usable.size === 0) {
      throw new RangeError(`no key has a version of at least min_version ${options.minVersion}`);
    }
    this.encryptVersion = options.encryptVersion ?? Math.max(...this.#usable.keys());
    if (!this.#usable.has(this.encryptVersion)) {
      throw new RangeError(
        `encrypt version ${this.encryptVersion} is not a listed key at or above min_version`,
      );
    }
  }

  /**
   * Versions and their states, newest first, with `encryptVersion` active (the configured one by
   * default, or the one automatic rotation chose); never any key material.
   */
  states(encryptVersion = this.encryptVersion): { version: number; state: KeyVersionState }[] {
    const versions = [...this.#usable.keys(), ...this.#retired].sort((a, b) => b - a);
    return versions.map((version) => ({ version, state: this.stateOf(version, encryptVersion)! }));
  }

  stateOf(version: number, encryptVersion = this.encryptVersion): KeyVersionState | undefined {
    if (this.#retired.has(version)) return 'retired';
    if (!this.#usable.has(version)) return undefined;
    if (version === encryptVersion) return 'active';
    return version > encryptVersion ? 'pending' : 'decrypt_only';
  }

  /** Versions at or above `min_version` that have a key, in ascending order. */
  usableVersions(): number[] {
    return [...this.#usable.keys()].sort((a, b) => a - b);
  }

  /** Keys of the configured encrypting version for `context`. */
  encryptionKeys(context: string): MessageKeys {
    return this.#keysFor(this.encryptVersion, context);
  }

  /** Keys of `version`, which must be a usable version, for encrypting under `context`. */
  encryptionKeysOf(version: number, context: string): MessageKeys {
    if (!this.#usable.has(version)) {
      throw new RangeError(`key version ${version} cannot encrypt: it is not loaded or retired`);
    }
    return this.#keysFor(version, context);
  }

  /**
   * Keys of `version` for `context`. Raises `crypto_key_version_retired` below `min_version` and
   * `crypto_key_version_unknown` for a version without a key.
   */
  decryptionKeys(version: number, context: string): MessageKeys {
    if (this.#retired.has(version) || (version < this.minVersion && !this.#usable.has(version))) {
      throw new CryptoError(
        'crypto_key_version_retired',
        `key version ${version} is below min_version ${this.minVersion}`,
      );
    }
    if (!this.#usable.has(version)) {
      throw new CryptoError('crypto_key_version_unknown', `key version ${version} is not loaded`);
    }
    return this.#keysFor(version, context);
  }

  #keysFor(version: number, context: string): MessageKeys {
    const usable = this.#usable.get(version)!;
    // A NUL cannot occur in a valid context, so the cache key is unambiguous.
    const cacheKey = `${version}\0${context}`;
    let contextKey = this.#contextKeys.get(cacheKey);
    if (contextKey === undefined) {
      contextKey = deriveContextKey(usable.masterKey, context);
      this.#contextKeys.set(cacheKey, contextKey);
    }
    return { version, contextKey, integrityKey: usable.integrityKey };
  }
}
