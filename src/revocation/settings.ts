import { z } from 'zod';
import { duration, host, port } from '../config/fields.js';

/** Defaults of the revocation settings, written as in the YAML file. */
export const REVOCATION_DEFAULTS = {
  maxRecords: 100_000,
  defaultJtiTtl: '1d',
  retentionMargin: '1m',
  sweepInterval: '1m',
  keyPrefix: 'agentflow:revocation',
  commandTimeout: '500ms',
  connectTimeout: '5s',
  reconnectMaxDelay: '2s',
  resyncInterval: '5s',
  freshnessBound: '15s',
} as const;

/** Fail modes: the behaviour of a check while the Redis replica is stale. */
export const REVOCATION_FAIL_MODES = ['deny', 'allow'] as const;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Largest `max_records`; a record takes a few hundred bytes in each gateway and in Redis. */
const MAX_RECORDS_LIMIT = 10_000_000;

const endpoint = z.strictObject({ host: host(), port: port() });

const redisUrl = z
  .url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' })
  .refine(
    (text) => new URL(text).password === '',
    'must not contain a password: put it in the variable named by password_env',
  )
  .refine(
    (text) => /^\/?(?:[0-9]|1[0-5])?$/.test(new URL(text).pathname),
    'must end in a database number from 0 to 15, or in nothing',
  );

/**
 * How to reach Redis and how long the local replica may go without news from it. `mode`
 * selects which address fields are used.
 */
const redisFieldsSchema = z.strictObject({
  mode: z.enum(['standalone', 'sentinel', 'cluster']).default('standalone'),
  /** Standalone: `redis://HOST:PORT/DB` or `rediss://…` for TLS; or `host` and `port`. */
  url: redisUrl.optional(),
  host: host().optional(),
  port: port().optional(),
  /** Sentinel: the sentinels and the name of the monitored master. */
  sentinels: z.array(endpoint).min(1).optional(),
  master_name: z.string().min(1).optional(),
  /** Cluster: startup nodes; the others are discovered. */
  nodes: z.array(endpoint).min(1).optional(),
  /** Database number, when not given in `url`; Cluster has only database 0. */
  db: z.number().int().min(0).max(15).optional(),
  /** ACL user name (Redis 6 and later). */
  username: z.string().min(1).optional(),
  /** Environment variable that contains the password, so the password is not in the file. */
  password_env: z.string().regex(ENV_NAME, 'must be an environment variable name').optional(),
  /** Start of every key. Braces are rejected because the keys put it inside a hash tag. */
  key_prefix: z
    .string()
    .regex(/^[^{}\s]+$/, 'must be non-empty, without braces or whitespace')
    .default(REVOCATION_DEFAULTS.keyPrefix),
  /** Time allowed for one command before it fails. */
  command_timeout: duration().prefault(REVOCATION_DEFAULTS.commandTimeout),
  connect_timeout: duration().prefault(REVOCATION_DEFAULTS.connectTimeout),
  /** Upper bound of the exponential reconnection delay, which starts at 50ms. */
  reconnect_max_delay: duration().prefault(REVOCATION_DEFAULTS.reconnectMaxDelay),
  /** Interval of the version check that reloads every record when the version moved. */
  resync_interval: duration().prefault(REVOCATION_DEFAULTS.resyncInterval),
  /**
   * Age of the last successful sync beyond which, while pub/sub is down, the replica counts
   * as stale and `fail_mode` applies.
   */
  freshness_bound: duration().prefault(REVOCATION_DEFAULTS.freshnessBound),
});

type RedisFields = z.output<typeof redisFieldsSchema>;

const redisSchema = redisFieldsSchema.superRefine((redis, context) => {
  const issue = (path: string, message: string) =>
    context.addIssue({ code: 'custom', path: [path], message });
  for (const field of [
    'command_timeout',
    'connect_timeout',
    'reconnect_max_delay',
    'resync_interval',
  ] as const) {
    if (redis[field] <= 0) issue(field, 'must be longer than 0ms');
  }
  // One late or failed sync must not make the replica stale while Redis is reachable.
  if (redis.freshness_bound < 2 * redis.resync_interval) {
    issue('freshness_bound', 'must be at least twice resync_interval');
  }
  checkAddress(redis, issue);
});

