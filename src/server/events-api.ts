import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { ErrorCode } from '../errors/catalogue.js';
import { renderProblem } from '../errors/problem.js';
import type { EventPrivacy } from '../monitoring/events/privacy.js';
import { EventsUnavailableError, type EventReader } from '../monitoring/events/query.js';
import type { Logger } from '../monitoring/logger.js';
import { authorizeAdminRequest } from '../revocation/admin-api.js';
import { sendJson } from '../revocation/admin-problem.js';
import type { AdminToken } from '../revocation/admin-token.js';
import { EventQueryError, encodeCursor, parseEventQuery } from './events-query.js';

export const EVENTS_PATH = '/admin/events';

export interface EventsApiOptions {
  /** The token that every request must present as `Authorization: Bearer …`. */
  readonly adminToken: AdminToken;
  readonly reader: EventReader;
  readonly privacy: EventPrivacy;
  readonly log: Logger;
}

/**
 * Handles `GET /admin/events` and returns true, or returns false without touching the response
 * for any other path. The request needs the admin token, as the revocation routes do. The response
 * body is `{events, next_cursor, source}`, newest first, and is written asynchronously.
 */
export function handleEventsRequest(
  request: IncomingMessage,
  response: ServerResponse,
  options: EventsApiOptions,
): boolean {
  const url = new URL(request.url ?? '/', 'http://admin.invalid');
  if (url.pathname !== EVENTS_PATH) return false;
  if (!authorizeAdminRequest(request, response, options.adminToken)) return true;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    sendProblem(response, 'method_not_allowed', `use GET on ${EVENTS_PATH}`, {
      allow: 'GET, HEAD',
    });
    return true;
  }
  const { reader, privacy, log } = options;
  let query;
  try {
    query = parseEventQuery(url.searchParams, reader, privacy);
  } catch (error) {
    if (!(error instanceof EventQueryError)) throw error;
    sendProblem(response, error.code, error.message);
    return true;
  }
  reader.read(query).then(
    (page) =>
      sendJson(response, 200, {
        events: page.events,
        next_cursor: page.next === undefined ? null : encodeCursor(reader, page.next),
        source: reader.source,
      }),
    (error: unknown) => {
      if (error instanceof EventsUnavailableError) {
        log.warn({ err: error }, 'event read failed: the event store is unavailable');
        sendProblem(response, 'events_unavailable', 'the event store is unreachable: retry later');
        return;
      }
      log.error({ err: error }, 'event read failed');
      sendProblem(response, 'internal_error', 'the request failed: see the gateway log');
    },
  );
  return true;
}

function sendProblem(
  response: ServerResponse,
  code: ErrorCode,
  detail: string,
  headers: Record<string, string> = {},
): void {
  const problem = renderProblem(code, randomUUID(), detail);
  response.writeHead(problem.status, { ...headers, ...problem.headers });
  response.end(problem.body);
}
