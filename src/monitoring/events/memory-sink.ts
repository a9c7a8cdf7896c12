import { EVENT_ID_PATTERN } from './event-id.js';
import type { StoredSecurityEvent } from './event.js';
import { matchesQuery, type EventPage, type EventQuery, type EventReader } from './query.js';
import { UNCOUNTED, type EventSink, type SinkCounters } from './sink.js';

/**
 * The last `capacity` events of this process, in a ring buffer: the oldest is overwritten once
 * it is full. Reads page by event id, which grows with every publish in one process.
 */
export class MemoryEventSink implements EventSink, EventReader {
  readonly name = 'memory' as const;
  readonly source = 'memory' as const;
  readonly capacity: number;
  readonly #buffer: (StoredSecurityEvent | undefined)[];
  readonly #counters: SinkCounters;
  /** Index of the next write. */
  #next = 0;
  #size = 0;

  constructor(capacity: number, counters: SinkCounters = UNCOUNTED) {
    this.capacity = capacity;
    this.#buffer = new Array<StoredSecurityEvent | undefined>(capacity).fill(undefined);
    this.#counters = counters;
  }

  get size(): number {
    return this.#size;
  }

  accept(event: StoredSecurityEvent): void {
    this.#buffer[this.#next] = event;
    this.#next = (this.#next + 1) % this.capacity;
    this.#size = Math.min(this.#size + 1, this.capacity);
    this.#counters.written(this.name, 1);
  }

  queueDepth(): number {
    return 0;
  }

  async close(): Promise<void> {}

  isPosition(position: string): boolean {
    return EVENT_ID_PATTERN.test(position);
  }

  async read(query: EventQuery): Promise<EventPage> {
    const events: StoredSecurityEvent[] = [];
    for (const event of this.#newestFirst()) {
      if (query.after !== undefined && event.id >= query.after) continue;
      if (!matchesQuery(event, query)) continue;
      // One match past the page shows that there is a next page.
      if (events.length === query.limit) return { events, next: events.at(-1)!.id };
      events.push(event);
    }
    return { events, next: undefined };
  }

  *#newestFirst(): Generator<StoredSecurityEvent> {
    for (let offset = 1; offset <= this.#size; offset += 1) {
      const index = (this.#next - offset + this.capacity) % this.capacity;
      yield this.#buffer[index]!;
    }
  }
}
