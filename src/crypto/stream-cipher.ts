import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ByteQueue } from './byte-queue.js';
import {
  computeAadCheck,
  computeContextCheck,
  computeStreamHeaderIntegrity,
} from './check-values.js';
import { CryptoError } from './errors.js';
import { NONCE_BYTES, SEGMENT_BYTES, TAG_BYTES, type Segment } from './format.js';
import type { MessageKeys } from './keyring.js';
import { openSegment, sealSegment } from './segment-cipher.js';
import {
  formatStreamHeader,
  FULL_STREAM_SEGMENT_BYTES,
  parseStreamHeader,
  SEGMENT_OVERHEAD_BYTES,
  STREAM_HEADER_BYTES,
  STREAM_LABEL,
  streamLength,
} from './stream-format.js';

/**
 * Encrypts a plaintext that arrives in chunks into the streaming form, holding at most one
 * segment and one chunk. A full segment is sealed only once more input shows that it is not the
 * last, because the last segment carries the final flag.
 */
export class StreamSealer {
  readonly version: number;
  /** The stream header, to send before the first segment. */
  readonly header: Buffer;
  readonly #keys: MessageKeys;
  readonly #context: string;
  readonly #aad: Buffer;
  readonly #maxPlaintextBytes: number;
  readonly #onSealed: (version: number) => void;
  readonly #pending = new ByteQueue();
  readonly #firstNonce = randomBytes(NONCE_BYTES);
  #index = 0;
  #plaintextBytes = 0;
  #finished = false;

