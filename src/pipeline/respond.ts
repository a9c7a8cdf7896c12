import type { ServerResponse } from 'node:http';
import type { GatewayError } from '../errors/gateway-error.js';
import { renderProblem } from '../errors/problem.js';
import type { GatewayMetrics } from '../monitoring/metrics.js';
import { requestEventFields } from '../monitoring/events/request-fields.js';
import { publishRejection } from '../monitoring/security-events.js';
import type { RequestContext } from './context.js';
import { hasRequestBody } from './request-body.js';
import type { DirectAnswer } from './stage.js';

/**
 * Answers a rejected request with its problem+json body, and records one security event. The
 * internal reason goes to the logs only. When the request body was not read to its end, the
 * connection is closed after the answer rather than drained.
 */
export function sendRejection(
  context: RequestContext,
  response: ServerResponse,
  error: GatewayError,
  metrics: GatewayMetrics,
): void {
  context.outcome = 'rejected';
  context.errorCode = error.code;
  context.errorReason = error.reason;
  const route = context.route?.name ?? 'none';
  metrics.rejections.inc({ route, code: error.code });
  publishRejection(context.events, requestEventFields(context), {
    code: error.code,
    reason: error.reason,
    fields: error.event,
  });
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const problem = renderProblem(
    error.code,
    context.requestId,
    error.detail,
    error.errors,
    error.status,
  );
  // CORS headers too, so that a page on an allowed origin can read why it was rejected.
  const headers: Record<string, string> = {
    ...context.corsHeaders,
    ...error.headers,
    ...problem.headers,
  };
  if (!context.req.complete && hasRequestBody(context)) headers['connection'] = 'close';
  response.writeHead(problem.status, headers);
  response.end(problem.body);
}

/** Sends a response that the gateway produces itself, such as an allowed CORS preflight. */
export function sendAnswer(
  context: RequestContext,
  response: ServerResponse,
  answer: DirectAnswer,
): void {
  context.outcome = 'answered';
  const headers: Record<string, string> = {
    ...answer.headers,
    'content-length': '0',
    'x-request-id': context.requestId,
  };
  if (!context.req.complete && hasRequestBody(context)) headers['connection'] = 'close';
  response.writeHead(answer.status, headers);
  response.end();
}
