import { z } from 'zod';
import { duration, host, port } from '../config/fields.js';
import { DEFAULT_MEMORY_MAX_KEYS } from './memory-store.js';
import { FAIL_MODES } from './store.js';

/** Defaults of the store settings, written as in the YAML file. */
export const STORE_DEFAULTS = {
  keyPrefix: 'agentflow:rl:',
  commandTimeout: '100ms',
  connectTimeout: '5s',
  reconnectMaxDelay: '2s',
  probeInterval: '1s',
  concurrencyLease: '30s',
} as const;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Maximum `max_keys`. At an estimated few hundred bytes per key, this is a few GiB. */
const MAX_MEMORY_KEYS = 10_000_000;

const endpoint = z.strictObject({ host: host(), port: port() });

/** How to reach Redis. `mode` selects which of the address fields are used. */
const redisSettingsSchema = z
  .strictObject({
    mode: z.enum(['standalone', 'sentinel', 'cluster']).default('standalone'),
    /** Standalone: the server; the port defaults to 6379. */
    host: host().optional(),
    port: port().optional(),
    /** Cluster: startup nodes; the others are discovered. */
    nodes: z.array(endpoint).min(1).optional(),
    /** Sentinel: the sentinels and the name of the monitored master. */
    sentinels: z.array(endpoint).min(1).optional(),
    master_name: z.string().min(1).optional(),
    /** Database number; Cluster has only database 0. */
    db: z.number().int().min(0).max(15).default(0),
    /** ACL user name (Redis 6 and later). */
    username: z.string().min(1).optional(),
    /** Environment variable that contains the password, so the password is not in the file. */
    password_env: z.string().regex(ENV_NAME, 'must be an environment variable name').optional(),
    /** Prefix of every key. Braces are rejected because they would set the hash slot. */
    key_prefix: z
      .string()
      .regex(/^[^{}\s]*$/, 'must not contain braces or whitespace')
      .default(STORE_DEFAULTS.keyPrefix),
    /** Maximum wait for one decision. After it, the fail mode decides the request. */
    command_timeout: duration().prefault(STORE_DEFAULTS.commandTimeout),
    connect_timeout: duration().prefault(STORE_DEFAULTS.connectTimeout),
    /** Upper bound of the exponential reconnection delay, which starts at 50ms. */
    reconnect_max_delay: duration().prefault(STORE_DEFAULTS.reconnectMaxDelay),
    /** Interval of the PING that detects that Redis is back while the fail mode is in use. */
    probe_interval: duration().prefault(STORE_DEFAULTS.probeInterval),
    /** Time after which a concurrency slot of a crashed replica is free again. */
    concurrency_lease: duration().prefault(STORE_DEFAULTS.concurrencyLease),
  })
  .superRefine((redis, context) => {
    const issue = (path: string, message: string) =>
      context.addIssue({ code: 'custom', path: [path], message });
    for (const field of ['command_timeout', 'connect_timeout', 'probe_interval'] as const) {
      if (redis[field] <= 0) issue(field, 'must be longer than 0ms');
    }
    if (redis.concurrency_lease < 1_000) issue('concurrency_lease', 'must be at least 1s');
    if (redis.mode === 'standalone' && redis.host === undefined)
      issue('host', 'is required in standalone mode');
    if (redis.mode === 'cluster' && redis.nodes === undefined)
      issue('nodes', 'is required in cluster mode');
    if (redis.mode === 'cluster' && redis.db !== 0) issue('db', 'must be 0 in cluster mode');
    if (redis.mode === 'sentinel' && redis.sentinels === undefined) {
      issue('sentinels', 'is required in sentinel mode');
    }
    if (redis.mode === 'sentinel' && redis.master_name === undefined) {
      issue('master_name', 'is required in sentinel mode');
    }
  });

/**
 * The rate-limit store settings. `memory` keeps the state in the process, so every replica
 * limits on its own. `redis` shares it; while Redis fails, `fail_mode` decides:
 * `local` limits with the in-memory store, `allow` admits, and with `deny` the caller responds
 * with 503 `rate_limit_unavailable`. A policy layer may override `fail_mode`.
 */
export const rateLimitStoreSettingsSchema = z
  .strictObject({
    backend: z.enum(['memory', 'redis']).default('memory'),
    fail_mode: z.enum(FAIL_MODES).default('local'),
    memory: z
      .strictObject({
        /** Rate-limit keys kept in memory; the least recently used are dropped beyond it. */
        max_keys: z.number().int().min(1).max(MAX_MEMORY_KEYS).default(DEFAULT_MEMORY_MAX_KEYS),
      })
      .prefault({}),
    redis: redisSettingsSchema.optional(),
  })
  .refine((store) => store.backend !== 'redis' || store.redis !== undefined, {
    path: ['redis'],
    message: 'is required when backend is redis',
  });

export type RateLimitStoreSettings = z.output<typeof rateLimitStoreSettingsSchema>;
export type RedisSettings = NonNullable<RateLimitStoreSettings['redis']>;
