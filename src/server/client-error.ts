import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import type { ErrorCode } from '../errors/catalogue.js';
import { renderProblem } from '../errors/problem.js';
import { requestIdFrom } from '../proxy/request-id.js';

/** Node parser errors that have a catalogue answer; others get `bad_request`. */
const PARSER_ERROR_CODES: Readonly<Record<string, ErrorCode>> = {
  HPE_HEADER_OVERFLOW: 'headers_too_large',
  ERR_HTTP_REQUEST_TIMEOUT: 'request_timeout',
  HPE_HEADERS_TIMEOUT: 'request_timeout',
};

export function clientErrorCode(error: NodeJS.ErrnoException): ErrorCode {
  return PARSER_ERROR_CODES[error.code ?? ''] ?? 'bad_request';
}

/**
 * Writes a complete problem+json response straight to a socket and closes it. Used where no
 * ServerResponse exists: requests Node's parser rejected, and refused WebSocket upgrades.
 */
export function writeRawProblem(
  socket: Duplex,
  code: ErrorCode,
  requestId: string = requestIdFrom(undefined),
  extraHeaders: Readonly<Record<string, string>> = {},
  /** Replaces the catalogue's status, for a block that responds with 403 instead of 429. */
  status?: number,
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const problem = renderProblem(code, requestId, undefined, undefined, status);
  const headers = { ...extraHeaders, ...problem.headers, connection: 'close' };
  const lines = [`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  socket.end(`${lines.join('\r\n')}\r\n\r\n${problem.body}`);
}
