import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { accessLineOfRoute, parseHeaderLines, startProxy } from '../helpers/e2e.js';
import { startGateway } from '../helpers/gateway.js';
import { parseRawResponse, rawRequest } from '../helpers/http.js';

const HEADERS_TIMEOUT_MS = 300;
const STREAM_IDLE_TIMEOUT_MS = 200;
/** Long enough that only the timeout under test can fire. */
const LONG_TIMEOUT_MS = 10_000;
const DECLARED_BYTES = 1_000;
const SENT_BYTES = 100;

/** Lines for the upstream block of the test configuration, which they continue. */
function upstreamTimeouts(headersMs: number, idleMs: number): string {
  return [`  headers_timeout: ${headersMs}ms`, `  stream_idle_timeout: ${idleMs}ms`].join('\n');
}

/** Returns a loopback port that nothing listens on, found by binding port 0 and closing. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function postQuery(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await request(`${url}/api/rag/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'hello' }),
  });
  return {
    status: response.statusCode,
    body: (await response.body.json()) as Record<string, unknown>,
  };
}

t.test('upstream down is 502', async (t) => {
  const port = await closedPort();
  const gw = await startGateway({ upstreamUrl: `http://127.0.0.1:${port}` });
  t.teardown(() => gw.stop());

  const { status, body } = await postQuery(gw.url);

  t.equal(status, 502);
  t.equal(body['code'], 'upstream_unavailable');
});

t.test('slow upstream headers are 504', async (t) => {
  const { upstream, gw } = await startProxy(t, {
    config: upstreamTimeouts(HEADERS_TIMEOUT_MS, LONG_TIMEOUT_MS),
    // Never responds, and closing the upstream at teardown ends the connection.
    handler: () => undefined,
  });

  const { status, body } = await postQuery(gw.url);

  t.equal(status, 504);
  t.equal(body['code'], 'upstream_timeout');
  t.equal(upstream.received.length, 1, 'the request reached the upstream once');
});

t.test('upstream reset before headers', async (t) => {
  const { gw } = await startProxy(t, {
    handler: (req) => req.socket.destroy(),
  });

  const { status, body } = await postQuery(gw.url);

  t.equal(status, 502);
  t.equal(body['code'], 'upstream_error');
});

t.test('upstream reset mid-body with length', async (t) => {
  const { gw } = await startProxy(t, {
    handler: (req, res) => {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(DECLARED_BYTES),
      });
      res.write(Buffer.alloc(SENT_BYTES, 'a'), () => req.socket.destroy());
    },
  });
  const { host } = new URL(gw.url);

  const raw = await rawRequest(gw.url, `GET /echo/cut HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  const { status, head } = parseRawResponse(raw);
  const body = raw.slice(head.length + '\r\n\r\n'.length);

  t.equal(status, 200, 'the upstream status had already been sent');
  t.same(parseHeaderLines(head).get('content-length'), [String(DECLARED_BYTES)]);
  t.ok(body.length < DECLARED_BYTES, `the client got ${body.length} of ${DECLARED_BYTES} bytes`);
  const line = await accessLineOfRoute(gw, 'echo');
  t.equal(line['outcome'], 'upstream_failed');
  t.equal(line['code'], 'upstream_error');
});

t.test('upstream reset mid-body chunked', async (t) => {
  // A binary body passes the response scanner unchanged, so the first part is forwarded as it
  // arrives and the cut is visible on the wire.
  const { gw } = await startProxy(t, {
    handler: (req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write('partial', () => req.socket.destroy());
    },
  });
  const { host } = new URL(gw.url);

  const raw = await rawRequest(gw.url, `GET /echo/cut HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  const { status, head } = parseRawResponse(raw);

  t.equal(status, 200);
  t.same(parseHeaderLines(head).get('transfer-encoding'), ['chunked']);
  t.match(raw, /partial/, 'the part sent before the reset arrived');
  t.notOk(raw.endsWith('0\r\n\r\n'), 'the chunked response never ended as if complete');
});

t.test('upstream reset mid-body while scanning', async (t) => {
  const { gw } = await startProxy(t, {
    handler: (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial', () => req.socket.destroy());
    },
  });
  const { host } = new URL(gw.url);

  const raw = await rawRequest(gw.url, `GET /echo/cut HTTP/1.1\r\nHost: ${host}\r\n\r\n`);

  t.notOk(raw.endsWith('0\r\n\r\n'), 'the response never ended as if complete');
  t.notMatch(raw, /^HTTP\/1\.1 200[\s\S]*\r\n0\r\n\r\n$/, 'no complete 200');
});

t.test('stream idle timeout cuts stalled body', async (t) => {
  const firstPart = 'first part\n';
  const { gw } = await startProxy(t, {
    config: upstreamTimeouts(LONG_TIMEOUT_MS, STREAM_IDLE_TIMEOUT_MS),
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      // Stalls after the first part; closing the upstream at teardown ends the response.
      res.write(firstPart);
    },
  });
  const { host } = new URL(gw.url);

  const raw = await rawRequest(gw.url, `GET /stream/stall HTTP/1.1\r\nHost: ${host}\r\n\r\n`);

  t.equal(parseRawResponse(raw).status, 200);
  t.match(raw, firstPart, 'the part before the stall arrived');
  t.notOk(raw.endsWith('0\r\n\r\n'), 'the chunked response never ended as if complete');
  const line = await accessLineOfRoute(gw, 'stream');
  t.equal(line['outcome'], 'upstream_failed');
  t.equal(line['code'], 'upstream_timeout');
});

t.test('stream idle timeout spares slow headers', async (t) => {
  const delayMs = 2 * STREAM_IDLE_TIMEOUT_MS;
  const { gw } = await startProxy(t, {
    config: upstreamTimeouts(LONG_TIMEOUT_MS, STREAM_IDLE_TIMEOUT_MS),
    handler: (_req, res) => {
      setTimeout(() => res.end('late'), delayMs);
    },
  });

  const response = await request(`${gw.url}/stream/late`);
  const text = await response.body.text();

  t.equal(response.statusCode, 200, 'headers later than the idle timeout still arrive');
  t.equal(text, 'late');
});
