import { z } from 'zod';
import { duration } from '../../config/fields.js';

/** Defaults of the `events:` settings, written as in the YAML file. */
export const EVENTS_DEFAULTS = {
  memoryMaxEvents: 10_000,
  streamKey: 'agentflow:events',
  maxLength: 100_000,
  queueSize: 10_000,
  batchSize: 100,
  commandTimeout: '1s',
  connectTimeout: '5s',
  reconnectMaxDelay: '2s',
  hashLength: 16,
} as const;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Largest `memory.max_events`; an event takes an estimated 1 KiB in memory. */
const MAX_MEMORY_EVENTS = 1_000_000;
/** Largest `redis.queue_size`, for the same reason. */
const MAX_QUEUE_SIZE = 1_000_000;
/** Largest `redis.batch_size`: one pipeline of XADD commands, sent in one round trip. */
const MAX_BATCH_SIZE = 10_000;

const envName = z.string().regex(ENV_NAME, 'must be an environment variable name');

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

/** The ring buffer of recent events in this process. */
const memorySchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Events kept; the oldest is overwritten beyond it. */
  max_events: z
    .number()
    .int()
    .min(1)
    .max(MAX_MEMORY_EVENTS)
    .default(EVENTS_DEFAULTS.memoryMaxEvents),
});

/**
 * The Redis Stream that every replica appends to. Without `url`, the server of `store.redis` is
 * used, else that of `revocation.redis`, over a connection of the event sink's own.
 */
const redisSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** A standalone server of its own: `redis://HOST:PORT/DB`, or `rediss://` for TLS. */
    url: redisUrl.optional(),
    /** With `url`: the environment variable that contains the password. */
    password_env: envName.optional(),
    stream_key: z
      .string()
      .regex(/^[^\s]+$/, 'must be non-empty, without whitespace')
      .default(EVENTS_DEFAULTS.streamKey),
    /** Approximate maximum entries of the stream (`XADD … MAXLEN ~`). */
    max_length: z.number().int().min(1).default(EVENTS_DEFAULTS.maxLength),
    /** Events waiting to be written; more are dropped and counted. */
    queue_size: z.number().int().min(1).max(MAX_QUEUE_SIZE).default(EVENTS_DEFAULTS.queueSize),
    /** Events written per pipeline. */
    batch_size: z.number().int().min(1).max(MAX_BATCH_SIZE).default(EVENTS_DEFAULTS.batchSize),
    command_timeout: duration().prefault(EVENTS_DEFAULTS.commandTimeout),
    connect_timeout: duration().prefault(EVENTS_DEFAULTS.connectTimeout),
    /** Upper bound of the exponential reconnection delay, which starts at 50ms. */
    reconnect_max_delay: duration().prefault(EVENTS_DEFAULTS.reconnectMaxDelay),
  })
  .superRefine((redis, context) => {
    const issue = (path: string, message: string) =>
      context.addIssue({ code: 'custom', path: [path], message });
    for (const field of ['command_timeout', 'connect_timeout', 'reconnect_max_delay'] as const) {
      if (redis[field] <= 0) issue(field, 'must be longer than 0ms');
    }
    if (redis.password_env !== undefined && redis.url === undefined) {
      issue('password_env', 'is only used with url');
    }
  });

/** Rewriting of client addresses, subjects and sessions before any sink receives an event. */
const privacySchema = z
  .strictObject({
    /** `keep`, `truncate` to the network prefixes below, or `hash` with the key. */
    client_ip: z.enum(['keep', 'truncate', 'hash']).default('keep'),
    ipv4_prefix: z.number().int().min(0).max(32).default(24),
    ipv6_prefix: z.number().int().min(0).max(128).default(48),
    /** `keep` or `hash` with the key; applies to the subject and the session. */
    subject: z.enum(['keep', 'hash']).default('keep'),
    /** File whose content (surrounding whitespace removed) is the HMAC key, relative to this file. */
    hash_key_file: z.string().min(1).optional(),
    hash_key_env: envName.optional(),
    /** Hex digits kept of each HMAC-SHA256; 16 keep 64 bits. */
    hash_length: z.number().int().min(8).max(64).default(EVENTS_DEFAULTS.hashLength),
  })
  .superRefine((privacy, context) => {
    const hashes = privacy.client_ip === 'hash' || privacy.subject === 'hash';
    const keys =
      Number(privacy.hash_key_file !== undefined) + Number(privacy.hash_key_env !== undefined);
    if (hashes && keys !== 1) {
      context.addIssue({
        code: 'custom',
        path: ['hash_key_file'],
        message: 'set exactly one of hash_key_file or hash_key_env when a field is hashed',
      });
    }
    if (!hashes && keys > 0) {
      context.addIssue({
        code: 'custom',
        path: ['hash_key_file'],
        message: 'a hash key is set but no field is hashed: set client_ip or subject to hash',
      });
    }
  });

/** The `events:` settings: where security events go and how they are pseudonymised. */
export const eventsSettingsSchema = z.strictObject({
  memory: memorySchema.prefault({}),
  redis: redisSchema.prefault({}),
  privacy: privacySchema.prefault({}),
});

export type EventsSettings = z.output<typeof eventsSettingsSchema>;
export type EventsRedisSettings = EventsSettings['redis'];
