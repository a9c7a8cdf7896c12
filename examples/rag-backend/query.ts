import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { composeAnswer } from './answer.js';
import { HttpError, mediaType, readBody, sendJson, subjectOf } from './http.js';
import { parseLeakField, withLeaks, type LeakKind } from './leak.js';
import type { DocumentStore } from './retrieval.js';
import { streamChatCompletion } from './sse.js';

export const DEFAULT_COLLECTION = 'docs';
export const MAX_QUERY_BODY_BYTES = 64 * 1024;
export const MAX_QUERY_CHARS = 2000;
const MAX_SOURCES = 3;

export interface QueryRequest {
  query: string;
  collection: string;
  stream: boolean;
  /** Planted data to add to the composed reply; always empty unless leaks are enabled. */
  leak: LeakKind[];
}

export interface QueryContext {
  store: DocumentStore;
  streamDelayMs: number;
  /** The test switch that lets a query ask for planted leaks; see leak.ts. */
  leakTestData: boolean;
}

function invalidRequest(message: string): HttpError {
  return new HttpError(400, 'invalid_request', message);
}

/**
 * Checks a parsed JSON body against `{query: string, collection?: string, stream?: boolean}`,
 * and `leak?: string[]` when `leakTestData` is on.
 */
export function parseQueryRequest(body: unknown, leakTestData = false): QueryRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('request body must be a JSON object');
  }

  const { query, collection, stream, leak } = body as Record<string, unknown>;
  if (typeof query !== 'string' || query.trim() === '') {
    throw invalidRequest('"query" is missing or empty. Send a non-empty string.');
  }
  if (query.length > MAX_QUERY_CHARS) {
    throw invalidRequest(`"query" has ${query.length} characters, max is ${MAX_QUERY_CHARS}`);
  }
  if (collection !== undefined && (typeof collection !== 'string' || collection === '')) {
    throw invalidRequest('"collection" must be a non-empty string when present');
  }
  if (stream !== undefined && typeof stream !== 'boolean') {
    throw invalidRequest('"stream" must be a boolean when present');
  }

  return {
    query,
    collection: collection ?? DEFAULT_COLLECTION,
    stream: stream ?? false,
    leak: parseLeakField(leak, leakTestData),
  };
}

async function readQueryRequest(
  req: IncomingMessage,
  leakTestData: boolean,
): Promise<QueryRequest> {
  const type = mediaType(req.headers['content-type']);
  // A body without Content-Type is still parsed as JSON, but a declared other type is an error.
  if (type !== '' && type !== 'application/json') {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `Content-Type "${type}" is not supported. Send application/json.`,
    );
  }

  const raw = await readBody(req, MAX_QUERY_BODY_BYTES);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new HttpError(400, 'invalid_json', `request body is not valid JSON: ${reason}`);
  }
  return parseQueryRequest(body, leakTestData);
}

/** Handles `POST /api/rag/query`: retrieves sources and sends the answer as JSON or SSE. */
export async function handleQuery(
  req: IncomingMessage,
  res: ServerResponse,
  context: QueryContext,
): Promise<void> {
  const request = await readQueryRequest(req, context.leakTestData);
  if (!context.store.hasCollection(request.collection)) {
    const known = context.store.collectionNames().join(', ');
    throw new HttpError(
      404,
      'collection_not_found',
      `collection "${request.collection}" not found. Known collections: ${known}.`,
    );
  }

  const hits = context.store.search(request.collection, request.query, MAX_SOURCES, subjectOf(req));
  const answer = withLeaks(composeAnswer(request.query, request.collection, hits), request.leak);

  if (request.stream) {
    streamChatCompletion(res, answer, { delayMs: context.streamDelayMs });
    return;
  }

  sendJson(res, 200, {
    id: `rag-${randomUUID()}`,
    object: 'rag.answer',
    collection: request.collection,
    answer,
    sources: hits.map((hit) => ({
      id: hit.document.id,
      title: hit.document.title,
      score: Number(hit.score.toFixed(4)),
    })),
  });
}
