import { GatewayError } from '../errors/gateway-error.js';
import type { ErrorCode } from '../errors/catalogue.js';
import type { ProblemFieldError } from '../errors/problem.js';
import type { RequestContext } from './context.js';

/** A response the gateway sends itself, without the upstream, such as a CORS preflight response. */
export class DirectAnswer {
  constructor(
    readonly status: number,
    readonly headers: Readonly<Record<string, string>>,
  ) {}
}

/** A stage's verdict: let the request go on, reject it with a catalogue code, or answer it. */
export type Decision =
  | { readonly action: 'continue' }
  | { readonly action: 'reject'; readonly error: GatewayError }
  | { readonly action: 'respond'; readonly answer: DirectAnswer };

/**
 * One step of the request path. A stage may add to the context; it never writes the response,
 * and it never reaches back into an earlier stage.
 */
export interface Stage {
  readonly name: string;
  run(context: RequestContext): Decision | Promise<Decision>;
}

export const CONTINUE: Decision = Object.freeze({ action: 'continue' });

export function reject(
  code: ErrorCode,
  reason: string,
  headers?: Record<string, string>,
): Decision {
  return { action: 'reject', error: new GatewayError(code, reason, { headers }) };
}

/** Rejects with a `detail` that tells the client what to fix; see GatewayError.detail. */
export function rejectWithDetail(code: ErrorCode, reason: string, detail: string): Decision {
  return { action: 'reject', error: new GatewayError(code, reason, { detail }) };
}

/** Responds to the request from the gateway, with no body. */
export function respond(status: number, headers: Record<string, string>): Decision {
  return { action: 'respond', answer: new DirectAnswer(status, headers) };
}

/** Rejects with a `detail` and the fields that failed a check; see GatewayError.errors. */
export function rejectWithErrors(
  code: ErrorCode,
  reason: string,
  detail: string,
  errors: readonly ProblemFieldError[],
): Decision {
  return { action: 'reject', error: new GatewayError(code, reason, { detail, errors }) };
}
