import { Transform, type TransformCallback } from 'node:stream';
import { GatewayError } from '../errors/gateway-error.js';

/** Passes a body through while counting it; errors with `payload_too_large` past the limit. */
export class BodyLimit extends Transform {
  readonly #maxBytes: number;
  bytes = 0;

  constructor(maxBytes: number) {
    super();
    this.#maxBytes = maxBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.#maxBytes) {
      callback(new GatewayError('payload_too_large', `body exceeds ${this.#maxBytes} bytes`));
      return;
    }
    callback(null, chunk);
  }
}
