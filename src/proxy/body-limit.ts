import { Transform, type TransformCallback } from 'node:stream';
import { GatewayError } from '../errors/gateway-error.js';

/**
 * Passes a body through while counting it. Past the limit it sets `exceeded` and closes without
 * an error, which aborts the upstream request once. An 'error' event instead reaches undici
 * 7.30's stream() twice when the response has started, and it then throws an uncaught TypeError.
 */
export class BodyLimit extends Transform {
  readonly #maxBytes: number;
  bytes = 0;
  exceeded: GatewayError | undefined;

  constructor(maxBytes: number) {
    super();
    this.#maxBytes = maxBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.#maxBytes) {
      this.exceeded = new GatewayError('payload_too_large', `body exceeds ${this.#maxBytes} bytes`);
      this.destroy();
      return;
    }
    callback(null, chunk);
  }
}
