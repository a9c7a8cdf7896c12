import type { ServerResponse } from 'node:http';
import { writeAccessLine, type Logger } from '../monitoring/logger.js';
import type { GatewayMetrics } from '../monitoring/metrics.js';
import type { RequestContext } from './context.js';

const NANOSECONDS_PER_SECOND = 1e9;
/** The status logged for a request whose client left first, as NGINX does. */
const CLIENT_CLOSED_REQUEST = 499;

/** Writes the access log line to `log` and the request metrics once the response has closed. */
export function recordRequest(
  context: RequestContext,
  response: ServerResponse,
  metrics: GatewayMetrics,
  log: Logger,
): void {
  const endedAt = process.hrtime.bigint();
  // A response that the gateway itself cut keeps the outcome that gives the reason.
  const aborted =
    !response.writableFinished &&
    context.outcome !== 'upstream_failed' &&
    context.outcome !== 'response_blocked';
  if (aborted) context.outcome = 'aborted';
  const status = aborted ? CLIENT_CLOSED_REQUEST : response.statusCode;
  const route = context.route?.name ?? 'none';

  const totalSeconds = Number(endedAt - context.startedAt) / NANOSECONDS_PER_SECOND;
  const upstreamSeconds =
    context.upstreamStartedAt === undefined
      ? undefined
      : Number((context.upstreamEndedAt ?? endedAt) - context.upstreamStartedAt) /
        NANOSECONDS_PER_SECOND;
  const gatewaySeconds = totalSeconds - (upstreamSeconds ?? 0);

  metrics.observeRequest(route, context.method, status, {
    totalSeconds,
    gatewaySeconds,
    upstreamSeconds,
  });

  // Level by outcome: upstream failures are for operators to look at, the rest is traffic.
  writeAccessLine(log, status >= 500 ? 'warn' : 'info', {
    request_id: context.requestId,
    route,
    method: context.method,
    path: context.target?.path,
    host: context.host,
    status,
    outcome: context.outcome ?? 'forwarded',
    code: context.errorCode,
    reason: context.errorReason,
    client_ip: context.clientIp,
    peer: context.peerAddress,
    duration_ms: round(totalSeconds * 1_000),
    gateway_ms: round(gatewaySeconds * 1_000),
    upstream_ms: upstreamSeconds === undefined ? undefined : round(upstreamSeconds * 1_000),
    bytes_in: context.bytesIn,
    bytes_out: context.socket.bytesWritten - context.socketBytesWrittenAtStart,
  });
}

function round(milliseconds: number): number {
  return Math.round(milliseconds * 1_000) / 1_000;
}
