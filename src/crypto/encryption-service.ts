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
  /** Message count per version at which `observer.nearLimit` fires. */
  warnAfterMessages: number;
  observer?: EncryptionObserver | undefined;
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
  readonly #observer: EncryptionObserver;

  constructor(options: EncryptionServiceOptions) {
    this.keyring = options.keyring;
    this.maxPayloadBytes = options.maxPayloadBytes;
    this.#observer = options.observer ?? NO_OBSERVER;
    this.counter = new MessageCounter(options.warnAfterMessages, (version, messages) =>
      this.#observer.nearLimit(version, messages),
    );
  }

  /** Largest ciphertext string this service accepts, in characters. */
  get maxCiphertextLength(): number {
    return ciphertextLength(MAX_KEY_VERSION, this.maxPayloadBytes);
  }

  encrypt(context: string, plaintext: Buffer, aad: Buffer = Buffer.alloc(0)): string {
    return this.#encrypt(context, plaintext, aad);
  }

  decrypt(context: string, ciphertext: string, aad: Buffer = Buffer.alloc(0)): Buffer {
    return this.#decrypt(context, ciphertext, aad);
  }

  /**
   * Decrypts and encrypts again under the encrypting version, with the same context and aad. The
   * plaintext stays inside this method.
   */
  rewrap(context: string, ciphertext: string, aad: Buffer = Buffer.alloc(0)): string {
    const plaintext = this.#decrypt(context, ciphertext, aad);
    try {
      return this.#encrypt(context, plaintext, aad);
    } finally {
      plaintext.fill(0);
    }
  }

  /** Versions and their states, newest first, with the messages this process sealed. */
  keys(): { version: number; state: KeyVersionState; messages: number }[] {
    return this.keyring.states().map((entry) => ({
      ...entry,
      messages: this.counter.count(entry.version),
    }));
  }

  #encrypt(context: string, plaintext: Buffer, aad: Buffer): string {
    checkContext(context);
    checkAad(aad);
    if (plaintext.length > this.maxPayloadBytes) {
      throw new CryptoError(
        'crypto_payload_too_large',
        `the plaintext has ${plaintext.length} bytes; the maximum is ${this.maxPayloadBytes}`,
      );
    }
    const keys = this.keyring.encryptionKeys(context);
    const text = formatCiphertext(sealMessage(keys, context, plaintext, aad));
    const messages = segmentCount(plaintext.length);
    this.counter.add(keys.version, messages);
    this.#observer.sealed(keys.version, messages);
    return text;
  }

  #decrypt(context: string, ciphertext: string, aad: Buffer): Buffer {
    checkContext(context);
    checkAad(aad);
    const message = parseCiphertext(ciphertext, this.maxPayloadBytes);
    const keys = this.keyring.decryptionKeys(message.version, context);
    return openMessage(keys, context, message, aad);
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
