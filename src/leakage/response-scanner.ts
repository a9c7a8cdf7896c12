import { Transform, type TransformCallback } from 'node:stream';
import { PassThroughScanner, type BodyScanner } from './body/body-scanner.js';
import { JsonBodyScanner } from './body/json-body.js';
import { NdjsonFormat } from './body/ndjson-format.js';
import { RecordBodyScanner } from './body/record-body.js';
import { SseFormat } from './body/sse-format.js';
import { TextBodyScanner } from './body/text-body.js';
import { contentCodings, createDecoderChain, RATIO_CHECK_AFTER } from './decompress.js';
import { bodyFormatOf, textDecodingOf, type BodyFormat } from './formats/content-type.js';
import { RecordStreams } from './formats/record-streams.js';
import { ChunkDecoder } from './formats/text-decoder.js';
import type { CompiledLeakagePolicy } from './policy/compile.js';
import {
  ScanSession,
  type BlockCause,
  type LeakageHooks,
  type ScanCounters,
} from './scan-session.js';

/** The response headers that decide how a body is scanned. */
export interface ScannedResponseHeaders {
  'content-type'?: string | undefined;
  'content-encoding'?: string | undefined;
}

/** The scan plan of a response, decided from its headers before the body arrives. */
export interface ResponseScanPlan {
  format: BodyFormat;
  /** True when the body passes unchanged (binary types, or scanning disabled). */
  passThrough: boolean;
  /** Headers the caller must remove before sending, because the body may change. */
  removeHeaders: string[];
  /**
   * True when the caller should send headers only with the first output chunk (or at the end),
   * so that a block before any output can still be an error response. That holds for every
   * scanned format but SSE, whose headers must reach the client at once.
   */
  deferHeaders: boolean;
}

/** Decides how to scan a response; see ResponseScanPlan. */
export function planResponseScan(
  policy: CompiledLeakagePolicy,
  headers: ScannedResponseHeaders,
): ResponseScanPlan {
  const format = bodyFormatOf(headers['content-type']);
  if (!policy.enabled || format === 'binary') {
    return { format, passThrough: true, removeHeaders: [], deferHeaders: false };
  }
  const removeHeaders = ['content-length', 'etag', 'content-md5', 'digest', 'content-digest'];
  if (headers['content-encoding'] !== undefined) removeHeaders.push('content-encoding');
  return { format, passThrough: false, removeHeaders, deferHeaders: format !== 'sse' };
}

/**
 * A Transform from the upstream body (as received, possibly compressed) to the body to send:
 * decompressed, scanned and redacted. Emits `blocked` with a BlockCause when a `block` action
 * or a limit stops the response. The readable side then ends, after the format's error record
 * for SSE and NDJSON or at once for JSON and text, and later input is discarded. The caller
 * should then abort the upstream request, and for text bodies destroy the client connection.
 *
 * A block that the headers alone decide (an unsupported charset or Content-Encoding) is set when
 * the transform is created. Then `blocked` is defined at once and no `blocked` event is emitted.
 * The transform outputs nothing, so the caller can send an error response instead.
 */
export class LeakageTransform extends Transform {
  readonly plan: ResponseScanPlan;
  private readonly session: ScanSession;
  private readonly scanner: BodyScanner;
  private decoder: { input: Transform; output: Transform } | undefined;
  private compressedBytes = 0;
  private decompressedBytes = 0;
  private ended = false;
  /** The callback of the chunk the decoder is working on; a failed decoder never calls it. */
  private pendingWrite: TransformCallback | undefined;
  /** The flush callback, while the decoder drains at the end of the body. */
  private pendingFlush: TransformCallback | undefined;

  constructor(
    policy: CompiledLeakagePolicy,
    headers: ScannedResponseHeaders,
    hooks: LeakageHooks = {},
  ) {
    super();
    this.plan = planResponseScan(policy, headers);
    this.session = new ScanSession(policy, hooks);
    this.scanner = this.createScanner(headers);
    if (!this.plan.passThrough && !this.session.blocked) {
      this.setUpDecoder(headers['content-encoding']);
    }
    if (this.session.blocked) {
      this.ended = true;
      this.push(null);
    }
  }

