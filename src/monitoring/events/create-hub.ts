import type { GatewayConfig } from '../../config/schema.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import { SecurityEventHub } from './hub.js';
import { LogEventSink } from './log-sink.js';
import { MemoryEventSink } from './memory-sink.js';
import { EventPrivacy } from './privacy.js';
import { loadHashKey } from './hash-key.js';
import type { EventReader } from './query.js';
import { createEventRedisClient, eventRedisAddress } from './redis-connection.js';
import { RedisEventReader } from './redis-reader.js';
import { RedisStreamSink } from './redis-sink.js';
import type { EventSink, SinkCounters } from './sink.js';

/** The hub and where `GET /admin/events` reads. */
export interface GatewayEvents {
  readonly hub: SecurityEventHub;
  /** The Redis Stream when that sink is on, else the ring buffer; undefined without either. */
  readonly reader: EventReader | undefined;
  /** The privacy settings, which the admin API applies to a `client_ip` filter too. */
  readonly privacy: EventPrivacy;
}

export interface CreateEventsOptions {
  readonly configFile: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
}

/**
 * Creates the event hub that `config.events` describes: the log sink always, the ring buffer and
 * the Redis Stream when enabled, and the privacy settings with their key. The Redis client
 * connects in the background. Raises an Error when the hash key cannot be read or is too short,
 * or when a Redis password variable is not set.
 */
export async function createGatewayEvents(
  config: GatewayConfig,
  options: CreateEventsOptions,
): Promise<GatewayEvents> {
  const { log, metrics } = options;
  const settings = config.events;
  const key = await loadHashKey(settings.privacy, options.configFile, options.env);
  const privacy = new EventPrivacy(settings.privacy, key);

  const counters: SinkCounters = {
    written: (sink, count) => metrics.eventSinkWrites.inc({ sink }, count),
    dropped: (sink, reason, count) => metrics.eventSinkDrops.inc({ sink, reason }, count),
  };
  const sinks: EventSink[] = [new LogEventSink(log, counters)];
  let reader: EventReader | undefined;

  if (settings.memory.enabled) {
    const memory = new MemoryEventSink(settings.memory.max_events, counters);
    sinks.push(memory);
    reader = memory;
  }
  if (settings.redis.enabled) {
    const address = eventRedisAddress(config);
    if (address === undefined) throw new Error('events.redis is enabled but names no server');
    const client = createEventRedisClient(address, settings.redis, options.env);
    sinks.push(
      new RedisStreamSink({
        client,
        streamKey: settings.redis.stream_key,
        maxLength: settings.redis.max_length,
        queueSize: settings.redis.queue_size,
        batchSize: settings.redis.batch_size,
        log,
        counters,
      }),
    );
    reader = new RedisEventReader(client, settings.redis.stream_key);
    log.info(
      { stream: settings.redis.stream_key, server: address.origin },
      'security events go to a Redis Stream',
    );
  }

  metrics.eventQueueDepthSource = () =>
    Object.fromEntries(sinks.map((sink) => [sink.name, sink.queueDepth()]));
  const hub = new SecurityEventHub({
    log,
    privacy,
    sinks,
    onPublish: (event) =>
      metrics.securityEvents.inc({ type: event.type, severity: event.severity }),
  });
  return { hub, reader, privacy };
}
