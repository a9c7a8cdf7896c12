import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** A request failure with the status and JSON error body the client receives. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: OutgoingHttpHeaders = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

/** Sends `{error, message}` with the error's status and headers. */
export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, { error: error.code, message: error.message }, error.headers);
}

/**
 * Returns the caller's subject from `X-User-Id`, which the gateway sets from the verified token
 * and removes from client requests. Requests sent to the backend directly may lack it.
 */
export function subjectOf(req: IncomingMessage): string | undefined {
  const value = req.headers['x-user-id'];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Returns the media type of a Content-Type header in lower case, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0].trim().toLowerCase();
}

/**
 * Reads the whole request body. Rejects with a 413 HttpError once the body exceeds maxBytes,
 * and stops reading so that an oversized body is not buffered.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = new HttpError(
    413,
    'payload_too_large',
    `request body exceeds the limit of ${maxBytes} bytes`,
    // The unread rest of the body makes the connection unusable for another request.
    { Connection: 'close' },
  );

  const declaredLength = Number(req.headers['content-length']);
  if (Number.isFinite(declaredLength) && declaredLength > maxBytes) {
    return Promise.reject(tooLarge);
  }

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;

    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > maxBytes) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge);
        return;
      }
      chunks.push(chunk);
    };

    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, received)));
    req.once('error', reject);
  });
}
