import t from 'tap';
import { request } from 'undici';
import { accessLine, parseHeaderLines, rawHeaderValues, startProxy } from '../helpers/e2e.js';
import { parseRawResponse, rawRequest } from '../helpers/http.js';

/** RFC 9110 section 7.6.1 and RFC 9112: headers that only concern one connection. */
const HOP_BY_HOP = [
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
];
const LISTED_REQUEST_HEADER = 'x-hop-listed';
const LISTED_RESPONSE_HEADER = 'x-hop-listed-response';
const END_TO_END_HEADER = 'x-end-to-end';
const END_TO_END_VALUE = 'kept';
const BODY = 'hello';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_REQUEST_ID_LENGTH = 128;

t.test('request hop-by-hop headers removed', async (t) => {
  const { upstream, gw } = await startProxy(t);
  const { host } = new URL(gw.url);
  const chunk = `${BODY.length.toString(16)}\r\n${BODY}\r\n`;
  const raw = await rawRequest(
    gw.url,
    [
      'POST /echo/hop HTTP/1.1',
      `Host: ${host}`,
      `Connection: close, ${LISTED_REQUEST_HEADER}`,
      'Keep-Alive: timeout=77',
      'Proxy-Connection: keep-alive',
      'TE: trailers',
      'Trailer: X-Checksum',
      'Proxy-Authorization: Basic dXNlcjpwYXNz',
      'Proxy-Authenticate: Basic realm="client"',
      'Upgrade: example/1',
      `${LISTED_REQUEST_HEADER}: listed in Connection`,
      `${END_TO_END_HEADER}: ${END_TO_END_VALUE}`,
      'Transfer-Encoding: chunked',
      '',
      `${chunk}0\r\nX-Checksum: 1234\r\n\r\n`,
    ].join('\r\n'),
  );

  t.equal(parseRawResponse(raw).status, 200);
  t.equal(upstream.received.length, 1, 'the request reached the upstream');
  const received = upstream.received[0]!;
  t.equal(received.body.toString(), BODY, 'the chunked body arrived whole');
  for (const name of HOP_BY_HOP.filter((name) => name !== 'transfer-encoding')) {
    t.same(rawHeaderValues(received.rawHeaders, name), [], `${name} not forwarded`);
  }
  // The gateway frames the body to the upstream itself, so one chunked coding of its own is fine.
  t.ok(
    rawHeaderValues(received.rawHeaders, 'transfer-encoding').every((value) => value === 'chunked'),
    'transfer-encoding is only the gateway framing',
  );
  t.notOk(
    rawHeaderValues(received.rawHeaders, 'connection').some((value) =>
      value.toLowerCase().includes(LISTED_REQUEST_HEADER),
    ),
    'the client Connection value not forwarded',
  );
  t.same(rawHeaderValues(received.rawHeaders, LISTED_REQUEST_HEADER), [], 'listed header removed');
  t.same(rawHeaderValues(received.rawHeaders, END_TO_END_HEADER), [END_TO_END_VALUE]);
  t.same(rawHeaderValues(received.rawHeaders, 'x-checksum'), [], 'trailer not forwarded');
});

t.test('response hop-by-hop headers removed', async (t) => {
  const { gw } = await startProxy(t, {
    handler: (_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/plain',
        connection: LISTED_RESPONSE_HEADER,
        'keep-alive': 'timeout=77',
        'proxy-connection': 'keep-alive',
        te: 'trailers',
        trailer: 'x-checksum',
        'transfer-encoding': 'chunked',
        upgrade: 'example/1',
        'proxy-authenticate': 'Basic realm="upstream"',
        'proxy-authorization': 'Basic dXNlcjpwYXNz',
        [LISTED_RESPONSE_HEADER]: 'listed in Connection',
        [END_TO_END_HEADER]: END_TO_END_VALUE,
      });
      res.addTrailers({ 'x-checksum': '1234' });
      res.end(BODY);
    },
  });
  const { host } = new URL(gw.url);

  // An HTTP/1.0 client gets neither chunked coding nor keep-alive from Node, so every
  // hop-by-hop header in the response can only have come from the upstream.
  const raw = await rawRequest(gw.url, `GET /echo/hop HTTP/1.0\r\nHost: ${host}\r\n\r\n`);
  const { status, head, body } = parseRawResponse(raw);
  const headers = parseHeaderLines(head);

  t.equal(status, 200);
  t.equal(body, BODY);
  for (const name of HOP_BY_HOP) t.notOk(headers.has(name), `${name} not returned`);
  t.same(headers.get('connection'), ['close'], 'only the gateway Connection value');
  t.notOk(headers.has(LISTED_RESPONSE_HEADER), 'listed header removed');
  t.same(headers.get(END_TO_END_HEADER), [END_TO_END_VALUE]);
});

