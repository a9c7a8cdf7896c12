import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { GatewayConfig } from '../../config/schema.js';
import { reconnectDelay } from '../../store/redis-client.js';
import type { EventsRedisSettings } from './settings.js';

/** The standard Redis port, used when neither the URL nor the settings give one. */
const DEFAULT_PORT = 6379;

/**
 * Address of the event stream's server: the fields that `store.redis` and `revocation.redis`
 * share, plus a standalone URL.
 */
export interface EventRedisAddress {
  readonly mode: 'standalone' | 'sentinel' | 'cluster';
  readonly url?: string | undefined;
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly nodes?: readonly { host: string; port: number }[] | undefined;
  readonly sentinels?: readonly { host: string; port: number }[] | undefined;
  readonly master_name?: string | undefined;
  readonly db?: number | undefined;
  readonly username?: string | undefined;
  readonly password_env?: string | undefined;
  /** Names the setting in error messages, such as `events.redis`. */
  readonly origin: string;
}

/**
 * Returns the server of the event stream: `events.redis.url`, else the server of `store.redis`
 * when the rate limiter uses Redis, else that of `revocation.redis` when revocations do.
 * Returns undefined when none is set, which the configuration schema rejects.
 */
export function eventRedisAddress(config: GatewayConfig): EventRedisAddress | undefined {
  const events = config.events.redis;
  if (events.url !== undefined) {
    return {
      mode: 'standalone',
      url: events.url,
      password_env: events.password_env,
      origin: 'events.redis',
    };
  }
  if (config.store.backend === 'redis' && config.store.redis !== undefined) {
    return { ...config.store.redis, origin: 'store.redis' };
  }
  if (config.revocation.store === 'redis' && config.revocation.redis !== undefined) {
    return { ...config.revocation.redis, origin: 'revocation.redis' };
  }
  return undefined;
}

/**
 * Creates the event sink's own ioredis client. Commands fail at once while the connection is
 * down (`enableOfflineQueue: false`) and after `command_timeout` when Redis hangs, so that the
 * sink counts the loss instead of holding events in ioredis. Unanswered commands are not sent
 * again after a reconnect, because an XADD sent twice writes the event twice. Reconnection
 * never gives up. Raises an Error when the variable named by `password_env` is not set.
 */
export function createEventRedisClient(
  address: EventRedisAddress,
  settings: EventsRedisSettings,
  env: Readonly<Record<string, string | undefined>>,
): Redis | Cluster {
  const retry = (times: number) => reconnectDelay(times, settings.reconnect_max_delay);
  const connection = {
    commandTimeout: settings.command_timeout,
    connectTimeout: settings.connect_timeout,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectionName: 'agentflow-gateway-events',
    username: address.username,
    password: readPassword(address, env),
  } satisfies RedisOptions;
  if (address.mode === 'cluster') {
    const options: ClusterOptions = {
      enableOfflineQueue: false,
      clusterRetryStrategy: retry,
      slotsRefreshTimeout: settings.connect_timeout,
      redisOptions: connection,
    };
    return new Cluster([...address.nodes!], options);
  }
  const common: RedisOptions = {
    ...connection,
    db: address.db ?? 0,
    enableOfflineQueue: false,
    retryStrategy: retry,
  };
  if (address.mode === 'sentinel') {
    return new Redis({
      ...common,
      sentinels: [...address.sentinels!],
      name: address.master_name!,
      role: 'master',
      sentinelRetryStrategy: retry,
    });
  }
  return new Redis({ ...common, ...standaloneAddress(address) });
}

function standaloneAddress(address: EventRedisAddress): RedisOptions {
  if (address.url === undefined) {
    return { host: address.host!, port: address.port ?? DEFAULT_PORT };
  }
  const url = new URL(address.url);
  const database = url.pathname.replace(/^\//, '');
  const options: RedisOptions = {
    // URL keeps the brackets of an IPv6 literal; the socket needs the bare address.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? DEFAULT_PORT : Number(url.port),
  };
  if (database !== '') options.db = Number(database);
  if (url.username !== '') options.username = decodeURIComponent(url.username);
  if (url.protocol === 'rediss:') options.tls = { servername: url.hostname };
  return options;
}

function readPassword(
  address: EventRedisAddress,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (address.password_env === undefined) return undefined;
  const password = env[address.password_env];
  if (password === undefined || password === '') {
    throw new Error(
      `environment variable ${address.password_env} (${address.origin}.password_env) is not set`,
    );
  }
  return password;
}
