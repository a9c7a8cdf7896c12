import { z } from 'zod';
import { duration } from '../config/fields.js';
import { FAIL_MODES } from '../store/store.js';

/** Defaults of the `alerts` settings, written as in the YAML file. */
export const ALERT_DEFAULTS = {
  keyPrefix: 'agentflow:alerts:',
  maxPending: 10_000,
  recentFirings: 200,
  webhookTimeout: '5s',
  webhookAttempts: 5,
  webhookRetryDelay: '1s',
  webhookMaxRetryDelay: '1m',
  webhookQueueSize: 1_000,
  blockSyncInterval: '1s',
  maxBlocks: 10_000,
} as const;

const WEBHOOK_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A receiver of alert firings. Each delivery is a JSON POST signed with HMAC-SHA256 under the
 * secret, read from `secret_file` or from the variable `secret_env` (exactly one of them).
 */
const webhookSchema = z
  .strictObject({
    name: z.string().regex(WEBHOOK_NAME, 'must be 1-64 characters of a-z, 0-9, "_", "." and "-"'),
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    secret_file: z.string().min(1).optional(),
    secret_env: z.string().regex(ENV_NAME, 'must be an environment variable name').optional(),
    /** Time allowed for one attempt: connecting, sending and receiving the response headers. */
    timeout: duration().prefault(ALERT_DEFAULTS.webhookTimeout),
    /** Attempts per delivery, the first included. */
    max_attempts: z.number().int().min(1).max(20).default(ALERT_DEFAULTS.webhookAttempts),
    /** Base of the exponential backoff between attempts; each delay is drawn from 0 to it. */
    retry_delay: duration().prefault(ALERT_DEFAULTS.webhookRetryDelay),
    max_retry_delay: duration().prefault(ALERT_DEFAULTS.webhookMaxRetryDelay),
    /** Deliveries waiting for this receiver; a firing beyond it is dropped and counted. */
    queue_size: z.number().int().min(1).max(1_000_000).default(ALERT_DEFAULTS.webhookQueueSize),
  })
  .superRefine((webhook, context) => {
    if ((webhook.secret_file === undefined) === (webhook.secret_env === undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['secret_file'],
        message: 'set exactly one of secret_file and secret_env',
      });
    }
    if (webhook.timeout <= 0) {
      context.addIssue({ code: 'custom', path: ['timeout'], message: 'must be longer than 0ms' });
    }
    if (webhook.max_retry_delay < webhook.retry_delay) {
      context.addIssue({
        code: 'custom',
        path: ['max_retry_delay'],
        message: 'must not be shorter than retry_delay',
      });
    }
  });

const blocksSchema = z
  .strictObject({
    /**
     * While this replica's copy of the blocks cannot be refreshed from Redis: `local` keeps
     * enforcing the blocks in the copy, `allow` enforces none, `deny` rejects every request with
     * 503 `block_list_unavailable`.
     */
    fail_mode: z.enum(FAIL_MODES).default('local'),
    /** Interval at which each replica refreshes its copy of the blocks from Redis. */
    sync_interval: duration().prefault(ALERT_DEFAULTS.blockSyncInterval),
    /** Blocks held at once; a block beyond it is not set and is logged. */
    max_blocks: z.number().int().min(1).max(1_000_000).default(ALERT_DEFAULTS.maxBlocks),
  })
  .refine((blocks) => blocks.sync_interval >= 100, {
    path: ['sync_interval'],
    message: 'must be at least 100ms',
  });

/**
 * Alerting settings of the process: the webhook receivers that rules name, the Redis key prefix
 * and the bounds of the work queues. The rules themselves are in the policy files.
 */
export const alertSettingsSchema = z
  .strictObject({
    webhooks: z.array(webhookSchema).default([]),
    /** Prefix of the Redis keys of windows, cooldowns, firings and blocks. */
    key_prefix: z
      .string()
      .regex(/^[^{}\s]+$/, 'must be non-empty, without braces or whitespace')
      .default(ALERT_DEFAULTS.keyPrefix),
    /** Events waiting for the window store; more are dropped and counted. */
    max_pending: z.number().int().min(1).max(1_000_000).default(ALERT_DEFAULTS.maxPending),
    /** Firings kept for `GET /admin/alerts`, newest first. */
    recent_firings: z.number().int().min(1).max(10_000).default(ALERT_DEFAULTS.recentFirings),
    blocks: blocksSchema.prefault({}),
  })
  .superRefine((settings, context) => {
    const seen = new Set<string>();
    settings.webhooks.forEach((webhook, index) => {
      if (seen.has(webhook.name)) {
        context.addIssue({
          code: 'custom',
          path: ['webhooks', index, 'name'],
          message: `webhook name "${webhook.name}" is used twice`,
        });
      }
      seen.add(webhook.name);
    });
  });

export type AlertSettings = z.output<typeof alertSettingsSchema>;
export type WebhookSettings = AlertSettings['webhooks'][number];
export type BlockSettings = AlertSettings['blocks'];
