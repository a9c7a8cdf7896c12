import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisSettings } from './settings.js';

/** The standard Redis port, used when a standalone `port` is not set. */
const DEFAULT_PORT = 6379;
/** First reconnection delay; it doubles per attempt up to `reconnect_max_delay`. */
const FIRST_RETRY_DELAY_MS = 50;
/** Random delay added to each reconnection, so that replicas do not reconnect in lockstep. */
const RETRY_JITTER_MS = 50;

/**
 * Returns the reconnection delay in ms for attempt `times` (1, 2, …): exponential from 50ms,
 * capped at `maxDelayMs`, plus up to 50ms of jitter. It never gives up, so a client reconnects
 * whenever Redis comes back.
 */
export function reconnectDelay(times: number, maxDelayMs: number): number {
  const exponential = FIRST_RETRY_DELAY_MS * 2 ** Math.min(times - 1, 16);
  return Math.min(exponential, maxDelayMs) + Math.floor(Math.random() * RETRY_JITTER_MS);
}

/**
 * Creates an ioredis client for the rate limiter:
 *
 * - `enableOfflineQueue: false`, so a command fails at once while the connection is down
 *   instead of waiting in a queue;
 * - `commandTimeout`, so a command fails after that time when Redis does not respond;
 * - `enableAutoPipelining`, so concurrent decisions share round trips;
 * - no resending of unanswered commands after a reconnect (`autoResendUnfulfilledCommands`),
 *   because a decision sent again would consume quota twice, long after its request moved on;
 * - reconnection with exponential backoff that never stops.
 *
 * `env` supplies the variable named by `password_env`. Raises an Error when that variable is
 * not set.
 */
export function createRedisClient(
  settings: RedisSettings,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Redis | Cluster {
  const password = readPassword(settings, env);
  const retry = (times: number) => reconnectDelay(times, settings.reconnect_max_delay);
  const connection = {
    commandTimeout: settings.command_timeout,
    connectTimeout: settings.connect_timeout,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectionName: 'agentflow-gateway-ratelimit',
    username: settings.username,
    password,
  } satisfies RedisOptions;
  if (settings.mode === 'cluster') {
    const options: ClusterOptions = {
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      clusterRetryStrategy: retry,
      slotsRefreshTimeout: settings.connect_timeout,
      redisOptions: connection,
    };
    return new Cluster(settings.nodes!, options);
  }
  const common: RedisOptions = {
    ...connection,
    db: settings.db,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    retryStrategy: retry,
  };
  if (settings.mode === 'sentinel') {
    return new Redis({
      ...common,
      sentinels: settings.sentinels!,
      name: settings.master_name!,
      role: 'master',
      sentinelRetryStrategy: retry,
    });
  }
  return new Redis({ ...common, host: settings.host!, port: settings.port ?? DEFAULT_PORT });
}

function readPassword(
  settings: RedisSettings,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (settings.password_env === undefined) return undefined;
  const password = env[settings.password_env];
  if (password === undefined || password === '') {
    throw new Error(
      `environment variable ${settings.password_env} (rate limit Redis password_env) is not set`,
    );
  }
  return password;
}
