import { setTimeout as sleep } from 'node:timers/promises';
import type { Test } from 'tap';
import type { RevocationLog } from '../../src/revocation/log.js';
import type { RevocationCheck } from '../../src/revocation/revocation-list.js';
import { MemoryRevocationList } from '../../src/revocation/memory-list.js';
import { RedisRevocationList } from '../../src/revocation/redis-list.js';
import { revocationSettingsSchema } from '../../src/revocation/settings.js';
import type { RedisServer } from '../helpers/redis.js';

export const HOUR = 3_600_000;

/** A log that keeps every line, to assert on switches. */
export interface RecordedLog extends RevocationLog {
  readonly lines: { level: string; details: object; message: string }[];
  messages(level: string): string[];
}

export function recordingLog(): RecordedLog {
  const lines: RecordedLog['lines'] = [];
  const write = (level: string) => (details: object, message: string) => {
    lines.push({ level, details, message });
  };
  return {
    lines,
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    messages: (level) => lines.filter((line) => line.level === level).map((line) => line.message),
  };
}

export function memoryList(
  overrides: Partial<ConstructorParameters<typeof MemoryRevocationList>[0]> = {},
) {
  return new MemoryRevocationList({
    maxRecords: 1_000,
    defaultJtiTtlMs: HOUR,
    retentionMarginMs: 60_000,
    sweepIntervalMs: 60_000,
    ...overrides,
  });
}

/** Short timings so that staleness and recovery happen within a test. */
export const FAST_REDIS = {
  command_timeout: '200ms',
  connect_timeout: '500ms',
  reconnect_max_delay: '200ms',
  resync_interval: '100ms',
  freshness_bound: '400ms',
} as const;

export interface RedisListOptions {
  readonly failMode?: 'deny' | 'allow';
  readonly maxRecords?: number;
  readonly keyPrefix?: string;
  readonly redis?: Record<string, unknown>;
  readonly log?: RevocationLog;
  readonly clock?: () => number;
}

/**
 * Starts a Redis list on `server` and registers its stop as a teardown of `t`. When
 * `options.redis` sets `mode`, it must give the addresses and `server` is not used.
 */
export async function redisList(
  t: Test,
  server: RedisServer | undefined,
  options: RedisListOptions = {},
): Promise<RedisRevocationList> {
  const settings = revocationSettingsSchema.parse({
    store: 'redis',
    fail_mode: options.failMode ?? 'deny',
    max_records: options.maxRecords ?? 1_000,
    default_jti_ttl: '1h',
    redis: {
      ...(options.redis?.['mode'] === undefined ? { host: server!.host, port: server!.port } : {}),
      key_prefix: options.keyPrefix ?? 'test:revocation',
      ...FAST_REDIS,
      ...options.redis,
    },
  });
  const list = new RedisRevocationList({
    maxRecords: settings.max_records,
    defaultJtiTtlMs: settings.default_jti_ttl,
    retentionMarginMs: settings.retention_margin,
    sweepIntervalMs: settings.sweep_interval,
    redis: settings.redis!,
    failMode: settings.fail_mode,
    log: options.log,
    clock: options.clock,
  });
  t.teardown(() => list.stop());
  await list.start();
  return list;
}

/** Polls `condition` every 5 ms until it holds; raises after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<number> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what} not met after ${timeoutMs} ms`);
    await sleep(5);
  }
  return Date.now() - started;
}

/** Returns whether a check result is `revoked: true`, for conditions and asserts. */
export function isRevoked(result: RevocationCheck): boolean {
  return 'revoked' in result && result.revoked;
}
