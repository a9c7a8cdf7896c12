import { ERROR_CATALOGUE, type ErrorCode } from './catalogue.js';

/**
 * A request failure with a catalogue code. `reason` is internal: it is logged, never sent to the
 * client.
 */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly reason: string;
  /** Response headers that belong to this failure, such as `Allow` on a 405. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ErrorCode,
    reason: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(`${code}: ${reason}`, options);
    this.name = 'GatewayError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.reason = reason;
    this.headers = options?.headers ?? {};
  }
}
