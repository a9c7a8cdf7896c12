import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RevocationRedisSettings } from './settings.js';

/** The standard Redis port, used when neither `url` nor `port` gives one. */
const DEFAULT_PORT = 6379;
/** First reconnection delay; it doubles per attempt up to `reconnect_max_delay`. */
const FIRST_RETRY_DELAY_MS = 50;
/** Random delay added to each reconnection, so that gateways do not reconnect in lockstep. */
const RETRY_JITTER_MS = 50;

/** Environment that `password_env` is read from. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Returns the reconnection delay in ms for attempt `times` (1, 2, …): exponential from 50ms,
 * capped at `maxDelayMs`, plus up to 50ms of jitter. It never gives up, so the list
 * reconnects whenever Redis comes back.
 */
export function reconnectDelay(times: number, maxDelayMs: number): number {
  const exponential = FIRST_RETRY_DELAY_MS * 2 ** Math.min(times - 1, 16);
  return Math.min(exponential, maxDelayMs) + Math.floor(Math.random() * RETRY_JITTER_MS);
}

/**
 * Creates an ioredis client for the revocation list. `role` names the connection in
 * `CLIENT LIST`. Every client is created with:
 *
 * - `lazyConnect`, so that nothing connects before `start`;
 * - `enableOfflineQueue: false` and `maxRetriesPerRequest: 0`, so a command fails at once
 *   while the connection is down instead of waiting in a queue;
 * - `commandTimeout`, so a command fails when Redis does not reply in time;
 * - `autoResubscribe: false`, because the list subscribes again itself and must then reload;
 * - reconnection with exponential backoff that never stops.
 *
 * Raises an Error when the variable named by `password_env` is not set.
 */
export function createRevocationClient(
  settings: RevocationRedisSettings,
  role: 'command' | 'subscriber',
  env: Environment = process.env,
): Redis | Cluster {
  const retry = (times: number) => reconnectDelay(times, settings.reconnect_max_delay);
  const connection = {
    commandTimeout: settings.command_timeout,
    connectTimeout: settings.connect_timeout,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    lazyConnect: true,
    connectionName: `agentflow-gateway-revocation-${role}`,
    username: settings.username,
    password: readPassword(settings, env),
  } satisfies RedisOptions;
  if (settings.mode === 'cluster') {
    const options: ClusterOptions = {
      enableOfflineQueue: false,
      lazyConnect: true,
      clusterRetryStrategy: retry,
      slotsRefreshTimeout: settings.connect_timeout,
      redisOptions: connection,
    };
    return new Cluster(settings.nodes!, options);
  }
  const common: RedisOptions = {
    ...connection,
    db: settings.db ?? 0,
    enableOfflineQueue: false,
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
  return new Redis({ ...common, ...standaloneAddress(settings) });
}

/** Returns host, port, database and TLS of a standalone server from `url` or `host`/`port`. */
function standaloneAddress(settings: RevocationRedisSettings): RedisOptions {
  if (settings.url === undefined) {
    return { host: settings.host!, port: settings.port ?? DEFAULT_PORT };
  }
  const url = new URL(settings.url);
  const database = url.pathname.replace(/^\//, '');
  const address: RedisOptions = {
    // URL keeps the brackets of an IPv6 literal; the socket needs the bare address.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? DEFAULT_PORT : Number(url.port),
  };
  if (database !== '') address.db = Number(database);
  if (url.username !== '') address.username = decodeURIComponent(url.username);
  if (url.protocol === 'rediss:') address.tls = { servername: url.hostname };
  return address;
}

function readPassword(settings: RevocationRedisSettings, env: Environment): string | undefined {
  if (settings.password_env === undefined) return undefined;
  const password = env[settings.password_env];
  if (password === undefined || password === '') {
    throw new Error(
      `environment variable ${settings.password_env} (revocation.redis.password_env) is not set`,
    );
  }
  return password;
}
