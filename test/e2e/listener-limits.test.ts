import t from 'tap';
import { openRawConnection, parseHeaderLines, startProxy, waitFor } from '../helpers/e2e.js';
import { parseRawResponse, rawRequest } from '../helpers/http.js';

const MAX_HEADER_BYTES = 1024;
const MAX_HEADERS = 10;
const HEADERS_TIMEOUT_MS = 500;
const MAX_REQUESTS_PER_SOCKET = 2;
/** Longer than the client waits, so that only the request limit can close the connection. */
const KEEP_ALIVE_TIMEOUT_MS = 60_000;
/** Far beyond the headers timeout and Node's one-second check interval. */
const CLIENT_WAIT_MS = 10 * HEADERS_TIMEOUT_MS + 2_000;

const LIMITS_CONFIG = [
  'limits:',
  `  max_header_bytes: ${MAX_HEADER_BYTES}B`,
  `  max_headers: ${MAX_HEADERS}`,
  `  headers_timeout: ${HEADERS_TIMEOUT_MS}ms`,
  `  max_requests_per_socket: ${MAX_REQUESTS_PER_SOCKET}`,
  `  keep_alive_timeout: ${KEEP_ALIVE_TIMEOUT_MS}ms`,
].join('\n');

/** Builds a GET request with Host, Connection: close and the `extra` header lines. */
function getRequest(host: string, extra: string[]): string {
  return ['GET /echo/limits HTTP/1.1', `Host: ${host}`, 'Connection: close', ...extra, '', ''].join(
    '\r\n',
  );
}

/** Returns `count` distinct header lines. */
function headerLines(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `X-Field-${index}: ${index}`);
}

t.test('oversized headers are 431', async (t) => {
  const { upstream, gw } = await startProxy(t, { config: LIMITS_CONFIG });
  const { host } = new URL(gw.url);

  const raw = await rawRequest(
    gw.url,
    getRequest(host, [`X-Large: ${'a'.repeat(MAX_HEADER_BYTES)}`]),
  );
  const { status, body } = parseRawResponse(raw);

  t.equal(status, 431);
  t.equal((body as Record<string, unknown>)['code'], 'headers_too_large');
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
});

t.test('too many header fields are 431', async (t) => {
  const { upstream, gw } = await startProxy(t, { config: LIMITS_CONFIG });
  const { host } = new URL(gw.url);
  // Host and Connection are header fields too.
  const ownFields = 2;

  const atLimit = await rawRequest(gw.url, getRequest(host, headerLines(MAX_HEADERS - ownFields)));
  t.equal(parseRawResponse(atLimit).status, 200, 'exactly the maximum is accepted');
  t.equal(upstream.received.length, 1);

  const overLimit = await rawRequest(
    gw.url,
    getRequest(host, headerLines(MAX_HEADERS - ownFields + 1)),
  );
  const { status, body } = parseRawResponse(overLimit);
  t.equal(status, 431);
  t.equal((body as Record<string, unknown>)['code'], 'too_many_headers');
  t.equal(upstream.received.length, 1, 'the rejected request reached no upstream');
});

t.test('unfinished headers time out', async (t) => {
  const { upstream, gw } = await startProxy(t, { config: LIMITS_CONFIG });
  const { host } = new URL(gw.url);
  const connection = openRawConnection(gw.url, CLIENT_WAIT_MS);
  t.teardown(() => connection.socket.destroy());
  let clientGaveUp = false;
  connection.socket.once('timeout', () => {
    clientGaveUp = true;
  });

  // The blank line that ends the headers is never sent.
  connection.socket.write(`GET /echo/limits HTTP/1.1\r\nHost: ${host}\r\n`);
  const { status, body } = parseRawResponse(await connection.response);

  t.notOk(clientGaveUp, 'the gateway closed the connection, not the client');
  t.equal(status, 408);
  t.equal((body as Record<string, unknown>)['code'], 'request_timeout');
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
});

t.test('requests per socket are limited', async (t) => {
  const { upstream, gw } = await startProxy(t, {
    config: LIMITS_CONFIG,
    handler: (_req, res) => res.end('ok'),
  });
  const { host } = new URL(gw.url);
  const keepAliveRequest = `GET /echo/limits HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
  const connection = openRawConnection(gw.url);
  t.teardown(() => connection.socket.destroy());
  let clientGaveUp = false;
  connection.socket.once('timeout', () => {
    clientGaveUp = true;
  });
  const responsesSoFar = () => connection.received().split('HTTP/1.1 200').length - 1;

  for (let sent = 1; sent <= MAX_REQUESTS_PER_SOCKET; sent += 1) {
    connection.socket.write(keepAliveRequest);
    await waitFor(() => responsesSoFar() === sent, `response ${sent}`);
  }
  const raw = await connection.response;
  const responses = raw.split(/(?=HTTP\/1\.1 )/);

  t.notOk(clientGaveUp, 'the gateway closed the connection, not the client');
  t.equal(responses.length, MAX_REQUESTS_PER_SOCKET, 'one response per request');
  const lastHead = parseRawResponse(responses.at(-1)!).head;
  t.same(parseHeaderLines(lastHead).get('connection'), ['close'], 'the last response says close');
  for (const earlier of responses.slice(0, -1)) {
    const head = parseRawResponse(earlier).head;
    t.same(parseHeaderLines(head).get('connection'), ['keep-alive'], 'earlier ones keep alive');
  }
  t.equal(upstream.received.length, MAX_REQUESTS_PER_SOCKET);
});
