import type { Cluster, Redis } from 'ioredis';
import type { StoredSecurityEvent } from './event.js';
import {
  EventsUnavailableError,
  matchesQuery,
  type EventPage,
  type EventQuery,
  type EventReader,
} from './query.js';
import { STREAM_EVENT_FIELD } from './redis-sink.js';

/** Stream entries read per XREVRANGE. */
const CHUNK_ENTRIES = 500;
/**
 * Stream entries read at most per request. A filter that matches few entries then returns a
 * short page with a cursor, instead of reading the whole stream in one request.
 */
export const MAX_SCANNED_ENTRIES = 10_000;
/**
 * Allowed difference in ms between a gateway's clock, which sets `time`, and the Redis clock,
 * which sets the stream id when the event is written. `since` starts the stream range this much
 * earlier, and the event's `time` decides.
 */
export const CLOCK_SKEW_MS = 60_000;
const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;
/** Largest part of a stream id: Redis stores the milliseconds and the sequence as uint64. */
const MAX_STREAM_ID_PART = 2n ** 64n - 1n;

type StreamEntry = [id: string, fields: string[]];

/**
 * Reads the event stream newest first with XREVRANGE. A position is a stream id. Entries are in
 * the order they reached Redis, which across replicas may differ slightly from the order of
 * their `time`. An entry that does not parse as an event is skipped.
 */
export class RedisEventReader implements EventReader {
  readonly source = 'redis' as const;
  readonly #client: Redis | Cluster;
  readonly #streamKey: string;

  constructor(client: Redis | Cluster, streamKey: string) {
    this.#client = client;
    this.#streamKey = streamKey;
  }

  /**
   * Accepts only ids that XREVRANGE takes as an exclusive end: each part at most 2^64 - 1, and
   * not 0-0, which has no id before it. Redis returns an error for any other id.
   */
  isPosition(position: string): boolean {
    const parts = STREAM_ID.exec(position);
    if (parts === null) return false;
    const milliseconds = BigInt(parts[1]!);
    const sequence = BigInt(parts[2]!);
    if (milliseconds > MAX_STREAM_ID_PART || sequence > MAX_STREAM_ID_PART) return false;
    return milliseconds > 0n || sequence > 0n;
  }

  async read(query: EventQuery): Promise<EventPage> {
    const since = query.since === undefined ? undefined : Math.max(0, query.since - CLOCK_SKEW_MS);
    const start = since === undefined ? '-' : String(since);
    const events: StoredSecurityEvent[] = [];
    let lastPushed: string | undefined;
    let lastScanned = query.after;
    let scanned = 0;
    while (scanned < MAX_SCANNED_ENTRIES) {
      const count = Math.min(CHUNK_ENTRIES, MAX_SCANNED_ENTRIES - scanned);
      const end = lastScanned === undefined ? '+' : `(${lastScanned}`;
      const entries = await this.#range(end, start, count);
      for (const [id, fields] of entries) {
        const event = parseEntry(fields);
        if (event !== undefined && matchesQuery(event, query)) {
          // One match past the page shows that there is a next page.
          if (events.length === query.limit) return { events, next: lastPushed };
          events.push(event);
          lastPushed = id;
        }
        lastScanned = id;
      }
      scanned += entries.length;
      if (entries.length < count) return { events, next: undefined };
    }
    // The scan budget ran out: the next page starts after the last entry read.
    return { events, next: lastScanned };
  }

  async #range(end: string, start: string, count: number): Promise<StreamEntry[]> {
    try {
      return (await this.#client.xrevrange(
        this.#streamKey,
        end,
        start,
        'COUNT',
        count,
      )) as StreamEntry[];
    } catch (error) {
      throw new EventsUnavailableError(
        `reading the event stream failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }
}

function parseEntry(fields: readonly string[]): StoredSecurityEvent | undefined {
  for (let index = 0; index + 1 < fields.length; index += 2) {
    if (fields[index] !== STREAM_EVENT_FIELD) continue;
    try {
      const event = JSON.parse(fields[index + 1]!) as StoredSecurityEvent;
      return typeof event === 'object' && event !== null && typeof event.id === 'string'
        ? event
        : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
