import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/**
 * Problem codes of the revocation admin API. `payload_too_large`, `method_not_allowed`,
 * `route_not_found` and `internal_error` match the gateway's error catalogue; the others are
 * new to the admin API.
 */
export const ADMIN_PROBLEMS = {
  invalid_json: { status: 400, title: 'The request body is not valid JSON' },
  invalid_revocation: { status: 400, title: 'The revocation request is invalid' },
  invalid_query: { status: 400, title: 'The query string is invalid' },
  invalid_cursor: { status: 400, title: 'The cursor is invalid' },
  invalid_limit: { status: 400, title: 'The page limit is invalid' },
  invalid_revocation_path: { status: 400, title: 'The revocation path is invalid' },
  admin_unauthorized: { status: 401, title: 'The admin token is missing or invalid' },
  route_not_found: { status: 404, title: 'No route matches the request' },
  revocation_not_found: { status: 404, title: 'No such revocation' },
  method_not_allowed: { status: 405, title: 'The method is not allowed on this route' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'The request body must be application/json' },
  internal_error: { status: 500, title: 'The gateway failed to handle the request' },
  revocation_unavailable: { status: 503, title: 'The revocation store is unavailable' },
  revocation_list_full: { status: 507, title: 'The revocation list is full' },
} as const satisfies Record<string, { status: number; title: string }>;

export type AdminProblemCode = keyof typeof ADMIN_PROBLEMS;

/**
 * Sends an RFC 9457 problem: the stable code, its title, and `detail`, which states what the
 * operator should fix. `detail` must never contain a token.
 */
export function sendProblem(
  response: ServerResponse,
  code: AdminProblemCode,
  detail: string,
  headers: Record<string, string> = {},
): void {
  const { status, title } = ADMIN_PROBLEMS[code];
  const requestId = randomUUID();
  const body = JSON.stringify({
    type: `urn:agentflow-gateway:error:${code}`,
    title,
    status,
    code,
    detail,
    request_id: requestId,
  });
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/problem+json',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'x-request-id': requestId,
  });
  response.end(body);
}

/** Sends a JSON body, or no body when `body` is undefined (for 204). */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: object | undefined,
  headers: Record<string, string> = {},
): void {
  if (body === undefined) {
    // RFC 9110 forbids Content-Length on 204.
    response.writeHead(status, { ...headers, 'cache-control': 'no-store' });
    response.end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  });
  response.end(text);
}
