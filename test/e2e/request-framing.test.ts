import t from 'tap';
import { rawRequest, parseRawResponse } from '../helpers/http.js';
import { startGateway } from '../helpers/gateway.js';
import { startUpstream } from '../helpers/upstream.js';

t.test('CONNECT gets 405 problem', async (t) => {
  const upstream = await startUpstream();
  const gw = await startGateway({ upstreamUrl: upstream.url });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const raw = await rawRequest(
    gw.url,
    'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n',
  );
  const { status, body, head } = parseRawResponse(raw);
  t.equal(status, 405);
  t.match(head, /content-type: application\/problem\+json/i);
  t.equal((body as { code: string }).code, 'method_not_allowed');
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
});

t.test('two Host fields get 400', async (t) => {
  const upstream = await startUpstream();
  const gw = await startGateway({ upstreamUrl: upstream.url });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const raw = await rawRequest(
    gw.url,
    'GET /echo/x HTTP/1.1\r\nHost: internal.example\r\nHost: other.example\r\nConnection: close\r\n\r\n',
  );
  const { status, body } = parseRawResponse(raw);
  t.equal(status, 400);
  t.equal((body as { code: string }).code, 'bad_request');
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
});

t.test('missing Host gets 400 problem', async (t) => {
  const upstream = await startUpstream();
  const gw = await startGateway({ upstreamUrl: upstream.url });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const raw = await rawRequest(gw.url, 'GET /echo/x HTTP/1.1\r\nConnection: close\r\n\r\n');
  const { status, body, head } = parseRawResponse(raw);
  t.equal(status, 400);
  t.match(head, /content-type: application\/problem\+json/i);
  t.equal((body as { code: string }).code, 'bad_request');
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
});

t.test('unsupported Expect gets 417 problem', async (t) => {
  const upstream = await startUpstream();
  const gw = await startGateway({ upstreamUrl: upstream.url });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const raw = await rawRequest(
    gw.url,
    'GET /echo/x HTTP/1.1\r\nHost: a\r\nExpect: foo\r\nConnection: close\r\n\r\n',
  );
  const { status, body } = parseRawResponse(raw);
  t.equal(status, 417);
  t.equal((body as { code: string }).code, 'expectation_failed');
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
});