  /** The reason the response was stopped, if it was. */
  get blocked(): BlockCause | undefined {
    return this.session.blocked;
  }

  get counters(): ScanCounters {
    return this.session.counters;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.ended) return callback();
    if (!this.decoder) {
      this.emitOutput(this.scanner.push(chunk));
      return callback();
    }
    this.compressedBytes += chunk.length;
    this.pendingWrite = callback;
    this.decoder.input.write(chunk, () => this.finishWrite());
  }

  private finishWrite(): void {
    const callback = this.pendingWrite;
    this.pendingWrite = undefined;
    callback?.();
  }

  override _flush(callback: TransformCallback): void {
    if (this.ended || !this.decoder) {
      if (!this.ended) this.emitOutput(this.scanner.end());
      return callback();
    }
    this.pendingFlush = callback;
    this.decoder.output.once('end', () => {
      if (!this.ended) this.emitOutput(this.scanner.end());
      this.finishFlush();
    });
    this.decoder.input.end();
  }

  private finishFlush(): void {
    const callback = this.pendingFlush;
    this.pendingFlush = undefined;
    callback?.();
  }

  private createScanner(headers: ScannedResponseHeaders): BodyScanner {
    const counters = this.session.counters;
    if (this.plan.passThrough) {
      return new PassThroughScanner((bytes) => (counters.unscannedBytes += bytes));
    }
    let decoding = textDecodingOf(headers['content-type']);
    if (decoding === 'unsupported') {
      this.session.limit('unsupported_charset', 'block');
      // The format's scanner is still built, and Latin-1 maps every byte to a character, so that
      // input reaching it after the block is dropped as after any other block, never passed on.
      decoding = 'latin1';
    }
    const decoder = new ChunkDecoder(decoding);
    const session = this.session;
    switch (this.plan.format) {
      case 'json':
        return new JsonBodyScanner(session, decoder);
      case 'sse': {
        const streams = new RecordStreams(session);
        return new RecordBodyScanner(session, decoder, streams, new SseFormat(session, streams));
      }
      case 'ndjson': {
        const streams = new RecordStreams(session);
        return new RecordBodyScanner(session, decoder, streams, new NdjsonFormat(session, streams));
      }
      default:
        return new TextBodyScanner(session, decoder);
    }
  }

  private setUpDecoder(contentEncoding: string | undefined): void {
    const codings = contentCodings(contentEncoding);
    if (codings === undefined) {
      this.session.limit('unsupported_encoding', 'block');
      return;
    }
    if (codings.length === 0) return;
    const decoder = createDecoderChain(codings);
    // NOTE: decompressed data is pushed without waiting for the reader. The decoder only runs
    // when a compressed chunk arrives, so buffering follows the upstream's pace, but a slow
    // client does not slow decompression down.
    decoder.output.on('data', (data: Buffer) => this.onDecompressed(data));
    decoder.output.on('error', () => {
      this.session.limit('invalid_compressed_data', 'block');
      this.emitOutput(this.scanner.push(Buffer.alloc(0)));
    });
    this.decoder = decoder;
  }

  private onDecompressed(data: Buffer): void {
    if (this.ended) return;
    this.decompressedBytes += data.length;
    const { max_decompressed_size: maxSize, max_compression_ratio: maxRatio } =
      this.session.policy.limits;
    if (this.decompressedBytes > maxSize) {
      this.session.limit('max_decompressed_size', 'block');
    } else if (
      this.decompressedBytes > RATIO_CHECK_AFTER &&
      this.decompressedBytes > maxRatio * this.compressedBytes
    ) {
      this.session.limit('max_compression_ratio', 'block');
    }
    this.emitOutput(
      this.session.blocked ? this.scanner.push(Buffer.alloc(0)) : this.scanner.push(data),
    );
  }

  /** Pushes output; after a block, ends the readable side once. */
  private emitOutput(chunks: Buffer[]): void {
    if (this.ended) return;
    for (const chunk of chunks) this.push(chunk);
    if (this.session.blocked) {
      this.ended = true;
      this.decoder?.output.removeAllListeners('data');
      this.decoder?.input.destroy();
      this.emit('blocked', this.session.blocked);
      this.push(null);
      this.finishWrite();
      this.finishFlush();
    }
  }
}
