import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Caller } from '../crypto/callers.js';
import type { EncryptionService } from '../crypto/encryption-service.js';
import {
  FULL_STREAM_SEGMENT_BYTES,
  SEGMENT_OVERHEAD_BYTES,
  STREAM_HEADER_BYTES,
  streamLength,
} from '../crypto/stream-format.js';
import { ApiError, checkDeclaredLength, run } from './crypto-api-http.js';
import { aadBytes, checkContext } from './crypto-json-operations.js';

/** Media type of the streaming form, for requests and responses. */
export const STREAM_MEDIA_TYPE = 'application/octet-stream';
/** Response header with the key version of a streamed encryption. */
export const KEY_VERSION_HEADER = 'x-crypto-key-version';

const QUERY_PARAMETERS = new Set(['context', 'aad']);
/**
 * Response bytes buffered before the writer waits for the client. Four segments let the next
 * segment be sealed while the socket sends the previous ones, and still bound the memory of a
 * request. Waiting after every segment made the gateway and the client take turns.
 */
const MAX_BUFFERED_BYTES = 4 * FULL_STREAM_SEGMENT_BYTES;

/**
 * Encrypts a request body of plaintext into a response body of the streaming form, one segment
 * at a time, so a request keeps a few segments in memory whatever the size. `context` and `aad`
 * come from the query. A failure after the response has started cuts the connection.
 */
export async function streamEncrypt(
  request: IncomingMessage,
  response: ServerResponse,
  service: EncryptionService,
  caller: Caller,
): Promise<void> {
  const { context, aad } = streamParameters(request, caller);
  checkDeclaredLength(request, service.maxPayloadBytes);
  const sealer = run(() => service.startEncryptStream(context, aad));
  const declared = declaredLength(request);
  const headers: OutgoingHttpHeaders = { [KEY_VERSION_HEADER]: String(sealer.version) };
  if (declared !== undefined) headers['content-length'] = String(streamLength(declared));
  const writer = new ResponseWriter(response, headers, sealer.header);
  for await (const chunk of request as AsyncIterable<Buffer>) {
    const segments = run(() => sealer.update(chunk));
    if (segments.length > 0) await writer.write(segments);
  }
  await writer.write(sealer.final());
  response.end();
}

/**
 * Decrypts a request body of the streaming form into a response body of plaintext, one segment
 * at a time. The header and the first segment are checked before the response starts, so their
 * failures get a problem response. A later failure, such as a stream cut short, cuts the
 * connection, so the client never receives an incomplete plaintext as a complete one.
 */
export async function streamDecrypt(
  request: IncomingMessage,
  response: ServerResponse,
  service: EncryptionService,
  caller: Caller,
): Promise<void> {
  const { context, aad } = streamParameters(request, caller);
  checkDeclaredLength(request, streamLength(service.maxPayloadBytes));
  const opener = run(() => service.startDecryptStream(context, aad));
  const declared = declaredLength(request);
  const plaintextBytes = declared === undefined ? undefined : plaintextLength(declared);
  const headers: OutgoingHttpHeaders = {};
  if (plaintextBytes !== undefined) headers['content-length'] = String(plaintextBytes);
  const writer = new ResponseWriter(response, headers, Buffer.alloc(0));
  for await (const chunk of request as AsyncIterable<Buffer>) {
    const plaintexts = run(() => opener.update(chunk));
    if (plaintexts.length > 0) await writer.write(plaintexts);
  }
  const last = run(() => opener.final());
  await writer.write([last]);
  response.end();
}

/** Reads `context` and `aad` from the query; raises `crypto_invalid_request` or 403. */
function streamParameters(
  request: IncomingMessage,
  caller: Caller,
): { context: string; aad: Buffer } {
  const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
  for (const name of new Set(query.keys())) {
    if (!QUERY_PARAMETERS.has(name)) {
      throw new ApiError('crypto_invalid_request', `unknown query parameter ${name}`);
    }
    if (query.getAll(name).length > 1) {
      throw new ApiError('crypto_invalid_request', `query parameter ${name} is given twice`);
    }
  }
  const context = query.get('context');
  if (context === null) {
    throw new ApiError(
      'crypto_invalid_request',
      'context: is required as a query parameter with application/octet-stream',
    );
  }
  return { context: checkContext(caller, context), aad: aadBytes(query.get('aad') ?? undefined) };
}

function declaredLength(request: IncomingMessage): number | undefined {
  const text = request.headers['content-length'];
  return text === undefined ? undefined : Number(text);
}

/**
 * Returns the plaintext length of a stream of `streamBytes`: every segment but the last is full,
 * so the segment count is the body length over a full segment, rounded up. Returns undefined
 * when no plaintext has a stream of that length.
 */
function plaintextLength(streamBytes: number): number | undefined {
  const body = streamBytes - STREAM_HEADER_BYTES;
  if (body < SEGMENT_OVERHEAD_BYTES) return undefined;
  const plaintext = body - Math.ceil(body / FULL_STREAM_SEGMENT_BYTES) * SEGMENT_OVERHEAD_BYTES;
  return plaintext >= 0 && streamLength(plaintext) === streamBytes ? plaintext : undefined;
}

/**
 * Writes a 200 response body with backpressure. The status line, the headers and `prefix` (the
 * stream header, for encryption) go out with the first write, so that failures before it still
 * get a problem response.
 */
class ResponseWriter {
  readonly #response: ServerResponse;
  readonly #headers: OutgoingHttpHeaders;
  readonly #prefix: Buffer;
  #started = false;

  constructor(response: ServerResponse, headers: OutgoingHttpHeaders, prefix: Buffer) {
    this.#response = response;
    this.#headers = headers;
    this.#prefix = prefix;
  }

  /** Writes `parts`, and waits while more than MAX_BUFFERED_BYTES wait for the client. */
  async write(parts: readonly Buffer[]): Promise<void> {
    const response = this.#response;
    // Corked, the parts of a segment leave in one socket write.
    response.cork();
    if (!this.#started) {
      response.writeHead(200, {
        ...this.#headers,
        'content-type': STREAM_MEDIA_TYPE,
        'cache-control': 'no-store',
      });
      this.#started = true;
      if (this.#prefix.length > 0) response.write(this.#prefix);
    }
    for (const part of parts) response.write(part);
    response.uncork();
    if (response.writableLength > MAX_BUFFERED_BYTES) await drained(response);
  }
}

/** Resolves once `response` can take more data or its connection has closed. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
    if (response.destroyed) done();
  });
}
