import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Dispatcher } from 'undici';
import { applyCorsHeaders } from '../edge/cors.js';
import { applySecurityHeaders } from '../edge/security-headers.js';
import { GatewayError } from '../errors/gateway-error.js';
import { FLAG_HEADER } from '../inspection/flag-header.js';
import type { GatewayMetrics } from '../monitoring/metrics.js';
import type { RequestContext } from '../pipeline/context.js';
import { bodyLimitOf } from '../pipeline/request-body.js';
import { BodyLimit } from './body-limit.js';
import {
  clientResponseHeaders,
  forwardedNode,
  forwardedValue,
  upstreamRequestHeaders,
} from './headers.js';
import { upstreamQuery, withIdentityHeaders } from './identity.js';
import { recordDetection, recordScanLimit, recordUnscanned } from './leak-events.js';
import { scanResponse } from './response-scan.js';
import { classifyUpstreamError } from './upstream-errors.js';
import type { Upstream } from './upstream.js';

/**
 * Sends the request to the upstream and streams the response back with backpressure. Before the
 * response has started, failures are thrown as GatewayError for the caller to answer; after it
 * has started, the client connection is destroyed so that a cut body never looks complete.
 */
export async function forward(
  context: RequestContext,
  response: ServerResponse,
  upstream: Upstream,
  metrics: GatewayMetrics,
): Promise<void> {
  const body = requestBody(context);
  context.upstreamStartedAt = process.hrtime.bigint();
  try {
    await upstream.pool.stream(
      {
        method: context.method as Dispatcher.HttpMethod,
        path: upstreamPath(context, upstream),
        headers: buildHeaders(context, upstream),
        body,
        // NOTE: undici accepts any object with `aborted`, `reason` and add/removeEventListener
        // here, but its types name only AbortSignal and EventEmitter.
        signal: context.upstreamAbort as unknown as AbortSignal,
      },
      ({ statusCode, headers }) => {
        const outgoing = clientResponseHeaders(headers);
        Object.assign(outgoing, context.responseHeaders);
        outgoing['x-request-id'] = context.requestId;
        const route = context.route!;
        applySecurityHeaders(outgoing, route.securityHeaders, {
          tls: (context.socket as TLSSocket).encrypted === true,
          authenticated: context.identity !== undefined,
        });
        if (context.corsHeaders !== undefined) applyCorsHeaders(outgoing, context.corsHeaders);
        const leakage = route.leakage;
        if (leakage.enabled) {
          return scanResponse(context, response, {
            policy: leakage,
            statusCode,
            headers: outgoing,
            abortUpstream: () => {
              context.responseBlocked = true;
              context.upstreamAbort.abort();
            },
            onDetection: (detection) => recordDetection(context, metrics, detection),
            onLimit: (event) => recordScanLimit(context, metrics, event),
            onUnscanned: (reason) => recordUnscanned(context, metrics, reason),
            onBlock: (cause) => {
              context.outcome = 'response_blocked';
              context.errorCode = 'response_blocked';
              context.errorReason =
                cause.type === 'detection' ? `detector ${cause.detection.detector}` : cause.reason;
            },
          });
        }
        response.writeHead(statusCode, outgoing);
        // Server-sent events must reach the client as they are written, headers included.
        if (String(outgoing['content-type'] ?? '').startsWith('text/event-stream')) {
          response.flushHeaders();
        }
        return response;
      },
    );
    context.upstreamEndedAt = process.hrtime.bigint();
  } catch (error) {
    context.upstreamEndedAt = process.hrtime.bigint();
    if (context.responseBlocked) return;
    if (context.clientGone) {
      context.outcome = 'aborted';
      return;
    }
    const limitError = body instanceof BodyLimit ? body.exceeded : undefined;
    // After the response has started, undici destroys it with the upstream failure and then
    // rejects with a premature close, so the failure is read from the response.
    const failure =
      limitError instanceof GatewayError
        ? { kind: undefined, error: limitError }
        : classifyUpstreamError(response.errored ?? error);
    if (failure.kind) metrics.upstreamErrors.inc({ kind: failure.kind });
    if (response.headersSent) {
      context.outcome = 'upstream_failed';
      context.errorCode = failure.error.code;
      context.errorReason = failure.error.reason;
      response.destroy();
      return;
    }
    throw failure.error;
  }
}

function requestBody(context: RequestContext): Readable | Buffer | undefined {
  if (context.body !== undefined) return context.body;
  const { req } = context;
  const length = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (!chunked && (length === undefined || length === '0')) return undefined;
  const maxBytes = bodyLimitOf(context);
  if (!chunked) {
    // The length was checked against the limit before routing, and Node's parser never reads
    // past Content-Length, so the body can pass through untouched.
    context.bytesIn = Number(length);
    return req;
  }
  const limit = new BodyLimit(maxBytes);
  req.pipe(limit);
  req.on('error', (error) => limit.destroy(error));
  // Counted as it arrives, because the response can close, and the access log line be written,
  // before forward() returns.
  req.on('data', (chunk: Buffer) => {
    context.bytesIn += chunk.length;
  });
  return limit;
}

function upstreamPath(context: RequestContext, upstream: Upstream): string {
  const path = `${upstream.basePath}${context.target!.path}`;
  const query = upstreamQuery(context);
  return query === undefined ? path : `${path}?${query}`;
}

function buildHeaders(context: RequestContext, upstream: Upstream): string[] {
  const headers = withIdentityHeaders(context, upstreamRequestHeaders(context.req.rawHeaders));
  const proto = (context.req.socket as TLSSocket).encrypted ? 'https' : 'http';
  const clientHost = context.req.headers.host;
  headers.push('host', upstream.host);
  headers.push('x-forwarded-for', context.clientIp);
  headers.push('x-forwarded-proto', proto);
  if (clientHost !== undefined) headers.push('x-forwarded-host', clientHost);
  let forwarded = `for=${forwardedNode(context.clientIp)};proto=${proto}`;
  if (clientHost !== undefined) forwarded += `;host=${forwardedValue(clientHost)}`;
  headers.push('forwarded', forwarded);
  headers.push('x-request-id', context.requestId);
  if (context.inspectionFlag !== undefined) headers.push(FLAG_HEADER, context.inspectionFlag);
  return headers;
}
