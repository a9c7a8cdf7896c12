import type { Logger } from '../logger.js';
import type { StoredSecurityEvent } from './event.js';
import { UNCOUNTED, type EventSink, type SinkCounters } from './sink.js';

/**
 * Writes each event through the gateway's logger as a `security event` line at warn level, so
 * that it survives the usual production level. The event is under `event`, and its request id
 * is at the top level like in every other line of the request. This sink is always on.
 */
export class LogEventSink implements EventSink {
  readonly name = 'log' as const;
  readonly #log: Logger;
  readonly #counters: SinkCounters;

  constructor(log: Logger, counters: SinkCounters = UNCOUNTED) {
    this.#log = log;
    this.#counters = counters;
  }

  accept(event: StoredSecurityEvent): void {
    this.#log.warn({ request_id: event.request_id, event }, 'security event');
    this.#counters.written(this.name, 1);
  }

  queueDepth(): number {
    return 0;
  }

  async close(): Promise<void> {}
}