t.test('client forwarding headers replaced', async (t) => {
  const { upstream, gw } = await startProxy(t);
  const spoofed = '203.0.113.9';
  const peer = '127.0.0.1';
  const gatewayHost = new URL(gw.url).host;

  const response = await request(`${gw.url}/echo/forwarded`, {
    headers: {
      'x-forwarded-for': spoofed,
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'spoofed.example',
      'x-forwarded-port': '443',
      forwarded: `for=${spoofed};proto=https;host=spoofed.example`,
      'x-real-ip': spoofed,
    },
  });
  await response.body.dump();

  t.equal(response.statusCode, 200);
  const { rawHeaders } = upstream.received[0]!;
  t.same(rawHeaderValues(rawHeaders, 'x-forwarded-for'), [peer]);
  t.same(rawHeaderValues(rawHeaders, 'x-forwarded-proto'), ['http']);
  t.same(rawHeaderValues(rawHeaders, 'x-forwarded-host'), [gatewayHost]);
  t.same(rawHeaderValues(rawHeaders, 'forwarded'), [
    `for=${peer};proto=http;host="${gatewayHost}"`,
  ]);
  t.same(rawHeaderValues(rawHeaders, 'x-forwarded-port'), [], 'x-forwarded-port dropped');
  t.same(rawHeaderValues(rawHeaders, 'x-real-ip'), [], 'x-real-ip dropped');
});

t.test('valid request id kept', async (t) => {
  const { upstream, gw } = await startProxy(t);
  const cases = {
    'ordinary id': 'trace-01.abc_DEF',
    'id of maximum length': 'a'.repeat(MAX_REQUEST_ID_LENGTH),
  };

  for (const [label, requestId] of Object.entries(cases)) {
    const forwarded = await request(`${gw.url}/echo/id`, {
      headers: { 'x-request-id': requestId },
    });
    await forwarded.body.dump();
    t.equal(forwarded.headers['x-request-id'], requestId, `${label}: returned`);
    const received = upstream.received.at(-1)!;
    t.same(rawHeaderValues(received.rawHeaders, 'x-request-id'), [requestId], `${label}: sent`);
    const line = await accessLine(gw, requestId);
    t.equal(line['route'], 'echo', `${label}: logged`);

    const receivedBefore = upstream.received.length;
    const rejected = await request(`${gw.url}/not-routed`, {
      headers: { 'x-request-id': requestId },
    });
    const problem = (await rejected.body.json()) as Record<string, unknown>;
    t.equal(rejected.statusCode, 404);
    t.equal(problem['code'], 'route_not_found');
    t.equal(problem['request_id'], requestId, `${label}: in the error body`);
    t.equal(rejected.headers['x-request-id'], requestId, `${label}: on the error response`);
    t.equal(upstream.received.length, receivedBefore, 'the rejection reached no upstream');
  }
});

t.test('invalid request id replaced', async (t) => {
  const { upstream, gw } = await startProxy(t);
  const cases: Record<string, string | string[]> = {
    'id over maximum length': 'a'.repeat(MAX_REQUEST_ID_LENGTH + 1),
    'id with a slash': 'abc/def',
    'id with a space': 'abc def',
    'id with a quote': 'abc"def',
    'two ids': ['first', 'second'],
  };

  for (const [label, sent] of Object.entries(cases)) {
    const response = await request(`${gw.url}/echo/id`, { headers: { 'x-request-id': sent } });
    await response.body.dump();
    const generated = String(response.headers['x-request-id']);
    t.not(generated, String(sent), `${label}: not echoed`);
    t.match(generated, UUID, `${label}: generated`);
    const received = upstream.received.at(-1)!;
    t.same(rawHeaderValues(received.rawHeaders, 'x-request-id'), [generated], `${label}: sent`);
    const line = await accessLine(gw, generated);
    t.equal(line['route'], 'echo', `${label}: logged under the generated id`);
  }
});
