import {
  SECURITY_EVENT_TYPES,
  SEVERITIES,
  isSecurityEventType,
  isSeverity,
} from '../monitoring/events/event.js';
import type { EventPrivacy } from '../monitoring/events/privacy.js';
import {
  DEFAULT_EVENTS_PAGE,
  MAX_EVENTS_PAGE,
  type EventQuery,
  type EventReader,
} from '../monitoring/events/query.js';
import { formatIpAddress, parseIpAddress } from '../net/ip-address.js';

/** Query parameters of `GET /admin/events`. */
const PARAMETERS = new Set([
  'type',
  'severity',
  'since',
  'until',
  'route',
  'client_ip',
  'cursor',
  'limit',
]);
/** Parameters that may repeat, or carry a comma-separated list. */
const LIST_PARAMETERS = new Set(['type', 'severity']);
/** RFC 3339 `date-time`, with `T` or `t` and a `Z` or numeric offset. */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;
/** Longest `route` or `client_ip` value; longer ones cannot match a stored event. */
const MAX_VALUE_LENGTH = 256;

/** A query parameter that cannot be used; `code` is the catalogue code of the 400 response. */
export class EventQueryError extends Error {
  constructor(
    readonly code: 'events_invalid_query' | 'events_invalid_cursor',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Parses the query string of `GET /admin/events` into a query for `reader`. `client_ip` matches
 * the value as given and, when it is an address, that address as the privacy settings write it.
 * Raises EventQueryError naming the parameter and what it must be.
 */
export function parseEventQuery(
  params: URLSearchParams,
  reader: EventReader,
  privacy: EventPrivacy,
): EventQuery {
  for (const name of new Set(params.keys())) {
    if (!PARAMETERS.has(name)) {
      throw new EventQueryError(
        'events_invalid_query',
        `unknown parameter ${name}: use ${[...PARAMETERS].join(', ')}`,
      );
    }
    if (!LIST_PARAMETERS.has(name) && params.getAll(name).length > 1) {
      throw new EventQueryError('events_invalid_query', `give ${name} at most once`);
    }
  }
  const since = timeParameter(params, 'since');
  const until = timeParameter(params, 'until');
  if (since !== undefined && until !== undefined && since > until) {
    throw new EventQueryError('events_invalid_query', 'since must not be later than until');
  }
  return {
    types: listParameter(params, 'type', SECURITY_EVENT_TYPES, isSecurityEventType),
    severities: listParameter(params, 'severity', SEVERITIES, isSeverity),
    since,
    until,
    route: textParameter(params, 'route'),
    clientIps: clientIpValues(textParameter(params, 'client_ip'), privacy),
    after: cursorPosition(params.get('cursor'), reader),
    limit: limitParameter(params.get('limit')),
  };
}

/** Encodes a reader position as the opaque `next_cursor` of a response. */
export function encodeCursor(reader: EventReader, position: string): string {
  return Buffer.from(`${reader.source}:${position}`, 'utf8').toString('base64url');
}

function cursorPosition(cursor: string | null, reader: EventReader): string | undefined {
  if (cursor === null || cursor === '') return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const prefix = `${reader.source}:`;
  const position = text.startsWith(prefix) ? text.slice(prefix.length) : undefined;
  if (
    position === undefined ||
    !reader.isPosition(position) ||
    encodeCursor(reader, position) !== cursor
  ) {
    throw new EventQueryError(
      'events_invalid_cursor',
      `the cursor was not returned by this ${reader.source} event store: pass next_cursor unchanged`,
    );
  }
  return position;
}

function listParameter<T extends string>(
  params: URLSearchParams,
  name: string,
  allowed: readonly T[],
  isAllowed: (value: string) => value is T,
): ReadonlySet<T> | undefined {
  const values = params.getAll(name).flatMap((value) => value.split(','));
  if (values.length === 0) return undefined;
  const set = new Set<T>();
  for (const value of values) {
    if (!isAllowed(value)) {
      throw new EventQueryError(
        'events_invalid_query',
        `unknown ${name} "${value.slice(0, 40)}": use ${allowed.join(', ')}`,
      );
    }
    set.add(value);
  }
  return set;
}

function timeParameter(params: URLSearchParams, name: string): number | undefined {
  const text = params.get(name);
  if (text === null) return undefined;
  const time = parseRfc3339(text);
  if (time === undefined) {
    throw new EventQueryError(
      'events_invalid_query',
      `${name} must be an RFC 3339 time such as 2025-01-31T12:00:00Z`,
    );
  }
  return time;
}

/**
 * Returns the time in ms since the epoch, or undefined when `text` is not an RFC 3339 date-time
 * or names a day or time that does not exist, such as February 30, which Date.parse would move
 * into March. A leap second (`:60`) is not accepted.
 */
function parseRfc3339(text: string): number | undefined {
  const fields = RFC3339.exec(text);
  if (fields === null) return undefined;
  const [year, month, day, hour, minute, second, offsetHour, offsetMinute] = fields
    .slice(1)
    .map((field) => (field === undefined ? 0 : Number(field)));
  const date = new Date(Date.UTC(year!, month! - 1, day!));
  const dayExists = date.getUTCMonth() === month! - 1 && date.getUTCDate() === day;
  const timeExists = hour! <= 23 && minute! <= 59 && second! <= 59;
  const offsetExists = offsetHour! <= 23 && offsetMinute! <= 59;
  if (!dayExists || !timeExists || !offsetExists) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}

function textParameter(params: URLSearchParams, name: string): string | undefined {
  const text = params.get(name);
  if (text === null) return undefined;
  if (text === '' || text.length > MAX_VALUE_LENGTH) {
    throw new EventQueryError(
      'events_invalid_query',
      `${name} must be 1 to ${MAX_VALUE_LENGTH} characters`,
    );
  }
  return text;
}

function clientIpValues(
  value: string | undefined,
  privacy: EventPrivacy,
): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  const address = parseIpAddress(value);
  if (address === undefined) return new Set([value]);
  const canonical = formatIpAddress(address);
  return new Set([value, canonical, privacy.address(canonical)]);
}

function limitParameter(text: string | null): number {
  if (text === null) return DEFAULT_EVENTS_PAGE;
  const limit = Number(text);
  if (!/^\d{1,4}$/.test(text) || limit < 1 || limit > MAX_EVENTS_PAGE) {
    throw new EventQueryError(
      'events_invalid_query',
      `limit must be a whole number from 1 to ${MAX_EVENTS_PAGE}`,
    );
  }
  return limit;
}
