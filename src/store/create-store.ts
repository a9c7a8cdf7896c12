import { FailoverStore } from './failover-store.js';
import { SILENT_LOG, type LogSink } from './log-sink.js';
import { MemoryStore } from './memory-store.js';
import { createRedisClient } from './redis-client.js';
import { RedisStore } from './redis-store.js';
import type { RateLimitStoreSettings } from './settings.js';
import type { LimitCheck, RateLimitStore, StoreDecision, StoreStats } from './store.js';

export interface CreateStoreOptions {
  readonly logger?: LogSink;
  /** Source of `password_env`; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Clock of the in-memory store in ms; default `performance.now()`. */
  readonly now?: () => number;
  /** Called after each switch between Redis and the fail modes. */
  readonly onSwitch?: (state: 'primary' | 'fallback') => void;
}

/**
 * Creates the store the settings describe: the in-memory store alone, or Redis with the
 * in-memory store as the `local` fail mode. The Redis client connects in the background, and
 * decisions follow the fail modes until the first PING to Redis succeeds.
 */
export function createRateLimitStore(
  settings: RateLimitStoreSettings,
  options: CreateStoreOptions = {},
): RateLimitStore {
  const memory = new MemoryStore({ maxKeys: settings.memory.max_keys, now: options.now });
  if (settings.backend === 'memory' || settings.redis === undefined) {
    return new MemoryRateLimitStore(memory);
  }
  const logger = options.logger ?? SILENT_LOG;
  const redis = settings.redis;
  const client = createRedisClient(redis, options.env);
  // Without a listener ioredis prints every connection error; the failover store logs outages.
  client.on('error', (error: unknown) => logger.debug({ err: error }, 'Redis connection error'));
  const primary = new RedisStore({
    client,
    keyPrefix: redis.key_prefix,
    commandTimeoutMs: redis.command_timeout,
    leaseMs: redis.concurrency_lease,
    logger,
  });
  const store = new FailoverStore({
    primary,
    fallback: memory,
    probeIntervalMs: redis.probe_interval,
    logger,
    onSwitch: options.onSwitch,
    startInFallback: true,
  });
  client.on('ready', () => store.probeNow());
  return store;
}

/** The in-memory store as a {@link RateLimitStore}. Its decisions are never `unavailable`. */
export class MemoryRateLimitStore implements RateLimitStore {
  constructor(private readonly memory: MemoryStore) {}

  async decide(checks: readonly LimitCheck[]): Promise<StoreDecision> {
    return { status: 'decided', source: 'primary', ...this.memory.decideNow(checks) };
  }

  stats(): StoreStats {
    return {
      state: 'primary',
      memoryKeys: this.memory.size,
      memoryEvictions: this.memory.evictions,
      switchesToFallback: 0,
      switchesToPrimary: 0,
      fallbackDecisions: 0,
      unavailableDecisions: 0,
      permanentErrors: 0,
    };
  }

  close(): Promise<void> {
    return this.memory.close();
  }
}
