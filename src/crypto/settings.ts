import { z } from 'zod';
import { byteSize, duration } from '../config/fields.js';
import { MAX_CONTEXT_LENGTH } from './encryption-service.js';
import { MAX_KEY_VERSION } from './format.js';
import { DEFAULT_WARN_AFTER_MESSAGES, GCM_RANDOM_NONCE_LIMIT } from './message-counter.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CALLER_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const CONTEXT_PREFIX = new RegExp(`^[\\x21-\\x7e]{1,${MAX_CONTEXT_LENGTH}}$`);
/** Largest `max_payload_bytes`: requests carry the payload in base64 inside JSON, in memory. */
const MAX_PAYLOAD_LIMIT = 64 * 1024 * 1024;

const version = z.number().int().min(1).max(MAX_KEY_VERSION);
const envName = z.string().regex(ENV_NAME, 'must be an environment variable name');

/** One master key version, read from a file or an environment variable. */
const keySourceSchema = z
  .strictObject({
    version,
    /** File with 32 random bytes in base64, relative to the configuration file. */
    file: z.string().min(1).optional(),
    env: envName.optional(),
  })
  .refine((key) => (key.file === undefined) !== (key.env === undefined), {
    message: 'set exactly one of file or env',
  });

/** A local program allowed to use the API, and the contexts it may use. */
const callerSchema = z
  .strictObject({
    name: z.string().regex(CALLER_NAME, 'must be 1-64 characters of a-z, 0-9, "_", "." and "-"'),
    token_file: z.string().min(1).optional(),
    token_env: envName.optional(),
    context_prefixes: z
      .array(
        z.string().regex(CONTEXT_PREFIX, 'must be 1-256 printable ASCII characters, no spaces'),
      )
      .min(1),
  })
  .refine((caller) => (caller.token_file === undefined) !== (caller.token_env === undefined), {
    message: 'set exactly one of token_file or token_env',
  });

/**
 * Automatic rotation to keys provisioned ahead: the gateway never creates a key, it moves the
 * encrypting version up to the next listed one, so every replica already has that key.
 */
const autoRotationSchema = z
  .strictObject({
    /** Time each version encrypts: `encrypt_version` from `start`, the next one a period later. */
    period: duration().pipe(z.number().int().min(60_000, 'must be at least 1m')).optional(),
    /** When `encrypt_version` started encrypting, as an RFC 3339 time with a zone. */
    start: z.iso
      .datetime({ offset: true, error: 'must be an RFC 3339 time such as 2025-06-01T00:00:00Z' })
      .optional(),
    /** GCM messages under one version, in this process, after which the next version encrypts. */
    after_messages: z.number().int().min(1).max(GCM_RANDOM_NONCE_LIMIT).optional(),
  })
  .superRefine((auto, context) => {
    if (auto.period === undefined && auto.after_messages === undefined) {
      context.addIssue({ code: 'custom', message: 'set period, after_messages or both' });
    }
    if (auto.period !== undefined && auto.start === undefined) {
      context.addIssue({ code: 'custom', path: ['start'], message: 'is required with period' });
    }
  });

/** A Unix domain socket that serves the API beside the admin listener. */
const socketSchema = z.strictObject({
  /** Path of the socket file, relative to the configuration file. */
  path: z.string().min(1),
  /** Permission bits of the socket file, in octal. */
  mode: z
    .string({ error: 'must be octal permission bits in quotes, such as "0600"' })
    .regex(/^0?[0-7]{3}$/, 'must be octal permission bits in quotes, such as "0600"')
    .default('0600'),
});

const rotationSchema = z.strictObject({
  /**
   * Version that encrypts during a rollout; the newest listed version by default. With `auto`,
   * the version that encrypts first.
   */
  encrypt_version: version.optional(),
  auto: autoRotationSchema.optional(),
  /** GCM messages per version, in this process, after which a warning is logged. */
  warn_after_messages: z
    .number()
    .int()
    .min(1)
    .max(GCM_RANDOM_NONCE_LIMIT)
    .default(DEFAULT_WARN_AFTER_MESSAGES),
});

/** The local encryption API on the admin listener. */
export const cryptoSettingsSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    keys: z.array(keySourceSchema).default([]),
    /** Versions below this one are retired: their ciphertexts are rejected. */
    min_version: version.default(1),
    callers: z.array(callerSchema).default([]),
    max_payload_bytes: byteSize()
      .pipe(z.number().int().min(1).max(MAX_PAYLOAD_LIMIT, 'must be at most 64MiB'))
      .prefault('10MiB'),
    /** Derived per-context keys kept in memory; the least recently used one goes first. */
    context_key_cache_size: z.number().int().min(1).max(1_000_000).default(1_000),
    rotation: rotationSchema.prefault({}),
    socket: socketSchema.optional(),
  })
  .superRefine((settings, context) => {
    const issue = (path: (string | number)[], message: string) =>
      context.addIssue({ code: 'custom', path, message });
    if (settings.enabled && settings.keys.length === 0) issue(['keys'], 'needs at least one key');
    if (settings.enabled && settings.callers.length === 0) {
      issue(['callers'], 'needs at least one caller');
    }
    const versions = new Set<number>();
    for (const [index, key] of settings.keys.entries()) {
      if (versions.has(key.version)) issue(['keys', index, 'version'], 'is listed twice');
      versions.add(key.version);
    }
    if (
      settings.keys.length > 0 &&
      !settings.keys.some((key) => key.version >= settings.min_version)
    ) {
      issue(['min_version'], 'is above every listed key version');
    }
    const encryptVersion = settings.rotation.encrypt_version;
    if (
      encryptVersion !== undefined &&
      (!versions.has(encryptVersion) || encryptVersion < settings.min_version)
    ) {
      issue(
        ['rotation', 'encrypt_version'],
        'must be a listed key version at or above min_version',
      );
    }
    if (settings.rotation.auto !== undefined && encryptVersion === undefined) {
      issue(['rotation', 'encrypt_version'], 'is required with rotation.auto');
    }
    const names = new Set<string>();
    for (const [index, caller] of settings.callers.entries()) {
      if (names.has(caller.name)) issue(['callers', index, 'name'], 'is used twice');
      names.add(caller.name);
    }
  });

export type CryptoSettings = z.output<typeof cryptoSettingsSchema>;
