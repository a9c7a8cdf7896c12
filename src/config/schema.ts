import { z } from 'zod';
import { alertSettingsSchema } from '../alerts/settings.js';
import { authConfigSchema } from '../auth/schema.js';
import { cryptoSettingsSchema } from '../crypto/settings.js';
import { eventsSettingsSchema } from '../monitoring/events/settings.js';
import { clientIpSettingsSchema } from '../net/client-ip-settings.js';
import {
  adminListenerTlsSchema,
  publicListenerTlsSchema,
  upstreamTlsSchema,
} from '../net/tls-settings.js';
import { revocationSettingsSchema } from '../revocation/settings.js';
import { rateLimitStoreSettingsSchema } from '../store/settings.js';
import { byteSize, duration, host, port } from './fields.js';

const listener = (defaults: { host: string; port: number }) =>
  z.strictObject({
    host: host().default(defaults.host),
    port: port().default(defaults.port),
  });

const limits = z
  .strictObject({
    /** Total size of the request line and headers; larger requests get 431. */
    max_header_bytes: byteSize().prefault('16KiB'),
    /** Number of header fields; more get 431. */
    max_headers: z.number().int().min(1).max(1_000).default(100),
    /** Time allowed to receive the complete request headers. */
    headers_timeout: duration().prefault('10s'),
    /** Time allowed to receive the complete request, body included. */
    request_timeout: duration().prefault('60s'),
    /** Idle time before a client keep-alive connection is closed. */
    keep_alive_timeout: duration().prefault('5s'),
    /** Requests served on one client connection before it is closed; 0 means unlimited. */
    max_requests_per_socket: z.number().int().min(0).default(1_000),
    /** Largest request body accepted by default; routes may lower it. */
    max_body_bytes: byteSize().prefault('10MiB'),
  })
  // Node's HTTP server throws at start when headersTimeout exceeds a non-zero requestTimeout.
  .refine(
    (limits) => limits.request_timeout === 0 || limits.headers_timeout <= limits.request_timeout,
    { path: ['headers_timeout'], message: 'must not be longer than limits.request_timeout' },
  );

const upstream = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  connect_timeout: duration().prefault('5s'),
  /** Time allowed for the upstream to send response headers; exceeded means 504. */
  headers_timeout: duration().prefault('60s'),
  /** Longest silence allowed inside a response body; long enough for LLM token streams. */
  stream_idle_timeout: duration().prefault('5m'),
  /** Maximum open connections to the upstream. */
  connections: z.number().int().min(1).max(10_000).default(128),
  /** Idle time before a pooled upstream connection is closed. */
  keep_alive_timeout: duration().prefault('4s'),
  /** Path probed for readiness; any response below 500 counts as reachable. */
  health_path: z.string().startsWith('/').prefault('/health'),
  health_interval: duration().prefault('5s'),
  /** CAs, server name and client certificate for an `https://` upstream. */
  tls: upstreamTlsSchema.optional(),
});

const logging = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).prefault('info'),
});

const shutdown = z.strictObject({
  /** Time in-flight requests get to finish after SIGTERM before connections are closed. */
  grace_period: duration().prefault('30s'),
});

const gatewayConfigFields = z.strictObject({
  listeners: z
    .strictObject({
      public: listener({ host: '0.0.0.0', port: 8080 })
        .extend({ tls: publicListenerTlsSchema.optional() })
        .prefault({}),
      admin: listener({ host: '127.0.0.1', port: 9090 })
        .extend({ tls: adminListenerTlsSchema.optional() })
        .prefault({}),
    })
    .prefault({}),
  limits: limits.prefault({}),
  /** Which socket peers are proxies whose forwarding headers are believed. */
  client_ip: clientIpSettingsSchema.prefault({}),
  // Without this check, TLS settings for an http:// URL would be ignored silently.
  upstream: upstream.refine(
    (settings) => settings.tls === undefined || settings.url.startsWith('https:'),
    { path: ['tls'], message: 'needs an https:// upstream.url' },
  ),
  /** Token issuers and their keys; routes other than `auth: none` need at least one. */
  auth: authConfigSchema.optional(),
  /** Revoked tokens: kept in this process, or in Redis with a local replica in every gateway. */
  revocation: revocationSettingsSchema.prefault({}),
  /** The admin API's write access: a bearer token read from a file, relative to this file. */
  admin: z.strictObject({ token_file: z.string().min(1).optional() }).prefault({}),
  /** Where rate-limit state lives: this process (memory) or Redis shared by every replica. */
  store: rateLimitStoreSettingsSchema.prefault({}),
  /** Webhook receivers of alert rules, and limits of alerting; their state is kept in the `store`. */
  alerts: alertSettingsSchema.prefault({}),
  /** Sinks of security events (ring buffer, Redis Stream) and their privacy settings. */
  events: eventsSettingsSchema.prefault({}),
  logging: logging.prefault({}),
  shutdown: shutdown.prefault({}),
  /** Folder of policy files, relative to the configuration file. */
  policies: z.strictObject({ dir: z.string().min(1).prefault('../policies') }).prefault({}),
  /** The local encryption API for the backend, on the admin listener; off by default. */
  crypto: cryptoSettingsSchema.prefault({}),
});

export const gatewayConfigSchema = gatewayConfigFields
  // The event stream borrows the server of the rate limiter or the revocation list by default.
  .refine(
    (config) =>
      !config.events.redis.enabled ||
      config.events.redis.url !== undefined ||
      (config.store.backend === 'redis' && config.store.redis !== undefined) ||
      (config.revocation.store === 'redis' && config.revocation.redis !== undefined),
    {
      path: ['events', 'redis', 'url'],
      message: 'is required when store.backend and revocation.store are not redis',
    },
  );

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
