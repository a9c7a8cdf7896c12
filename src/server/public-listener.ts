import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../monitoring/logger.js';
import type { GatewayMetrics } from '../monitoring/metrics.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { WebSocketProxy } from '../proxy/websocket.js';
import { requestIdFrom } from '../proxy/request-id.js';
import type { ErrorCode } from '../errors/catalogue.js';
import { GatewayError } from '../errors/gateway-error.js';
import { renderProblem } from '../errors/problem.js';
import type { EventHub } from '../monitoring/events/hub.js';
import { requestEventFields } from '../monitoring/events/request-fields.js';
import { publishRejection } from '../monitoring/security-events.js';
import { DirectAnswer } from '../pipeline/stage.js';
import { canonicalAddress } from '../pipeline/stages/client-ip.js';
import { clientErrorCode, writeRawProblem } from './client-error.js';
import { createListenerServer, type LoadedListenerTls } from './tls-listener.js';

/**
 * Creates the client-facing listener with the listener limits of the configuration. With
 * `tls`, it serves HTTPS.
 */
export function createPublicServer(options: {
  limits: GatewayConfig['limits'];
  pipeline: Pipeline;
  websockets: WebSocketProxy;
  metrics: GatewayMetrics;
  log: Logger;
  events: EventHub;
  tls?: LoadedListenerTls | undefined;
}): Server {
  const { limits, pipeline, websockets, metrics, log, events, tls } = options;
  const requestsBySocket = new WeakMap<Socket, number>();
  const server = createListenerServer(
    {
      maxHeaderSize: limits.max_header_bytes,
      headersTimeout: limits.headers_timeout,
      requestTimeout: limits.request_timeout,
      keepAliveTimeout: limits.keep_alive_timeout,
      // Node checks both timeouts on this interval; a second keeps them close to configured.
      connectionsCheckingInterval: 1_000,
      // The accept stage rejects a missing Host itself, with a problem body and an event,
      // where Node would send a bare 400.
      requireHostHeader: false,
    },
    (req, response) => {
      // Counted here, not with Node's maxRequestsPerSocket, because Node 20 then only sends
      // "Connection: close" on the last response. It keeps the connection open until the
      // keep-alive timeout and responds to further requests with a bare 503. A response without
      // keep-alive makes Node close the connection once the response has ended.
      const served = (requestsBySocket.get(req.socket) ?? 0) + 1;
      requestsBySocket.set(req.socket, served);
      const maxRequests = limits.max_requests_per_socket;
      if (maxRequests > 0 && served >= maxRequests) response.shouldKeepAlive = false;
      void pipeline.handle(req, response);
    },
    tls,
    log,
    // Node's default of 120 s would let a client hold a connection far longer without
    // finishing the handshake than without sending its headers.
    limits.headers_timeout,
  );
  // One field over the limit, so that the accept stage sees the excess instead of Node
  // discarding it silently.
  server.maxHeadersCount = limits.max_headers + 1;

  // Rejections made before a request context exists: one metric and one security event each.
  const recordEarlyRejection = (
    socket: Socket,
    code: ErrorCode,
    reason: string,
    requestId: string,
  ) => {
    metrics.rejections.inc({ route: 'none', code });
    const address = canonicalAddress(socket.remoteAddress);
    publishRejection(
      events,
      { route: 'none', client_ip: address, peer: address, request_id: requestId },
      { code, reason },
    );
  };
  const rejectRaw = (socket: Socket, code: ErrorCode, reason: string, requestId: string) => {
    recordEarlyRejection(socket, code, reason, requestId);
    writeRawProblem(socket, code, requestId);
  };

  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const code = clientErrorCode(error);
    // A client that reset its own connection cannot read a response.
    if (error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    rejectRaw(socket, code, error.code ?? 'parse error', requestIdFrom(undefined));
  });

  // Without this handler, Node sends a bare 417 for an Expect other than 100-continue.
  server.on('checkExpectation', (req, response) => {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    recordEarlyRejection(req.socket, 'expectation_failed', 'unsupported Expect value', requestId);
    const problem = renderProblem('expectation_failed', requestId);
    response.writeHead(problem.status, { ...problem.headers, connection: 'close' });
    response.end(problem.body);
  });

  // CONNECT tunnels are not proxied; without a listener Node would close the socket silently.
  server.on('connect', (req, socket: Socket) => {
    rejectRaw(socket, 'method_not_allowed', 'CONNECT', requestIdFrom(req.headers['x-request-id']));
  });

  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    void (async () => {
      const context = pipeline.createContext(req, undefined);
      // Held resources, such as concurrency slots, last as long as the connection.
      socket.once('close', () => {
        for (const release of context.cleanup) release();
      });
      const result = await pipeline.runStages(context);
      // Preflights are never upgrades (see the route stage), so an answer here is a bug.
      const rejection =
        result instanceof DirectAnswer
          ? new GatewayError('internal_error', 'direct answer to an upgrade request')
          : result;
      if (rejection) {
        const route = context.route?.name ?? 'none';
        metrics.rejections.inc({ route, code: rejection.code });
        publishRejection(context.events, requestEventFields(context), {
          code: rejection.code,
          reason: rejection.reason,
          fields: rejection.event,
        });
        writeRawProblem(
          socket,
          rejection.code,
          context.requestId,
          rejection.headers,
          rejection.status,
        );
        return;
      }
      context.log.info(
        { route: context.route?.name, client_ip: context.clientIp },
        'websocket upgrade',
      );
      websockets.upgrade(context, socket, head);
    })().catch((error: unknown) => {
      log.error({ err: error }, 'upgrade failed unexpectedly');
      writeRawProblem(socket, 'internal_error');
    });
  });
  return server;
}
