import { GatewayError } from '../errors/gateway-error.js';
import type { ErrorCode } from '../errors/catalogue.js';
import type { RequestContext } from './context.js';

/** A stage's verdict: let the request go on, or reject it with a catalogue code. */
export type Decision =
  { readonly action: 'continue' } | { readonly action: 'reject'; readonly error: GatewayError };

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
