import type { RejectionEventFields } from '../monitoring/security-events.js';
import { ERROR_CATALOGUE, type ErrorCode } from './catalogue.js';
import type { ProblemFieldError } from './problem.js';

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
  /**
   * The request fields that failed a check, sent as the problem's `errors`. Like `detail`, each
   * entry is written by the gateway and names the field without its value.
   */
  readonly errors: readonly ProblemFieldError[] | undefined;
  /** Fields added to the rejection's security event, such as the rules that matched. */
  readonly event: RejectionEventFields | undefined;

  constructor(
    code: ErrorCode,
    reason: string,
    options?: {
      cause?: unknown;
      headers?: Record<string, string>;
      detail?: string;
      errors?: readonly ProblemFieldError[];
      event?: RejectionEventFields;
      /**
       * The response status, for the codes whose status is the policy's choice (a
       * `temporarily_blocked` block responds with 429 or 403); the catalogue's status otherwise.
       */
      status?: number;
    },
  ) {
    super(`${code}: ${reason}`, options);
    this.name = 'GatewayError';
    this.code = code;
    this.status = options?.status ?? ERROR_CATALOGUE[code].status;
    this.reason = reason;
    this.headers = options?.headers ?? {};
    this.detail = options?.detail;
    this.errors = options?.errors;
    this.event = options?.event;
  }
}
