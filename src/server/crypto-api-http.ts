import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CryptoError, type CryptoErrorCode } from '../crypto/errors.js';
import type { ErrorCode } from '../errors/catalogue.js';
import { renderProblem } from '../errors/problem.js';

/** A rejected request or batch item: a catalogue code and what to fix, without data. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Runs a service call, turning its CryptoError into an ApiError with the same code. */
export function run<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    if (error instanceof CryptoError)
      throw new ApiError(error.code satisfies CryptoErrorCode, error.message);
    throw error;
  }
}

/** Returns the media type of a request in lower case, without parameters. */
export function mediaTypeOf(request: IncomingMessage): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Raises 413 `crypto_payload_too_large` when the declared body length exceeds `limit`. */
export function checkDeclaredLength(request: IncomingMessage, limit: number): void {
  if (Number(request.headers['content-length'] ?? 0) > limit) {
    throw new ApiError(
      'crypto_payload_too_large',
      `the request body must be at most ${limit} bytes`,
    );
  }
}

/** Reads a JSON body of at most `limit` bytes; raises ApiError 415, 413 or 400. */
export async function readJson(request: IncomingMessage, limit: number): Promise<unknown> {
  if (mediaTypeOf(request) !== 'application/json') {
    throw new ApiError(
      'unsupported_media_type',
      'send the body as JSON with Content-Type: application/json, or to encrypt and decrypt ' +
        'also as application/octet-stream',
    );
  }
  checkDeclaredLength(request, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      throw new ApiError(
        'crypto_payload_too_large',
        `the request body must be at most ${limit} bytes`,
      );
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    // The parser's message may quote the body, which can contain plaintext.
    throw new ApiError('crypto_invalid_request', 'the body is not valid JSON');
  }
}

/**
 * Sends a problem response, or cuts the connection when the response has started: a client then
 * sees an incomplete response instead of a complete one that lacks data.
 */
export function sendProblem(response: ServerResponse, error: ApiError): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const problem = renderProblem(error.code, randomUUID(), error.message);
  response.writeHead(problem.status, { ...error.headers, ...problem.headers });
  response.end(problem.body);
}

export function sendJson(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  });
  response.end(text);
}
