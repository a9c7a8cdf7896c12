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
  /**
   * What the client should fix, sent as the problem's `detail`. Written by the gateway, never
   * copied from the request, so that no request value is echoed back.
   */
  readonly detail: string | undefined;
  /** Fields added to the rejection's security event, such as the rules that matched. */
  readonly event: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    reason: string,
    options?: {
      cause?: unknown;
      headers?: Record<string, string>;
      detail?: string;
      event?: Record<string, unknown>;
    },
  ) {
    super(`${code}: ${reason}`, options);
    this.name = 'GatewayError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.reason = reason;
    this.headers = options?.headers ?? {};
    this.detail = options?.detail;
    this.event = options?.event;
  }
}
