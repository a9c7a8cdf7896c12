import type { AutoRotation, NextRotation } from './auto-rotation.js';
import { CryptoError } from './errors.js';
import {
  ciphertextLength,
  formatCiphertext,
  MAX_KEY_VERSION,
  parseCiphertext,
  segmentCount,
} from './format.js';
import type { Keyring, KeyVersionState } from './keyring.js';
import { openMessage, sealMessage } from './message-cipher.js';
import { MessageCounter } from './message-counter.js';
import { StreamOpener, StreamSealer } from './stream-cipher.js';

/** Printable ASCII without spaces, so prefix rules compare plain bytes. */
const CONTEXT_PATTERN = /^[\x21-\x7e]{1,256}$/;
export const MAX_CONTEXT_LENGTH = 256;
export const MAX_AAD_BYTES = 4096;

/** Receiver of the service's message counts and warnings; it never gets data. */
export interface EncryptionObserver {
  /** `messages` GCM messages were sealed under `version`. */
  sealed(version: number, messages: number): void;
  /** `version` reached the warning threshold of its message count. */
  nearLimit(version: number, messages: number): void;
}

export interface EncryptionServiceOptions {
  keyring: Keyring;
  /** Largest plaintext accepted, in bytes. */
  maxPayloadBytes: number;
  /** Message count per version at which `observer.nearLimit` fires; unused with `counter`. */
  warnAfterMessages?: number | undefined;
  /** Counts shared with the services of earlier keyrings, so a reload keeps them. */
  counter?: MessageCounter | undefined;
  /** Chooses the encrypting version over time; the keyring's encrypt version without it. */
  rotation?: AutoRotation | undefined;
  observer?: EncryptionObserver | undefined;
}

/** A key version as the keys endpoint reports it. */
export interface KeyVersionReport {
  version: number;
  state: KeyVersionState;
  messages: number;
}

const NO_OBSERVER: EncryptionObserver = {
  sealed: () => undefined,
  nearLimit: () => undefined,
};

/**
 * Encrypts, decrypts and rewraps under a keyring. Every method raises CryptoError, whose
 * message never contains data or key bytes.
 */
export class EncryptionService {
  readonly keyring: Keyring;
  readonly maxPayloadBytes: number;
  readonly counter: MessageCounter;
  readonly rotation: AutoRotation | undefined;
  readonly #observer: EncryptionObserver;

  constructor(options: EncryptionServiceOptions) {
    this.keyring = options.keyring;
    this.maxPayloadBytes = options.maxPayloadBytes;
    this.rotation = options.rotation;
    this.#observer = options.observer ?? NO_OBSERVER;
    this.counter =
      options.counter ??
      new MessageCounter(options.warnAfterMessages ?? Infinity, (version, messages) =>
        this.#observer.nearLimit(version, messages),
      );
  }

  /** Largest ciphertext string this service accepts, in characters. */
  get maxCiphertextLength(): number {
    return ciphertextLength(MAX_KEY_VERSION, this.maxPayloadBytes);
  }

  /** The version that encrypts now: chosen by automatic rotation, or the keyring's. */
  get encryptVersion(): number {
    if (this.rotation === undefined) return this.keyring.encryptVersion;
    return this.rotation.select(this.keyring.usableVersions(), this.counter);
  }

  /** Encrypts under the encrypting version; `ciphertextVersion` reads the version back. */
  encrypt(context: string, plaintext: Buffer, aad: Buffer = Buffer.alloc(0)): string {
    checkContext(context);
    checkAad(aad);
    if (plaintext.length > this.maxPayloadBytes) {
      throw new CryptoError(
        'crypto_payload_too_large',
        `the plaintext has ${plaintext.length} bytes; the maximum is ${this.maxPayloadBytes}`,
      );
    }
    const keys = this.keyring.encryptionKeysOf(this.encryptVersion, context);
    const ciphertext = formatCiphertext(sealMessage(keys, context, plaintext, aad));
    this.#count(keys.version, segmentCount(plaintext.length));
    return ciphertext;
  }

  decrypt(context: string, ciphertext: string, aad: Buffer = Buffer.alloc(0)): Buffer {
    checkContext(context);
    checkAad(aad);
    const message = parseCiphertext(ciphertext, this.maxPayloadBytes);
    const keys = this.keyring.decryptionKeys(message.version, context);
    return openMessage(keys, context, message, aad);
  }

  /**
   * Decrypts and encrypts again under the encrypting version, with the same context and aad. The
   * plaintext stays inside this method.
   */
  rewrap(context: string, ciphertext: string, aad: Buffer = Buffer.alloc(0)): string {
    const plaintext = this.decrypt(context, ciphertext, aad);
    try {
      return this.encrypt(context, plaintext, aad);
    } finally {
      plaintext.fill(0);
    }
  }

  /** Starts encrypting a plaintext that arrives in chunks, in the streaming form. */
  startEncryptStream(context: string, aad: Buffer = Buffer.alloc(0)): StreamSealer {
    checkContext(context);
    checkAad(aad);
    const keys = this.keyring.encryptionKeysOf(this.encryptVersion, context);
    return new StreamSealer(keys, context, aad, this.maxPayloadBytes, (version) =>
      this.#count(version, 1),
    );
  }

  /** Starts decrypting a ciphertext of the streaming form that arrives in chunks. */
  startDecryptStream(context: string, aad: Buffer = Buffer.alloc(0)): StreamOpener {
    checkContext(context);
    checkAad(aad);
    return new StreamOpener(
      (version) => this.keyring.decryptionKeys(version, context),
      context,
      aad,
      this.maxPayloadBytes,
    );
  }

  /** Versions and their states, newest first, with the messages this process sealed. */
  keys(): KeyVersionReport[] {
    return this.keyring.states(this.encryptVersion).map((entry) => ({
      ...entry,
      messages: this.counter.count(entry.version),
    }));
  }

  /** Returns the next automatic rotation, or undefined without automatic rotation. */
  nextRotation(): NextRotation | undefined {
    if (this.rotation === undefined) return undefined;
    return this.rotation.next(this.keyring.usableVersions(), this.encryptVersion);
  }

  #count(version: number, messages: number): void {
    this.counter.add(version, messages);
    this.#observer.sealed(version, messages);
  }
}

function checkContext(context: string): void {
  if (!CONTEXT_PATTERN.test(context)) {
    throw new CryptoError(
      'crypto_invalid_request',
      `the context must be 1 to ${MAX_CONTEXT_LENGTH} printable ASCII characters without spaces`,
    );
  }
}

function checkAad(aad: Buffer): void {
  if (aad.length > MAX_AAD_BYTES) {
    throw new CryptoError(
      'crypto_invalid_request',
      `the additional data has ${aad.length} bytes; the maximum is ${MAX_AAD_BYTES}`,
    );
  }
}
