import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { ErrorCode } from '../errors/catalogue.js';
import { renderProblem } from '../errors/problem.js';
import type { EventPrivacy } from '../monitoring/events/privacy.js';
import type { Logger } from '../monitoring/logger.js';
import { canonicalIpText, parseIpAddress } from '../net/ip-address.js';
import { authorizeAdminRequest } from '../revocation/admin-api.js';
import { AdminInputError, readJsonBody } from '../revocation/admin-body.js';
import { sendJson } from '../revocation/admin-problem.js';
import type { AdminToken } from '../revocation/admin-token.js';
import { parseDuration } from '../util/units.js';
import {
  BlockListFullError,
  BlockStoreUnavailableError,
  type BlockList,
} from './blocks/block-list.js';
import {
  BLOCK_KINDS,
  blockToJson,
  isBlockKind,
  MANUAL_BLOCK_RULE,
  type BlockKind,
} from './blocks/block-record.js';
import type { FiringsLog } from './firings.js';
import { MAX_BLOCK_MS } from './schema.js';

/*
 * The admin routes of alerting, on the admin listener, each needing the admin token as
 * `Authorization: Bearer` (401 `admin_unauthorized` otherwise). Errors are
 * `application/problem+json` with a catalogue `code` and a `detail`. Times are ISO 8601 in UTC.
 *
 * GET /admin/blocks
 *   200 {"items": [Block, …], "stale": boolean}
 *   Every active block, oldest first. `stale` is true when this replica could not refresh its
 *   copy from Redis, so the list may miss blocks set or lifted elsewhere.
 *   Block = {"key": string, "kind": "client_ip" | "subject" | "session", "rule": string,
 *            "status": 429 | 403, "created_at": string, "expires_at": string}
 *   `rule` is the alert rule that set the block, or "manual".
 *
 * POST /admin/blocks
 *   Body {"kind": "client_ip" | "subject" | "session", "key": string, "duration": "15m",
 *         "status"?: 429 | 403}; `status` defaults to 429, `duration` is 1s to 30d.
 *   201 Block, with Location: /admin/blocks/{key}?kind={kind}. A longer block of the same key
 *   is kept and returned. 400 `alerts_invalid_request`, 415 `unsupported_media_type`,
 *   413 `payload_too_large`, 503 `alerts_store_unavailable`, 507 `block_list_full`.
 *
 * DELETE /admin/blocks/{key}[?kind=client_ip|subject|session]
 *   `{key}` is percent-encoded. Without `kind`, lifts the blocks of every kind with that key.
 *   204 when a block was lifted; 404 `block_not_found` when none was active;
 *   503 `alerts_store_unavailable`.
 *
 * GET /admin/alerts[?limit=1..1000]
 *   200 {"items": [Firing, …], "source": "redis" | "local"}
 *   The most recent firings, newest first; `limit` defaults to 100. `source` is `redis` when
 *   the list is that of every replica, `local` when it is this replica's only.
 *   Firing = {"rule": string, "key": string, "fired_at": string, "count": number,
 *             "actions": [string, …]}
 *   `key` is the group key, such as "client_ip=203.0.113.7"; `actions` are "log",
 *   "webhook:NAME" and "block:KIND".
 *
 * Keys of blocks are written as security events write them: with `events.privacy` set to
 * truncate or hash, a key given to POST or DELETE is converted the same way first.
 */

export const BLOCKS_PATH = '/admin/blocks';
export const ALERTS_PATH = '/admin/alerts';
const DEFAULT_FIRINGS_LIMIT = 100;
const MAX_FIRINGS_LIMIT = 1_000;
const MAX_KEY_LENGTH = 256;

export interface AlertsApiOptions {
  readonly adminToken: AdminToken;
  readonly blocks: BlockList;
  readonly firings: FiringsLog;
  readonly privacy: EventPrivacy;
  readonly log: Logger;
}

/** A rejected admin request: its catalogue code and what to fix. */
class AlertsApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const postBodySchema = z.strictObject({
  kind: z.enum(BLOCK_KINDS, { error: `must be one of ${BLOCK_KINDS.join(', ')}` }),
  key: z
    .string({ error: 'must be a string' })
    .min(1, 'must not be empty')
    .max(MAX_KEY_LENGTH, `must be at most ${MAX_KEY_LENGTH} characters`),
  duration: z.string({ error: 'must be a duration with unit, such as 15m' }),
  status: z.union([z.literal(429), z.literal(403)], { error: 'must be 429 or 403' }).optional(),
});

