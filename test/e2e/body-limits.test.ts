import type { IncomingMessage } from 'node:http';
import t from 'tap';
import {
  accessLine,
  accessLineOfRoute,
  openRawConnection,
  startProxy,
  waitFor,
} from '../helpers/e2e.js';
import { parseRawResponse, rawRequest } from '../helpers/http.js';

/** The `upload` route of the default test policy: `body: { max_bytes: 1KiB }`. */
const UPLOAD_ROUTE_LIMIT = 1024;
const LISTENER_LIMIT = 4 * 1024;
const LISTENER_CONFIG = `limits: { max_body_bytes: ${LISTENER_LIMIT / 1024}KiB }`;

function chunk(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
}

/** Request head for a body of `length` bytes, without the body, so nothing of it is sent. */
function declaredLengthHead(host: string, path: string, length: number): string {
  return [
    `POST ${path} HTTP/1.1`,
    `Host: ${host}`,
    'Content-Type: application/octet-stream',
    `Content-Length: ${length}`,
    '',
    '',
  ].join('\r\n');
}

function chunkedHead(host: string, path: string): string {
  return [
    `POST ${path} HTTP/1.1`,
    `Host: ${host}`,
    'Content-Type: application/octet-stream',
    'Transfer-Encoding: chunked',
    '',
    '',
  ].join('\r\n');
}

/** Resolves with `req.complete` when the upstream request closes: false means it was aborted. */
function completedWhenClosed(req: IncomingMessage): Promise<boolean> {
  return new Promise((resolve) => req.once('close', () => resolve(req.complete)));
}

t.test('content-length over route limit', async (t) => {
  const { upstream, gw } = await startProxy(t);
  const { host } = new URL(gw.url);

  const raw = await rawRequest(
    gw.url,
    declaredLengthHead(host, '/upload/doc', UPLOAD_ROUTE_LIMIT + 1),
  );
  const { status, body, head } = parseRawResponse(raw);

  t.equal(status, 413);
  t.equal((body as Record<string, unknown>)['code'], 'payload_too_large');
  t.match(head, /\r\nconnection: close\r\n/i, 'the unread body closes the connection');
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
});

t.test('content-length at route limit', async (t) => {
  const { upstream, gw } = await startProxy(t);
  const { host } = new URL(gw.url);
  const body = 'x'.repeat(UPLOAD_ROUTE_LIMIT);

  const raw = await rawRequest(
    gw.url,
    declaredLengthHead(host, '/upload/doc', UPLOAD_ROUTE_LIMIT).replace(
      'Host:',
      'Connection: close\r\nHost:',
    ) + body,
  );

  t.equal(parseRawResponse(raw).status, 200);
  t.equal(upstream.received.length, 1);
  t.equal(upstream.received[0]!.body.length, UPLOAD_ROUTE_LIMIT);
});

t.test('content-length over listener limit', async (t) => {
  const { upstream, gw } = await startProxy(t, { config: LISTENER_CONFIG });
  const { host } = new URL(gw.url);

  const raw = await rawRequest(gw.url, declaredLengthHead(host, '/echo/doc', LISTENER_LIMIT + 1));
  const { status, body } = parseRawResponse(raw);

  t.equal(status, 413);
  t.equal((body as Record<string, unknown>)['code'], 'payload_too_large');
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
});

t.test('chunked body over route limit', async (t) => {
  const closed: Promise<boolean>[] = [];
  let upstreamBytes = 0;
  // The upstream reads the whole body before it responds, as most backends do.
  const { upstream, gw } = await startProxy(t, {
    streamBody: true,
    handler: (req, res) => {
      closed.push(completedWhenClosed(req));
      req.on('data', (data: Buffer) => {
        upstreamBytes += data.length;
      });
      req.on('end', () => res.end('read'));
    },
  });
  const { host } = new URL(gw.url);
  const firstPart = 'a'.repeat(UPLOAD_ROUTE_LIMIT / 2);
  const overflow = 'b'.repeat(UPLOAD_ROUTE_LIMIT);
  const connection = openRawConnection(gw.url);
  t.teardown(() => connection.socket.destroy());

  // A chunked body has no length up front, so the upstream request starts before the limit is
  // crossed. The overflow is sent once the first part has reached the upstream.
  connection.socket.write(`${chunkedHead(host, '/upload/doc')}${chunk(firstPart)}`);
  await waitFor(() => upstreamBytes >= firstPart.length, 'the first part at the upstream');
  connection.socket.write(`${chunk(overflow)}0\r\n\r\n`);
  const { status, body } = parseRawResponse(await connection.response);

  t.equal(status, 413);
  t.equal((body as Record<string, unknown>)['code'], 'payload_too_large');
  t.equal(upstream.received.length, 1, 'one upstream request started');
  t.equal(await closed[0], false, 'the upstream request was aborted before its end');
  t.ok(upstreamBytes <= UPLOAD_ROUTE_LIMIT, 'no byte past the limit reached the upstream');
  const line = await accessLineOfRoute(gw, 'upload');
  t.equal(line['status'], 413);
  t.equal(line['code'], 'payload_too_large');
});

t.test('chunked overflow after response closes connection', async (t) => {
  const closed: Promise<boolean>[] = [];
  const started = 'accepted\n';
  const finished = 'done\n';
  // The upstream responds at once and keeps its response open while the body arrives.
  const { gw } = await startProxy(t, {
    streamBody: true,
    handler: (req, res) => {
      closed.push(completedWhenClosed(req));
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(started);
      req.resume();
      req.on('end', () => res.end(finished));
    },
  });
  const { host } = new URL(gw.url);
  const firstPart = 'a'.repeat(UPLOAD_ROUTE_LIMIT / 2);
  const overflow = 'b'.repeat(UPLOAD_ROUTE_LIMIT);
  const connection = openRawConnection(gw.url);
  t.teardown(() => connection.socket.destroy());

  connection.socket.write(`${chunkedHead(host, '/upload/doc')}${chunk(firstPart)}`);
  await waitFor(() => connection.received().includes(started), 'the start of the response');
  connection.socket.write(`${chunk(overflow)}0\r\n\r\n`);
  const raw = await connection.response;
  const { status, head } = parseRawResponse(raw);

  t.equal(status, 200, 'the upstream status had already been sent');
  t.match(head, /transfer-encoding: chunked/i);
  t.notOk(raw.includes(finished), 'the rest of the upstream response never arrived');
  t.notOk(raw.endsWith('0\r\n\r\n'), 'the chunked response never ended as if complete');
  t.equal(await closed[0], false, 'the upstream request was aborted before its end');
  const line = await accessLineOfRoute(gw, 'upload');
  t.equal(line['code'], 'payload_too_large');
  t.equal(line['outcome'], 'upstream_failed');
});

t.test('chunked body within limit counted', async (t) => {
  const { upstream, gw } = await startProxy(t);
  const { host } = new URL(gw.url);
  const parts = ['first part', 'second part'];
  const requestId = 'chunked-within-limit';

  const raw = await rawRequest(
    gw.url,
    chunkedHead(host, '/upload/doc').replace(
      'Host:',
      `Connection: close\r\nX-Request-Id: ${requestId}\r\nHost:`,
    ) +
      parts.map(chunk).join('') +
      '0\r\n\r\n',
  );

  t.equal(parseRawResponse(raw).status, 200);
  t.equal(upstream.received[0]!.body.toString(), parts.join(''));
  const line = await accessLine(gw, requestId);
  t.equal(line['bytes_in'], Buffer.byteLength(parts.join('')), 'bytes_in counts the body');
});
