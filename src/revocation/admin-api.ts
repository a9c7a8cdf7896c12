import type { IncomingMessage, ServerResponse } from 'node:http';
import { AdminInputError, parseRevocationBody, readJsonBody } from './admin-body.js';
import { sendJson, sendProblem } from './admin-problem.js';
import type { AdminToken } from './admin-token.js';
import {
  InvalidCursorError,
  InvalidRevocationError,
  RevocationListFullError,
  RevocationUnavailableError,
} from './errors.js';
import { SILENT_REVOCATION_LOG, type RevocationLog } from './log.js';
import { isRevocationKind, type RevocationRecord } from './record.js';
import { MAX_PAGE_LIMIT, type RevocationList } from './revocation-list.js';

/** Path of the revocation collection; items are `{COLLECTION}/{kind}/{value}`. */
export const REVOCATIONS_PATH = '/admin/revocations';

export interface RevocationApiOptions {
  readonly list: RevocationList;
  /** The token that every request must present as `Authorization: Bearer …`. */
  readonly adminToken: AdminToken;
  readonly log?: RevocationLog | undefined;
}

const BEARER = /^Bearer +([^\s]+) *$/i;
const CHALLENGE = 'Bearer realm="agentflow-gateway-admin"';

/**
 * Handles the revocation admin API and returns true, or returns false without touching the
 * response when the path is not under /admin/revocations. Every request needs the admin token.
 *
 * - `POST /admin/revocations`: body `{jti|sub|sid, reason, ttl?, exp?, issued_before?}`;
 *   201 with the stored record.
 * - `GET /admin/revocations?cursor=&limit=`: 200 with `{revocations, next_cursor}`.
 * - `DELETE /admin/revocations/{kind}/{value}`: 204, or 404 when there is no such record.
 *
 * Rejections are `application/problem+json` with a stable `code` and a `detail` saying what to
 * fix. The response is written asynchronously, after this function has returned.
 */
export function handleRevocationRequest(
  request: IncomingMessage,
  response: ServerResponse,
  options: RevocationApiOptions,
): boolean {
  const url = new URL(request.url ?? '/', 'http://admin.invalid');
  const path = url.pathname;
  if (path !== REVOCATIONS_PATH && !path.startsWith(`${REVOCATIONS_PATH}/`)) return false;
  const log = options.log ?? SILENT_REVOCATION_LOG;
  route(request, response, url, options).catch((error: unknown) => {
    respondToError(response, error, log, request.method ?? '');
  });
  return true;
}

async function route(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  options: RevocationApiOptions,
): Promise<void> {
  if (!authorizeAdminRequest(request, response, options.adminToken)) return;
  const method = request.method ?? '';
  if (url.pathname === REVOCATIONS_PATH) {
    if (method === 'POST') return createRevocation(request, response, options);
    if (method === 'GET') return listRevocations(response, url, options.list);
    sendProblem(response, 'method_not_allowed', `use GET or POST on ${REVOCATIONS_PATH}`, {
      allow: 'GET, POST',
    });
    return;
  }
  if (method !== 'DELETE') {
    sendProblem(response, 'method_not_allowed', 'use DELETE on a single revocation', {
      allow: 'DELETE',
    });
    return;
  }
  return deleteRevocation(response, url, options);
}

/**
 * Sends 401 `admin_unauthorized` and returns false unless the request carries the admin token
 * as `Authorization: Bearer`. Every admin route that needs the token calls this.
 */
export function authorizeAdminRequest(
  request: IncomingMessage,
  response: ServerResponse,
  token: AdminToken,
): boolean {
  const header = request.headers.authorization;
  if (header === undefined) {
    sendProblem(
      response,
      'admin_unauthorized',
      'the admin token is missing: send Authorization: Bearer <admin token>',
      { 'www-authenticate': CHALLENGE },
    );
    return false;
  }
  const presented = BEARER.exec(header)?.[1];
  if (presented !== undefined && token.matches(presented)) return true;
  sendProblem(response, 'admin_unauthorized', 'the admin token is invalid', {
    'www-authenticate': `${CHALLENGE}, error="invalid_token"`,
  });
  return false;
}