/**
 * Handles the routes under /admin/blocks and /admin/alerts and returns true, or returns false
 * without touching the response for any other path. The response is written asynchronously.
 */
export function handleAlertsRequest(
  request: IncomingMessage,
  response: ServerResponse,
  options: AlertsApiOptions,
): boolean {
  const url = new URL(request.url ?? '/', 'http://admin.invalid');
  const path = url.pathname;
  const isBlocks = path === BLOCKS_PATH || path.startsWith(`${BLOCKS_PATH}/`);
  if (!isBlocks && path !== ALERTS_PATH) return false;
  if (!authorizeAdminRequest(request, response, options.adminToken)) return true;
  route(request, response, url, options).catch((error: unknown) => {
    respondToError(response, error, options.log, request.method ?? '');
  });
  return true;
}

async function route(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  options: AlertsApiOptions,
): Promise<void> {
  // Node's server sends no body for HEAD, so HEAD is served as GET, as HTTP requires.
  const method = request.method === 'HEAD' ? 'GET' : (request.method ?? '');
  if (url.pathname === ALERTS_PATH) {
    if (method !== 'GET') throw methodNotAllowed(`use GET on ${ALERTS_PATH}`, 'GET, HEAD');
    return listFirings(response, url, options);
  }
  if (url.pathname === BLOCKS_PATH) {
    if (method === 'GET') return listBlocks(response, options);
    if (method === 'POST') return createBlock(request, response, options);
    throw methodNotAllowed(`use GET or POST on ${BLOCKS_PATH}`, 'GET, HEAD, POST');
  }
  if (method !== 'DELETE') throw methodNotAllowed('use DELETE on a single block', 'DELETE');
  return deleteBlock(response, url, options);
}

async function listBlocks(response: ServerResponse, options: AlertsApiOptions): Promise<void> {
  const { records, stale } = await options.blocks.list();
  sendJson(response, 200, { items: records.map(blockToJson), stale });
}

async function createBlock(
  request: IncomingMessage,
  response: ServerResponse,
  options: AlertsApiOptions,
): Promise<void> {
  const body = postBodySchema.safeParse(await readJsonBody(request));
  if (!body.success) throw invalid(describeIssues(body.error));
  const durationMs = parseDuration(body.data.duration);
  if (durationMs === undefined || durationMs < 1_000 || durationMs > MAX_BLOCK_MS) {
    throw invalid(`duration: must be 1s to 30d with a unit, such as 15m`);
  }
  const kind = body.data.kind;
  if (kind === 'client_ip' && parseIpAddress(body.data.key) === undefined) {
    throw invalid('key: must be an IP address, such as 203.0.113.7, for kind client_ip');
  }
  const now = Date.now();
  const record = await options.blocks.add(
    {
      kind,
      key: storedKey(kind, body.data.key, options.privacy),
      rule: MANUAL_BLOCK_RULE,
      status: body.data.status ?? 429,
      createdAt: now,
      expiresAt: now + durationMs,
    },
    'shared',
  );
  options.log.info(
    { kind: record.kind, key: record.key, expires_at: new Date(record.expiresAt).toISOString() },
    'block set through the admin API',
  );
  const location = `${BLOCKS_PATH}/${encodeURIComponent(record.key)}?kind=${record.kind}`;
  sendJson(response, 201, blockToJson(record), { location });
}