function checkAddress(redis: RedisFields, issue: (path: string, message: string) => void): void {
  if (redis.mode === 'standalone') {
    if (redis.url === undefined && redis.host === undefined) {
      issue('url', 'url or host is required in standalone mode');
    }
    if (redis.url !== undefined && (redis.host !== undefined || redis.port !== undefined)) {
      issue('url', 'give either url or host and port, not both');
    }
  }
  if (redis.url !== undefined && redis.db !== undefined) {
    issue('db', 'give the database in url or in db, not both');
  }
  if (redis.mode !== 'standalone' && redis.url !== undefined) {
    issue('url', 'is only used in standalone mode');
  }
  if (redis.mode === 'sentinel' && redis.sentinels === undefined) {
    issue('sentinels', 'is required in sentinel mode');
  }
  if (redis.mode === 'sentinel' && redis.master_name === undefined) {
    issue('master_name', 'is required in sentinel mode');
  }
  if (redis.mode === 'cluster' && redis.nodes === undefined) {
    issue('nodes', 'is required in cluster mode');
  }
  if (redis.mode === 'cluster' && (redis.db ?? 0) !== 0) {
    issue('db', 'must be 0 in cluster mode');
  }
}

/**
 * The `revocation:` settings. `store: memory` keeps revocations in the process, so each gateway
 * has its own list. `store: redis` shares them: every gateway keeps a local replica that Redis
 * pub/sub updates, and while the replica is stale `fail_mode` decides. `deny` (the default)
 * makes checks return `unavailable`, which the caller turns into 503
 * `revocation_unavailable`. `allow` returns results from the stale replica.
 */
export const revocationSettingsSchema = z
  .strictObject({
    store: z.enum(['memory', 'redis']).default('memory'),
    fail_mode: z.enum(REVOCATION_FAIL_MODES).default('deny'),
    /** Maximum records held; a revocation beyond it is rejected, never an old one dropped. */
    max_records: z
      .number()
      .int()
      .min(1)
      .max(MAX_RECORDS_LIMIT)
      .default(REVOCATION_DEFAULTS.maxRecords),
    /**
     * Lifetime of a jti record given neither a TTL nor the token's `exp`. Keep it at least the
     * longest token lifetime that the issuers accept (auth `max_lifetime`, 1d by default).
     */
    default_jti_ttl: duration().prefault(REVOCATION_DEFAULTS.defaultJtiTtl),
    /**
     * Time a jti record outlives the token's `exp`, so that a token still accepted within the
     * verifier's clock tolerance stays revoked. Keep it at least auth `clock_tolerance`.
     */
    retention_margin: duration().prefault(REVOCATION_DEFAULTS.retentionMargin),
    /** Interval at which expired records are removed from memory. */
    sweep_interval: duration().prefault(REVOCATION_DEFAULTS.sweepInterval),
    redis: redisSchema.optional(),
  })
  .superRefine((settings, context) => {
    if (settings.default_jti_ttl <= 0) {
      context.addIssue({
        code: 'custom',
        path: ['default_jti_ttl'],
        message: 'must be longer than 0ms',
      });
    }
    if (settings.sweep_interval <= 0) {
      context.addIssue({
        code: 'custom',
        path: ['sweep_interval'],
        message: 'must be longer than 0ms',
      });
    }
    if (settings.store === 'redis' && settings.redis === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['redis'],
        message: 'is required when store is redis',
      });
    }
  });

/** The parsed `revocation:` settings, with durations in milliseconds. */
export type RevocationSettings = z.output<typeof revocationSettingsSchema>;
/** The parsed `revocation.redis` settings. */
export type RevocationRedisSettings = NonNullable<RevocationSettings['redis']>;
/** See {@link REVOCATION_FAIL_MODES}. */
export type RevocationFailMode = (typeof REVOCATION_FAIL_MODES)[number];
