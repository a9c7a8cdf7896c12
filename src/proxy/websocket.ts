import type { IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createProxyServer } from 'http-proxy-3';
import type { GatewayMetrics } from '../monitoring/metrics.js';
import type { RequestContext } from '../pipeline/context.js';
import { FLAG_HEADER } from '../inspection/flag-header.js';
import { forwardedNode, upstreamRequestHeaders } from './headers.js';
import { upstreamQuery, withIdentityHeaders } from './identity.js';
import type { Upstream } from './upstream.js';

/**
 * Proxies WebSocket upgrades with http-proxy-3, after every stage of the request path has
 * passed. The request headers are rebuilt the same way as for plain HTTP, except that
 * `Connection` and `Upgrade` must reach the upstream for the handshake.
 */
export class WebSocketProxy {
  readonly #proxy = createProxyServer({ changeOrigin: true, xfwd: false, ws: true });
  readonly #upstream: Upstream;
  readonly #metrics: GatewayMetrics;
  readonly #sockets = new Set<Socket>();
  /** Agent for an https: upstream, with the options of `upstream.tls`. Unset for http:. */
  readonly #tlsAgent: HttpsAgent | undefined;

  constructor(upstream: Upstream, metrics: GatewayMetrics) {
    this.#upstream = upstream;
    this.#metrics = metrics;
    // http-proxy-3 copies only some TLS options from its target and none of `servername`.
    // Node gives an agent's options precedence over those of the request, so an agent carries
    // all of them.
    this.#tlsAgent = upstream.origin.startsWith('https:')
      ? new HttpsAgent({ rejectUnauthorized: true, ...upstream.tls })
      : undefined;
    // Without a listener, http-proxy-3 rethrows errors that have no callback.
    this.#proxy.on('error', () => undefined);
  }

  upgrade(context: RequestContext, socket: Socket, head: Buffer): void {
    const { req } = context;
    const target = context.target!;
    const query = upstreamQuery(context);
    req.url = `${this.#upstream.basePath}${target.path}${query === undefined ? '' : `?${query}`}`;
    rewriteHeaders(req, context);
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    const options = {
      target: this.#upstream.origin,
      agent: this.#tlsAgent,
      secure: this.#upstream.tls?.rejectUnauthorized ?? true,
    };
    this.#proxy.ws(req, socket, head, options, (error) => {
      this.#metrics.upstreamErrors.inc({ kind: 'other' });
      context.log.warn({ code: (error as { code?: string }).code }, 'websocket proxy failed');
      socket.destroy();
    });
  }

  /** Closes every proxied WebSocket connection, for shutdown. */
  close(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#proxy.close();
    this.#tlsAgent?.destroy();
  }
}

function rewriteHeaders(req: IncomingMessage, context: RequestContext): void {
  const kept = withIdentityHeaders(context, upstreamRequestHeaders(req.rawHeaders));
  const headers: Record<string, string> = {};
  for (let index = 0; index < kept.length; index += 2) {
    const name = kept[index]!.toLowerCase();
    // Repeated fields are joined with ", " (RFC 9110 section 5.3), except Cookie, whose pairs
    // are separated by "; " (RFC 6265 section 5.4).
    const separator = name === 'cookie' ? '; ' : ', ';
    headers[name] =
      headers[name] === undefined
        ? kept[index + 1]!
        : `${headers[name]}${separator}${kept[index + 1]!}`;
  }
  headers['connection'] = 'Upgrade';
  headers['upgrade'] = String(req.headers.upgrade);
  headers['x-forwarded-for'] = context.clientIp;
  const proto = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  headers['x-forwarded-proto'] = proto;
  headers['forwarded'] = `for=${forwardedNode(context.clientIp)};proto=${proto}`;
  headers['x-request-id'] = context.requestId;
  if (context.inspectionFlag !== undefined) headers[FLAG_HEADER] = context.inspectionFlag;
  if (req.headers.host !== undefined) headers['x-forwarded-host'] = req.headers.host;
  req.headers = headers;
}
