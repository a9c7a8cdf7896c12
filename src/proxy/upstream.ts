import { Pool } from 'undici';
import type { GatewayConfig } from '../config/schema.js';
import type { UpstreamTlsOptions } from '../net/tls-upstream.js';

/** The upstream: one keep-alive connection pool and the base path requests are sent under. */
export interface Upstream {
  readonly pool: Pool;
  readonly origin: string;
  readonly host: string;
  /** Path prefix of the upstream URL without its trailing slash, `''` for none. */
  readonly basePath: string;
  readonly config: GatewayConfig['upstream'];
  /** Options from `upstream.tls`. Undefined means Node's defaults for an `https://` URL. */
  readonly tls: UpstreamTlsOptions | undefined;
}

export function createUpstream(
  config: GatewayConfig['upstream'],
  tls?: UpstreamTlsOptions,
): Upstream {
  const url = new URL(config.url);
  const pool = new Pool(url.origin, {
    connections: config.connections,
    keepAliveTimeout: config.keep_alive_timeout,
    headersTimeout: config.headers_timeout,
    bodyTimeout: config.stream_idle_timeout,
    // undici passes these options on to tls.connect for an https: origin.
    connect: { timeout: config.connect_timeout, ...tls },
  });
  return {
    pool,
    origin: url.origin,
    host: url.host,
    basePath: url.pathname.replace(/\/+$/, ''),
    config,
    tls,
  };
}
