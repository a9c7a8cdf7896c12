import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { DropReporter } from './drop-reporter.js';
import type { StoredSecurityEvent } from './event.js';
import type { EventSink, SinkCounters } from './sink.js';

/** The stream entry's one field: the event as JSON. */
export const STREAM_EVENT_FIELD = 'event';
/** Maximum wait in ms, at close, for queued events to be written. */
const CLOSE_DRAIN_MS = 2_000;
const CLOSE_POLL_MS = 10;

export interface RedisStreamSinkOptions {
  readonly client: Redis | Cluster;
  readonly streamKey: string;
  /** Approximate maximum entries of the stream (`MAXLEN ~`). */
  readonly maxLength: number;
  /** Events waiting to be written; more are dropped. */
  readonly queueSize: number;
  /** Events per pipeline. */
  readonly batchSize: number;
  readonly log: Logger;
  readonly counters: SinkCounters;
}

/**
 * Appends events to a Redis Stream with `XADD key MAXLEN ~ N * event JSON`, in pipelined
 * batches from a bounded queue, so that publishing never waits for Redis:
 *
 * - while the connection is down, events wait in the queue and are written once it is ready;
 * - a full queue drops the new event (`queue_full`);
 * - a batch that fails or times out is dropped (`write_failed`) and not sent again, because a
 *   timed-out XADD may have been applied and a second one would write the event twice.
 *
 * Every drop is counted, and logged at most once per interval.
 */
export class RedisStreamSink implements EventSink {
  readonly name = 'redis' as const;
  readonly #options: RedisStreamSinkOptions;
  readonly #drops: DropReporter;
  #queue: StoredSecurityEvent[] = [];
  #writing = false;
  #scheduled = false;
  #closed = false;
  /** `connecting` until the first connection is ready or fails; each change is logged once. */
  #connection: 'connecting' | 'up' | 'down' = 'connecting';
  #lastError: unknown = undefined;

  constructor(options: RedisStreamSinkOptions) {
    this.#options = options;
    this.#drops = new DropReporter(options.log, this.name);
    const { client, log, streamKey, queueSize } = options;
    client.on('ready', () => {
      this.#connection = 'up';
      log.info({ stream: streamKey }, 'security event stream connected to Redis');
      this.#schedule();
    });
    // Without an 'error' listener ioredis prints every connection error. Only the first error of
    // an outage is logged here, not the failed reconnection attempts after it.
    client.on('error', (error: unknown) => {
      this.#lastError = error;
      if (this.#connection !== 'connecting') return;
      this.#connection = 'down';
      log.warn(
        { stream: streamKey, err: error, queue_size: queueSize },
        'security event stream cannot reach Redis; queueing events until it is reachable',
      );
    });
    client.on('close', () => {
      if (this.#connection !== 'up' || this.#closed) return;
      this.#connection = 'down';
      log.warn(
        { stream: streamKey, err: this.#lastError, queue_size: queueSize },
        'security event stream lost Redis; queueing events until it is back',
      );
    });
  }

  accept(event: StoredSecurityEvent): void {
    if (this.#closed || this.#queue.length >= this.#options.queueSize) {
      const reason = this.#closed ? 'stopped' : 'queue_full';
      this.#options.counters.dropped(this.name, reason, 1);
      this.#drops.report(reason, 1);
      return;
    }
    this.#queue.push(event);
    this.#schedule();
  }

  queueDepth(): number {
    return this.#queue.length;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const deadline = Date.now() + CLOSE_DRAIN_MS;
    while ((this.#queue.length > 0 || this.#writing) && this.#ready() && Date.now() < deadline) {
      this.#schedule();
      await new Promise((resolve) => setTimeout(resolve, CLOSE_POLL_MS));
    }
    const unwritten = this.#queue.length;
    this.#queue = [];
    if (unwritten > 0) {
      this.#options.counters.dropped(this.name, 'stopped', unwritten);
      this.#drops.report('stopped', unwritten);
    }
    this.#drops.close();
    this.#options.client.disconnect();
  }

  #ready(): boolean {
    return this.#options.client.status === 'ready';
  }

  /** Starts a drain on the next turn of the event loop, so that one turn's events share batches. */
  #schedule(): void {
    if (this.#writing || this.#scheduled || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    // Not connected: the 'ready' listener starts the next drain.
    if (this.#writing || !this.#ready()) return;
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && this.#ready()) {
        await this.#write(this.#queue.splice(0, this.#options.batchSize));
      }
    } finally {
      this.#writing = false;
    }
    // Events that arrived during the last write of a connection that is still up.
    this.#schedule();
  }

  async #write(batch: readonly StoredSecurityEvent[]): Promise<void> {
    const { client, streamKey, maxLength, counters } = this.#options;
    const pipeline = client.pipeline();
    for (const event of batch) {
      pipeline.xadd(
        streamKey,
        'MAXLEN',
        '~',
        String(maxLength),
        '*',
        STREAM_EVENT_FIELD,
        JSON.stringify(event),
      );
    }
    let failed = batch.length;
    let firstError: unknown;
    try {
      const results = (await pipeline.exec()) ?? [];
      failed = batch.length - results.filter(([error]) => error === null).length;
      firstError = results.find(([error]) => error !== null)?.[0];
    } catch (error) {
      firstError = error;
    }
    if (batch.length > failed) counters.written(this.name, batch.length - failed);
    if (failed > 0) {
      counters.dropped(this.name, 'write_failed', failed);
      this.#drops.report('write_failed', failed, firstError);
    }
  }
}
