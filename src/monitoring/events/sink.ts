import type { StoredSecurityEvent } from './event.js';

/** Names of the sinks, as the metrics label them. */
export type EventSinkName = 'log' | 'memory' | 'redis';

/** One destination of security events. */
export interface EventSink {
  readonly name: EventSinkName;
  /** Takes one event without waiting on I/O: writes it at once or queues it. Never throws. */
  accept(event: StoredSecurityEvent): void;
  /** Events accepted and not yet written. */
  queueDepth(): number;
  /** Writes what is queued, within the sink's own time bound, and releases its resources. */
  close(): Promise<void>;
}

/**
 * Why a sink lost events: its queue was full, a write of a batch failed, or the event came after
 * the sink had stopped.
 */
export type DropReason = 'queue_full' | 'write_failed' | 'stopped';

/** Counters of the events that sinks wrote and lost; the gateway's metrics in production. */
export interface SinkCounters {
  written(sink: EventSinkName, count: number): void;
  dropped(sink: EventSinkName, reason: DropReason, count: number): void;
}

/** Counters that count nothing, for sinks used without metrics. */
export const UNCOUNTED: SinkCounters = { written: () => {}, dropped: () => {} };