  /** `onSealed` runs once per sealed segment, which is one GCM message. */
  constructor(
    keys: MessageKeys,
    context: string,
    aad: Buffer,
    maxPlaintextBytes: number,
    onSealed: (version: number) => void,
  ) {
    this.version = keys.version;
    this.#keys = keys;
    this.#context = context;
    this.#aad = aad;
    this.#maxPlaintextBytes = maxPlaintextBytes;
    this.#onSealed = onSealed;
    const contextCheck = computeContextCheck(keys, context, this.#firstNonce);
    const aadCheck = computeAadCheck(keys, context, aad, this.#firstNonce);
    const integrity = computeStreamHeaderIntegrity(keys, contextCheck, aadCheck, this.#firstNonce);
    this.header = formatStreamHeader({ version: keys.version, contextCheck, aadCheck, integrity });
  }

  /**
   * Adds plaintext and returns the segments now known not to be the last, each as its nonce,
   * ciphertext and tag, in order. Raises `crypto_payload_too_large` once the plaintext exceeds
   * the maximum.
   */
  update(chunk: Buffer): Buffer[] {
    if (this.#finished) throw new RangeError('the stream is already finished');
    this.#plaintextBytes += chunk.length;
    if (this.#plaintextBytes > this.#maxPlaintextBytes) {
      throw new CryptoError(
        'crypto_payload_too_large',
        `the plaintext has more than ${this.#maxPlaintextBytes} bytes`,
      );
    }
    this.#pending.push(chunk);
    const sealed: Buffer[] = [];
    while (this.#pending.length > SEGMENT_BYTES) {
      sealed.push(...this.#seal(this.#pending.take(SEGMENT_BYTES), false));
    }
    return sealed;
  }

  /** Seals what is left, possibly nothing, as the last segment and returns its three parts. */
  final(): Buffer[] {
    if (this.#finished) throw new RangeError('the stream is already finished');
    this.#finished = true;
    return this.#seal(this.#pending.takeAll(), true);
  }

  /** Seals one segment; its parts are written one after the other, which saves a copy. */
  #seal(plaintext: Buffer, final: boolean): Buffer[] {
    const nonce = this.#index === 0 ? this.#firstNonce : randomBytes(NONCE_BYTES);
    const position = { label: STREAM_LABEL, index: this.#index, final };
    const segment = sealSegment(this.#keys, this.#context, this.#aad, position, nonce, plaintext);
    this.#index++;
    this.#onSealed(this.#keys.version);
    return [segment.nonce, segment.ciphertext, segment.tag];
  }
}

/**
 * Decrypts a stream that arrives in chunks, holding at most one segment and one chunk, and
 * checking in an order that names the cause. The header integrity value comes first and is
 * keyed per version, so a changed header or first nonce is `crypto_ciphertext_tampered`. The
 * context and aad checks follow, then each segment's GCM tag. A full segment is opened as soon
 * as more input follows it; the segment that the end follows must carry the final flag.
 */
export class StreamOpener {
  readonly #keysOf: (version: number) => MessageKeys;
  readonly #context: string;
  readonly #aad: Buffer;
  readonly #maxStreamBytes: number;
  readonly #pending = new ByteQueue();
  #keys: MessageKeys | undefined;
  #index = 0;
  #streamBytes = 0;
  #finished = false;

  /**
   * `keysOf` returns the keys of the header's version for this context, or raises
   * `crypto_key_version_unknown` or `crypto_key_version_retired`.
   */
  constructor(
    keysOf: (version: number) => MessageKeys,
    context: string,
    aad: Buffer,
    maxPlaintextBytes: number,
  ) {
    this.#keysOf = keysOf;
    this.#context = context;
    this.#aad = aad;
    this.#maxStreamBytes = streamLength(maxPlaintextBytes);
  }

  /** The key version of the stream, once its header has been read. */
  get version(): number | undefined {
    return this.#keys?.version;
  }

  /** Adds ciphertext and returns the plaintext of every segment now authenticated. */
  update(chunk: Buffer): Buffer[] {
    if (this.#finished) throw new RangeError('the stream is already finished');
    this.#streamBytes += chunk.length;
    if (this.#streamBytes > this.#maxStreamBytes) {
      throw new CryptoError(
        'crypto_payload_too_large',
        'the stream holds more plaintext than max_payload_bytes allows',
      );
    }
    this.#pending.push(chunk);
    if (this.#keys === undefined) {
      if (this.#pending.length < STREAM_HEADER_BYTES + NONCE_BYTES) return [];
      this.#readHeader();
    }
    const plaintexts: Buffer[] = [];
    while (this.#pending.length > FULL_STREAM_SEGMENT_BYTES) {
      plaintexts.push(this.#open(this.#pending.take(FULL_STREAM_SEGMENT_BYTES), false));
    }
    return plaintexts;
  }

  /**
   * Opens the last segment and returns its plaintext. Raises `crypto_ciphertext_truncated` when
   * that segment is authentic but was not sealed as the last one, which means the stream was
   * cut at a segment boundary.
   */
  final(): Buffer {
    if (this.#finished) throw new RangeError('the stream is already finished');
    this.#finished = true;
    if (this.#keys === undefined) {
      if (this.#pending.length < STREAM_HEADER_BYTES + NONCE_BYTES) {
        throw malformed('the stream is shorter than a header and one segment');
      }
      this.#readHeader();
    }
    if (this.#pending.length < SEGMENT_OVERHEAD_BYTES) {
      throw malformed('the last segment is shorter than a nonce and a tag');
    }
    return this.#open(this.#pending.takeAll(), true);
  }

  #readHeader(): void {
    const header = parseStreamHeader(this.#pending.take(STREAM_HEADER_BYTES));
    const keys = this.#keysOf(header.version);
    // The first nonce stays queued, because it is part of segment 0 too.
    const firstNonce = this.#pending.peek(NONCE_BYTES);
    const integrity = computeStreamHeaderIntegrity(
      keys,
      header.contextCheck,
      header.aadCheck,
      firstNonce,
    );
    if (!timingSafeEqual(integrity, header.integrity)) {
      throw new CryptoError(
        'crypto_ciphertext_tampered',
        'the stream header failed authentication',
      );
    }
    if (
      !timingSafeEqual(computeContextCheck(keys, this.#context, firstNonce), header.contextCheck)
    ) {
      throw new CryptoError(
        'crypto_context_mismatch',
        'the ciphertext was not encrypted under this context',
      );
    }
    const aadCheck = computeAadCheck(keys, this.#context, this.#aad, firstNonce);
    if (!timingSafeEqual(aadCheck, header.aadCheck)) {
      throw new CryptoError(
        'crypto_aad_mismatch',
        'the ciphertext was not encrypted with this additional data',
      );
    }
    this.#keys = keys;
  }

  #open(bytes: Buffer, final: boolean): Buffer {
    const keys = this.#keys!;
    const segment: Segment = {
      nonce: bytes.subarray(0, NONCE_BYTES),
      ciphertext: bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES),
      tag: bytes.subarray(bytes.length - TAG_BYTES),
    };
    const position = { label: STREAM_LABEL, index: this.#index, final };
    const plaintext = openSegment(keys, this.#context, this.#aad, position, segment);
    if (plaintext !== undefined) {
      this.#index++;
      return plaintext;
    }
    if (
      final &&
      openSegment(keys, this.#context, this.#aad, { ...position, final: false }, segment)
    ) {
      throw new CryptoError(
        'crypto_ciphertext_truncated',
        `the stream ends after segment ${this.#index}, which is not its last segment`,
      );
    }
    throw new CryptoError('crypto_ciphertext_tampered', 'the ciphertext failed authentication');
  }
}

function malformed(message: string): CryptoError {
  return new CryptoError('crypto_ciphertext_malformed', message);
}
