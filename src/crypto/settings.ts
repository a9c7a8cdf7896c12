import { z } from 'zod';
import { byteSize } from '../config/fields.js';
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

const rotationSchema = z.strictObject({
  /** Version that encrypts during a rollout; the newest listed version by default. */
  encrypt_version: version.optional(),
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
    const names = new Set<string>();
    for (const [index, caller] of settings.callers.entries()) {
      if (names.has(caller.name)) issue(['callers', index, 'name'], 'is used twice');
      names.add(caller.name);
    }
  });

export type CryptoSettings = z.output<typeof cryptoSettingsSchema>;
