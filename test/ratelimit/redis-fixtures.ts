import { once } from 'node:events';
import type { Cluster, Redis } from 'ioredis';
import type { Test } from 'tap';
import { createRedisClient } from '../../src/store/redis-client.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { rateLimitStoreSettingsSchema, type RedisSettings } from '../../src/store/settings.js';
import type { GcraCheck, LimitCheck, SlidingWindowCheck } from '../../src/store/store.js';

/**
 * Redis settings for tests. The command timeout is long enough for a machine busy with other
 * test files; the failover tests set their own short one.
 */
export function testRedisSettings(redis: Record<string, unknown>): RedisSettings {
  const parsed = rateLimitStoreSettingsSchema.parse({
    backend: 'redis',
    redis: {
      command_timeout: '2s',
      connect_timeout: '1s',
      reconnect_max_delay: '100ms',
      probe_interval: '100ms',
      key_prefix: 'test:rl:',
      ...redis,
    },
  });
  return parsed.redis!;
}

/** Waits until an ioredis client is ready. */
export async function ready(client: Redis | Cluster): Promise<void> {
  if (client.status === 'ready') return;
  await once(client, 'ready');
}

/** Creates a RedisStore on a ready client and closes it in teardown. */
export async function redisStore(
  t: Test,
  redis: Record<string, unknown>,
  options: { leaseMs?: number } = {},
): Promise<{ store: RedisStore; client: Redis | Cluster }> {
  const settings = testRedisSettings(redis);
  const client = createRedisClient(settings);
  client.on('error', () => {});
  await ready(client);
  const store = new RedisStore({
    client,
    keyPrefix: settings.key_prefix,
    commandTimeoutMs: settings.command_timeout,
    leaseMs: options.leaseMs ?? settings.concurrency_lease,
  });
  t.teardown(() => store.close());
  return { store, client };
}

export function gcra(
  key: string,
  requests: number,
  perMs: number,
  extra: Partial<GcraCheck> = {},
): GcraCheck {
  return {
    kind: 'gcra',
    key,
    cost: 1,
    intervalMs: perMs / requests,
    burst: requests,
    shadow: false,
    failMode: 'local',
    ...extra,
  };
}

export function sliding(key: string, limit: number, windowMs: number): SlidingWindowCheck {
  return {
    kind: 'sliding_window',
    key,
    cost: 1,
    windowMs,
    limit,
    shadow: false,
    failMode: 'local',
  };
}

export function slot(key: string, maxInFlight: number): LimitCheck {
  return { kind: 'concurrency', key, maxInFlight, shadow: false, failMode: 'local' };
}

/**
 * Commands the rate-limit script runs. `INFO commandstats` counts them as well as the commands
 * clients send, so client commands are identified by name. TIME runs once per script call.
 */
const SCRIPT_COMMANDS = new Set([
  'time',
  'get',
  'set',
  'del',
  'hmget',
  'hset',
  'pexpire',
  'pttl',
  'zremrangebyscore',
  'zcard',
  'zadd',
  'zrem',
]);

/**
 * Returns the commands clients sent, from `INFO commandstats` calls: commands the script runs
 * and the test's own INFO and CONFIG calls are left out.
 */
export function clientCommands(calls: Map<string, number>): Map<string, number> {
  const sent = new Map<string, number>();
  for (const [name, count] of calls) {
    if (SCRIPT_COMMANDS.has(name) || name === 'info' || name.startsWith('config')) continue;
    sent.set(name, count);
  }
  return sent;
}
