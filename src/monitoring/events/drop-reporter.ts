import type { Logger } from '../logger.js';
import type { DropReason, EventSinkName } from './sink.js';

/** Shortest time in ms between two log lines about dropped events of one sink. */
export const DROP_LOG_INTERVAL_MS = 10_000;

/**
 * Logs the events a sink dropped: the first drop at once, then at most one line per interval
 * with the counts since the previous line, so that an outage writes a few lines, not one per
 * event. The metrics count every drop whatever is logged.
 */
export class DropReporter {
  readonly #log: Logger;
  readonly #sink: EventSinkName;
  readonly #intervalMs: number;
  #counts: Partial<Record<DropReason, number>> = {};
  #lastError: unknown = undefined;
  #timer: NodeJS.Timeout | undefined = undefined;

  constructor(log: Logger, sink: EventSinkName, intervalMs = DROP_LOG_INTERVAL_MS) {
    this.#log = log;
    this.#sink = sink;
    this.#intervalMs = intervalMs;
  }

  report(reason: DropReason, count: number, error?: unknown): void {
    this.#counts[reason] = (this.#counts[reason] ?? 0) + count;
    if (error !== undefined) this.#lastError = error;
    if (this.#timer !== undefined) return;
    this.#flush();
    this.#startTimer();
  }

  /** Logs the drops not yet logged and stops the timer. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flush();
  }

  #startTimer(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (Object.keys(this.#counts).length === 0) return;
      this.#flush();
      this.#startTimer();
    }, this.#intervalMs);
    this.#timer.unref();
  }

  #flush(): void {
    if (Object.keys(this.#counts).length === 0) return;
    this.#log.warn(
      { sink: this.#sink, dropped: this.#counts, err: this.#lastError },
      'security event sink dropped events; see agentflow_gateway_event_sink_drops_total',
    );
    this.#counts = {};
    this.#lastError = undefined;
  }
}
