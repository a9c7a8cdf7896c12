import { Pool } from 'undici';
import type { GatewayConfig } from '../config/schema.js';

/** The upstream: one keep-alive connection pool and the base path requests are sent under. */
export interface Upstream {
  readonly pool: Pool;
  readonly origin: string;
  readonly host: string;
  /** Path prefix of the upstream URL without its trailing slash, `''` for none. */
  readonly basePath: string;
  readonly config: GatewayConfig['upstream'];
}

export function createUpstream(config: GatewayConfig['upstream']): Upstream {
  const url = new URL(config.url);
  const pool = new Pool(url.origin, {
    connections: config.connections,
    keepAliveTimeout: config.keep_alive_timeout,
    headersTimeout: config.headers_timeout,
    bodyTimeout: config.stream_idle_timeout,
    connect: { timeout: config.connect_timeout },
  });
  return {
    pool,
    origin: url.origin,
    host: url.host,
    basePath: url.pathname.replace(/\/+$/, ''),
    config,
  };
}