async function createRevocation(
  request: IncomingMessage,
  response: ServerResponse,
  options: RevocationApiOptions,
): Promise<void> {
  const revocation = parseRevocationBody(await readJsonBody(request));
  const record = await options.list.revoke(revocation);
  const location = `${REVOCATIONS_PATH}/${record.kind}/${encodeURIComponent(record.value)}`;
  sendJson(response, 201, recordJson(record), { location });
}

async function listRevocations(
  response: ServerResponse,
  url: URL,
  list: RevocationList,
): Promise<void> {
  for (const name of url.searchParams.keys()) {
    if (name !== 'cursor' && name !== 'limit') {
      throw new AdminInputError('invalid_query', `unknown parameter ${name}: use cursor and limit`);
    }
  }
  const cursor = url.searchParams.get('cursor') ?? undefined;
  const page = await list.list({ cursor: cursor || undefined, limit: parseLimit(url) });
  sendJson(response, 200, {
    revocations: page.records.map(recordJson),
    next_cursor: page.nextCursor ?? null,
  });
}

function parseLimit(url: URL): number | undefined {
  const text = url.searchParams.get('limit');
  if (text === null || text === '') return undefined;
  const limit = Number(text);
  if (!/^\d+$/.test(text) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new AdminInputError(
      'invalid_limit',
      `limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}, got "${text}"`,
    );
  }
  return limit;
}

async function deleteRevocation(
  response: ServerResponse,
  url: URL,
  options: RevocationApiOptions,
): Promise<void> {
  const rest = url.pathname.slice(REVOCATIONS_PATH.length + 1);
  const slash = rest.indexOf('/');
  const kind = slash === -1 ? rest : rest.slice(0, slash);
  const encodedValue = slash === -1 ? '' : rest.slice(slash + 1);
  if (!isRevocationKind(kind)) {
    throw new AdminInputError(
      'invalid_revocation_path',
      `unknown kind "${kind}": use ${REVOCATIONS_PATH}/{jti|sub|sid}/{value}`,
    );
  }
  const value = decodeValue(encodedValue);
  if (!(await options.list.unrevoke(kind, value))) {
    sendProblem(response, 'revocation_not_found', `no ${kind} revocation for that value`);
    return;
  }
  sendJson(response, 204, undefined);
}

function decodeValue(encoded: string): string {
  let value: string;
  try {
    value = decodeURIComponent(encoded);
  } catch {
    throw new AdminInputError('invalid_revocation_path', 'the value is not valid percent-encoding');
  }
  if (value === '') {
    throw new AdminInputError(
      'invalid_revocation_path',
      `the value is missing: use ${REVOCATIONS_PATH}/{kind}/{value}`,
    );
  }
  return value;
}

/** Converts a record to its JSON form, with snake_case names and ISO 8601 times. */
function recordJson(record: RevocationRecord): object {
  return {
    kind: record.kind,
    value: record.value,
    reason: record.reason,
    created_at: new Date(record.createdAt).toISOString(),
    expires_at: record.expiresAt === undefined ? null : new Date(record.expiresAt).toISOString(),
    ...(record.issuedBefore === undefined
      ? {}
      : { issued_before: new Date(record.issuedBefore).toISOString() }),
  };
}

function respondToError(
  response: ServerResponse,
  error: unknown,
  log: RevocationLog,
  method: string,
): void {
  if (response.headersSent) {
    log.error({ err: error, method }, 'revocation admin request failed after the response began');
    response.destroy();
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof AdminInputError) {
    const headers: Record<string, string> =
      error.code === 'payload_too_large' ? { connection: 'close' } : {};
    sendProblem(response, error.code, message, headers);
  } else if (error instanceof InvalidRevocationError) {
    sendProblem(response, 'invalid_revocation', message);
  } else if (error instanceof InvalidCursorError) {
    sendProblem(response, 'invalid_cursor', message);
  } else if (error instanceof RevocationListFullError) {
    sendProblem(response, 'revocation_list_full', message);
  } else if (error instanceof RevocationUnavailableError) {
    log.warn({ err: error, method }, 'revocation admin request failed: store unavailable');
    sendProblem(
      response,
      'revocation_unavailable',
      'the revocation store is unreachable: retry later',
    );
  } else {
    log.error({ err: error, method }, 'revocation admin request failed');
    sendProblem(response, 'internal_error', 'the request failed: see the gateway log');
  }
}