async function deleteBlock(
  response: ServerResponse,
  url: URL,
  options: AlertsApiOptions,
): Promise<void> {
  checkParameters(url.searchParams, 'kind');
  const kindText = url.searchParams.get('kind');
  if (kindText !== null && !isBlockKind(kindText)) {
    throw invalid(`kind must be one of ${BLOCK_KINDS.join(', ')}`);
  }
  const key = decodeKey(url.pathname.slice(BLOCKS_PATH.length + 1));
  const kinds: readonly BlockKind[] = kindText === null ? BLOCK_KINDS : [kindText];
  // The key as listed, and as events write it, so that an operator may give either form.
  const removed = [];
  for (const kind of kinds) {
    const forms = new Set([key, storedKey(kind, key, options.privacy)]);
    for (const form of forms) removed.push(...(await options.blocks.remove(form, [kind])));
  }
  if (removed.length === 0) {
    throw new AlertsApiError('block_not_found', 'no active block has that key');
  }
  options.log.info(
    { blocks: removed.map((record) => ({ kind: record.kind, key: record.key })) },
    'block lifted through the admin API',
  );
  sendJson(response, 204, undefined);
}

async function listFirings(
  response: ServerResponse,
  url: URL,
  options: AlertsApiOptions,
): Promise<void> {
  checkParameters(url.searchParams, 'limit');
  const text = url.searchParams.get('limit');
  let limit = DEFAULT_FIRINGS_LIMIT;
  if (text !== null) {
    limit = Number(text);
    if (!/^\d+$/.test(text) || limit < 1 || limit > MAX_FIRINGS_LIMIT) {
      throw invalid(`limit must be a whole number from 1 to ${MAX_FIRINGS_LIMIT}, got "${text}"`);
    }
  }
  const { items, source } = await options.firings.recent(limit);
  sendJson(response, 200, { items, source });
}

/**
 * Writes a key as security events do, because blocks set by alerts carry that form: an address
 * in canonical form (`2001:db8::1`), then truncated or hashed as `events.privacy` sets.
 */
function storedKey(kind: BlockKind, key: string, privacy: EventPrivacy): string {
  if (kind === 'client_ip') return privacy.address(canonicalIpText(key));
  return kind === 'subject' ? privacy.subject(key) : privacy.session(key);
}

function decodeKey(encoded: string): string {
  let key: string;
  try {
    key = decodeURIComponent(encoded);
  } catch {
    throw invalid('the key is not valid percent-encoding');
  }
  if (key === '') throw invalid(`the key is missing: use ${BLOCKS_PATH}/{key}`);
  return key;
}

/** Raises when the query has a parameter other than `allowed`, or `allowed` more than once. */
function checkParameters(params: URLSearchParams, allowed: string): void {
  for (const name of params.keys()) {
    if (name !== allowed) throw invalid(`unknown parameter ${name}: use ${allowed}`);
  }
  if (params.getAll(allowed).length > 1) throw invalid(`give ${allowed} at most once`);
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return `unknown field ${issue.keys.join(', ')}: use kind, key, duration and status`;
      }
      const path = issue.path.join('.');
      return path === '' ? 'the body must be a JSON object' : `${path}: ${issue.message}`;
    })
    .join('; ');
}

function invalid(message: string): AlertsApiError {
  return new AlertsApiError('alerts_invalid_request', message);
}

function methodNotAllowed(message: string, allow: string): AlertsApiError {
  return new AlertsApiError('method_not_allowed', message, { allow });
}

function respondToError(
  response: ServerResponse,
  error: unknown,
  log: Logger,
  method: string,
): void {
  if (response.headersSent) {
    log.error({ err: error, method }, 'alerts admin request failed after the response began');
    response.destroy();
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof AlertsApiError) {
    sendProblem(response, error.code, message, error.headers);
  } else if (error instanceof AdminInputError) {
    // The body reader's codes; invalid JSON is an invalid request of this API.
    const code = error.code === 'invalid_json' ? 'alerts_invalid_request' : error.code;
    const headers: Record<string, string> =
      code === 'payload_too_large' ? { connection: 'close' } : {};
    sendProblem(response, code as ErrorCode, message, headers);
  } else if (error instanceof BlockListFullError) {
    log.warn({ err: error }, 'block not set through the admin API: the list is full');
    sendProblem(response, 'block_list_full', message);
  } else if (error instanceof BlockStoreUnavailableError) {
    log.warn({ err: error, method }, 'alerts admin request failed: store unavailable');
    sendProblem(response, 'alerts_store_unavailable', 'Redis is unreachable: retry later');
  } else {
    log.error({ err: error, method }, 'alerts admin request failed');
    sendProblem(response, 'internal_error', 'the request failed: see the gateway log');
  }
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
