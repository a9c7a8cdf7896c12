import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { handleAlertsRequest, type AlertsApiOptions } from '../alerts/admin-api.js';
import type { Logger } from '../monitoring/logger.js';
import type { GatewayMetrics } from '../monitoring/metrics.js';
import { handleRevocationRequest, type RevocationApiOptions } from '../revocation/admin-api.js';
import type { AdminToken } from '../revocation/admin-token.js';
import { handleCryptoRequest, type CryptoApi } from './crypto-api.js';
import { handleEventsRequest, type EventsApiOptions } from './events-api.js';
import type { ReloadOutcome } from './policy-reloader.js';
import type { Readiness } from './readiness.js';
import { createListenerServer, type LoadedListenerTls } from './tls-listener.js';

/** Result of `POST /admin/reload`: the policy's outcome, and the crypto keys' when on. */
export interface ReloadReport {
  outcome: ReloadOutcome;
  crypto?: ReloadOutcome;
}

/**
 * The admin listener: liveness, readiness and Prometheus metrics. With `tls`, it serves HTTPS,
 * and checks client certificates when `tls` names client CAs.
 */
export function createAdminServer(options: {
  metrics: GatewayMetrics;
  readiness: Readiness;
  log: Logger;
  /** The revocation API; absent when no `admin.token_file` is configured. */
  revocationApi?: RevocationApiOptions | undefined;
  /** `POST /admin/reload`; absent when no `admin.token_file` is configured. */
  reload?: { adminToken: AdminToken; run: (trigger: string) => Promise<ReloadReport> } | undefined;
  tls?: LoadedListenerTls | undefined;
  /** The encryption API under /v1/crypto/; absent unless `crypto.enabled`. */
  cryptoApi?: CryptoApi | undefined;
  /** `GET /admin/events`; absent without `admin.token_file` or without an event store to read. */
  eventsApi?: EventsApiOptions | undefined;
  /** `/admin/blocks` and `/admin/alerts`; absent without `admin.token_file`. */
  alertsApi?: AlertsApiOptions | undefined;
}): Server {
  const { metrics, readiness, log, revocationApi, reload, tls, cryptoApi, eventsApi, alertsApi } =
    options;
  const handler: RequestListener = (req, response) => {
    if (cryptoApi !== undefined && handleCryptoRequest(req, response, cryptoApi)) return;
    if (revocationApi !== undefined && handleRevocationRequest(req, response, revocationApi)) {
      return;
    }
    if (eventsApi !== undefined && handleEventsRequest(req, response, eventsApi)) return;
    if (alertsApi !== undefined && handleAlertsRequest(req, response, alertsApi)) return;
    if (reload !== undefined && (req.url ?? '').split('?')[0] === '/admin/reload') {
      handleReload(req, response, reload, log);
      return;
    }
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
        let status = ready ? 'ready' : 'upstream unreachable';
        if (readiness.draining) status = 'draining';
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
  };
  return createListenerServer({}, handler, tls, log);
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

const ADMIN_BEARER = /^Bearer +(\S+) *$/i;

function handleReload(
  req: IncomingMessage,
  response: ServerResponse,
  reload: { adminToken: AdminToken; run: (trigger: string) => Promise<ReloadReport> },
  log: Logger,
): void {
  if (req.method !== 'POST') {
    sendJson(response, 405, { status: 'method not allowed' }, { allow: 'POST' });
    return;
  }
  const presented = ADMIN_BEARER.exec(req.headers.authorization ?? '')?.[1];
  if (presented === undefined || !reload.adminToken.matches(presented)) {
    sendJson(response, 401, { status: 'unauthorized' }, { 'www-authenticate': 'Bearer' });
    return;
  }
  req.resume();
  reload.run('admin_api').then(
    (report) => {
      const rejected = report.outcome === 'rejected' || report.crypto === 'rejected';
      sendJson(response, rejected ? 422 : 200, report);
    },
    (error: unknown) => {
      log.error({ err: error }, 'policy reload failed');
      sendJson(response, 500, { status: 'policy reload failed' });
    },
  );
}
