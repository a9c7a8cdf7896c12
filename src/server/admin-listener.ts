import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../monitoring/logger.js';
import type { GatewayMetrics } from '../monitoring/metrics.js';
import type { Readiness } from './readiness.js';

/** The admin listener: liveness, readiness and Prometheus metrics. */
export function createAdminServer(options: {
  metrics: GatewayMetrics;
  readiness: Readiness;
  log: Logger;
}): Server {
  const { metrics, readiness, log } = options;
  return createServer((req, response) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(response, 405, { status: 'method not allowed' }, { allow: 'GET, HEAD' });
      return;
    }
    switch (path) {
      case '/healthz':
        sendJson(response, 200, { status: 'ok' });
        return;
      case '/readyz': {
        const ready = readiness.isReady();
        const status = readiness.draining ? 'draining' : ready ? 'ready' : 'upstream unreachable';
        sendJson(response, ready ? 200 : 503, { status });
        return;
      }
      case '/metrics':
        metrics.registry.metrics().then(
          (text) => {
            response.writeHead(200, { 'content-type': metrics.registry.contentType });
            response.end(text);
          },
          (error: unknown) => {
            log.error({ err: error }, 'metrics collection failed');
            sendJson(response, 500, { status: 'metrics collection failed' });
          },
        );
        return;
      default:
        sendJson(response, 404, { status: 'not found' });
    }
  });
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: object,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  });
  response.end(text);
}
