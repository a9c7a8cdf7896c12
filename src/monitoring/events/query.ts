import type { SecurityEventType, Severity, StoredSecurityEvent } from './event.js';

/** Largest page of `GET /admin/events`. */
export const MAX_EVENTS_PAGE = 500;
export const DEFAULT_EVENTS_PAGE = 100;

/** A filtered read of stored events, newest first. Every filter that is set must match. */
export interface EventQuery {
  readonly types?: ReadonlySet<SecurityEventType> | undefined;
  readonly severities?: ReadonlySet<Severity> | undefined;
  /** Inclusive bounds on the event's `time`, in ms since the epoch. */
  readonly since?: number | undefined;
  readonly until?: number | undefined;
  readonly route?: string | undefined;
  /** Values `client_ip` may have: the one asked for, and that value as privacy writes it. */
  readonly clientIps?: ReadonlySet<string> | undefined;
  /** Position of the previous page's end, as the reader returned it; the page starts after it. */
  readonly after?: string | undefined;
  readonly limit: number;
}

export interface EventPage {
  readonly events: readonly StoredSecurityEvent[];
  /** Position to continue from, or undefined when no older event can match. */
  readonly next: string | undefined;
}

/** Source of `GET /admin/events`: the Redis Stream when that sink is on, else memory. */
export interface EventReader {
  readonly source: 'memory' | 'redis';
  /** Returns whether `position` has the form of a position this reader returns. */
  isPosition(position: string): boolean;
  /** Raises EventsUnavailableError when the store cannot be read. */
  read(query: EventQuery): Promise<EventPage>;
}

/** Raised when the event store cannot be read; the admin API then responds with 503. */
export class EventsUnavailableError extends Error {}

export function matchesQuery(event: StoredSecurityEvent, query: EventQuery): boolean {
  if (query.types !== undefined && !query.types.has(event.type)) return false;
  if (query.severities !== undefined && !query.severities.has(event.severity)) return false;
  if (query.route !== undefined && event.route !== query.route) return false;
  if (query.clientIps !== undefined && !query.clientIps.has(event.client_ip)) return false;
  if (query.since !== undefined || query.until !== undefined) {
    const time = Date.parse(event.time);
    if (query.since !== undefined && time < query.since) return false;
    if (query.until !== undefined && time > query.until) return false;
  }
  return true;
}
