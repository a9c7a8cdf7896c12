import type { RevocationLog } from './log.js';
import { MemoryRevocationList, type RevocationListOptions } from './memory-list.js';
import type { Environment } from './redis-connection.js';
import { RedisRevocationList } from './redis-list.js';
import type { RevocationList } from './revocation-list.js';
import type { RevocationSettings } from './settings.js';

export interface CreateRevocationListOptions {
  readonly log?: RevocationLog | undefined;
  /** Current time in ms since the epoch; `Date.now` by default. */
  readonly clock?: (() => number) | undefined;
  /** Environment that `redis.password_env` is read from; `process.env` by default. */
  readonly env?: Environment | undefined;
}

/**
 * Creates the list that `settings.store` selects, not yet started. Raises an Error when the
 * variable named by `redis.password_env` is not set.
 */
export function createRevocationList(
  settings: RevocationSettings,
  options: CreateRevocationListOptions = {},
): RevocationList {
  const common: RevocationListOptions = {
    maxRecords: settings.max_records,
    defaultJtiTtlMs: settings.default_jti_ttl,
    retentionMarginMs: settings.retention_margin,
    sweepIntervalMs: settings.sweep_interval,
    clock: options.clock,
    log: options.log,
  };
  if (settings.store === 'memory') return new MemoryRevocationList(common);
  return new RedisRevocationList({
    ...common,
    redis: settings.redis!,
    failMode: settings.fail_mode,
    env: options.env,
  });
}
