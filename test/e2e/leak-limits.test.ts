import type { ServerResponse } from 'node:http';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { accessLine, openRawConnection, startProxy, waitFor } from '../helpers/e2e.js';
import type { TestGateway } from '../helpers/gateway.js';

/** The scanned size of the limited routes; every streamed body below is about 40 KiB. */
const MAX_SCANNED = 16 * 1024;
const EVENT_COUNT = 40;
const CHUNK_COUNT = 40;
// A made-up token of the documented GitHub shape: "ghp_" and 36 letters and digits.
const GITHUB_TOKEN = `ghp_${'a1B2c3D4e5F6'.repeat(3)}`;

const POLICY = `version: 1
routes:
  - name: limit-block
    match: { path_prefix: /block/ }
    auth: none
    response: { limits: { max_scanned_size: 16KiB } }
  - name: limit-pass
    match: { path_prefix: /pass/ }
    auth: none
    response: { limits: { max_scanned_size: 16KiB, beyond_scanned_size: pass_and_flag } }
  # Matches of ABAB and BABA overlap in "ABABAB…", so they chain into one redaction that never
  # completes, and the text behind it can be neither released nor dropped.
  - name: overlapping
    match: { path_prefix: /overlapping/ }
    auth: none
    response:
      detectors: { all: off }
      custom_patterns:
        - { id: abab, pattern: ABAB }
        - { id: baba, pattern: BABA }
      limits: { max_hold_back: 64B }
  - name: scanned
    match: { path_prefix: /scanned/ }
    auth: none
`;

/** Returns a chat completion chunk event of about 1 KiB, with no secret in it. */
function chatEvent(index: number): string {
  const content = `Part ${index} of a long answer. ${'All quiet here. '.repeat(60)}`;
  const chunk = { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

const SSE_EVENTS = [
  ...Array.from({ length: EVENT_COUNT }, (_, index) => chatEvent(index)),
  'data: [DONE]\n\n',
];
const TEXT_CHUNKS = Array.from(
  { length: CHUNK_COUNT },
  (_, index) => `Line ${index}: ${'nothing to see in this report. '.repeat(33)}\n`,
);
const JSON_BODY = JSON.stringify({ answer: 'All quiet here. '.repeat(2_500) });

/**
 * Writes `chunks` one per event-loop turn, waiting for `drain` when the socket is full, and
 * stops when the gateway aborts the exchange.
 */
function streamChunks(res: ServerResponse, contentType: string, chunks: readonly string[]): void {
  res.writeHead(200, { 'content-type': contentType });
  let index = 0;
  const writeNext = (): void => {
    if (res.destroyed) return;
    if (index === chunks.length) {
      res.end();
      return;
    }
    const flushed = res.write(chunks[index]!);
    index += 1;
    if (flushed) setImmediate(writeNext);
    else res.once('drain', writeNext);
  };
  writeNext();
}

/** Sends the upstream's response, with the body that the last path segment names. */
function answer(req: { url?: string | undefined }, res: ServerResponse): void {
  const kind = (req.url ?? '').split('/').at(-1);
  switch (kind) {
    case 'sse':
      streamChunks(res, 'text/event-stream', SSE_EVENTS);
      return;
    case 'text':
      streamChunks(res, 'text/plain; charset=utf-8', TEXT_CHUNKS);
      return;
    case 'overlapping':
      streamChunks(res, 'text/plain', ['Status: ', ...Array<string>(200).fill('ABAB')]);
      return;
    case 'png':
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(Buffer.from(`\x89PNG ${GITHUB_TOKEN}`, 'latin1'));
      return;
    default:
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON_BODY);
  }
}

async function setUp(t: Test): Promise<TestGateway> {
  const { gw } = await startProxy(t, { handler: answer, policy: POLICY });
  return gw;
}

interface SecurityEventLine {
  type: string;
  severity: string;
  route: string;
  request_id: string;
  action: string;
  detail: { reason?: string };
}

function securityEvents(gw: TestGateway, type: string): SecurityEventLine[] {
  return gw.logs
    .filter((line) => line['msg'] === 'security event')
    .map((line) => line['event'] as SecurityEventLine)
    .filter((event) => event.type === type);
}

/** Returns the value of the sample `name{labels}` in the gateway's metrics, or 0 without one. */
async function metricValue(
  gw: TestGateway,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const text = await request(`${gw.adminUrl}/metrics`).then((response) => response.body.text());
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const present = match[2]!.split(',').sort();
    if (present.join(',') === wanted.join(',')) return Number(match[3]);
  }
  return 0;
}

/** Splits an event stream into its events, each with its blank-line terminator. */
function eventsOf(text: string): string[] {
  return text.split(/(?<=\n\n)/).filter((event) => event !== '');
}

/** Decodes an HTTP/1.1 chunked body; returns the data and whether the last chunk arrived. */
function decodeChunked(body: string): { data: string; complete: boolean } {
  let data = '';
  let rest = body;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    if (lineEnd === -1) return { data, complete: false };
    const size = Number.parseInt(rest.slice(0, lineEnd), 16);
    if (size === 0) return { data, complete: true };
    const chunk = rest.slice(lineEnd + 2, lineEnd + 2 + size);
    data += chunk;
    if (chunk.length < size) return { data, complete: false };
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

/** Sends a GET over a raw connection and returns the head and the chunked body as received. */
async function rawGet(gw: TestGateway, path: string) {
  const connection = openRawConnection(gw.url);
  connection.socket.write(`GET ${path} HTTP/1.1\r\nHost: gateway.test\r\n\r\n`);
  const text = Buffer.from(await connection.response, 'latin1').toString('utf8');
  const [head = '', body = ''] = text.split('\r\n\r\n', 2);
  return { head, ...decodeChunked(body) };
}

t.test('JSON over the scan limit gets 502', async (t) => {
  const gw = await setUp(t);
  const response = await request(`${gw.url}/block/answer/json`);
  const body = (await response.body.json()) as { code: string; request_id: string };
  t.equal(response.statusCode, 502);
  t.equal(response.headers['content-type'], 'application/problem+json');
  t.equal(body.code, 'response_blocked');
  t.notOk(
    JSON.stringify(body).includes('All quiet'),
    'none of the upstream body reached the client',
  );

  const line = await accessLine(gw, body.request_id);
  t.equal(line['status'], 502);
  t.equal(line['outcome'], 'response_blocked');
  t.equal(line['code'], 'response_blocked');
  t.equal(line['reason'], 'max_scanned_size');
  const events = securityEvents(gw, 'response_unscanned');
  t.equal(events.length, 1, 'one security event');
  t.equal(events[0]?.detail.reason, 'max_scanned_size');
  t.equal(events[0]?.action, 'blocked');
  t.equal(events[0]?.route, 'limit-block');
  t.equal(events[0]?.request_id, body.request_id);
  const labels = { route: 'limit-block', limit: 'max_scanned_size', action: 'block' };
  t.equal(await metricValue(gw, 'agentflow_gateway_response_scan_limits_total', labels), 1);
  t.equal(
    await metricValue(gw, 'agentflow_gateway_response_unscanned_total', {
      route: 'limit-block',
      reason: 'max_scanned_size',
    }),
    0,
    'a stopped response is not counted as sent unscanned',
  );
});

t.test('SSE over the scan limit ends with an error event', async (t) => {
  const gw = await setUp(t);
  const response = await request(`${gw.url}/block/chat/sse`);
  const text = await response.body.text();
  t.equal(response.statusCode, 200, 'the status went out before the limit was reached');
  t.equal(response.headers['content-type'], 'text/event-stream');

  const events = eventsOf(text);
  const last = events.at(-1) ?? '';
  t.match(
    last,
    /^event: error\ndata: \{"error":\{"type":"response_blocked","code":"response_blocked",.*\}\}\n\n$/,
    'the stream ends with an error event',
  );
  const delivered = events.slice(0, -1);
  t.ok(delivered.length > 0, 'events scanned before the limit were delivered');
  t.ok(delivered.length < EVENT_COUNT, 'events past the limit were not delivered');
  t.same(delivered, SSE_EVENTS.slice(0, delivered.length), 'delivered events are unchanged');
  const deliveredBytes = delivered.reduce((sum, event) => sum + Buffer.byteLength(event), 0);
  t.ok(deliveredBytes <= MAX_SCANNED, 'nothing beyond the scanned size was delivered');

  const requestId = String(response.headers['x-request-id']);
  const line = await accessLine(gw, requestId);
  t.equal(line['status'], 200);
  t.equal(line['outcome'], 'response_blocked');
  t.equal(line['code'], 'response_blocked');
  t.equal(line['reason'], 'max_scanned_size');
  const unscanned = securityEvents(gw, 'response_unscanned');
  t.equal(unscanned.length, 1, 'one security event');
  t.equal(unscanned[0]?.action, 'blocked');
  t.equal(unscanned[0]?.request_id, requestId);
  const labels = { route: 'limit-block', limit: 'max_scanned_size', action: 'block' };
  t.equal(await metricValue(gw, 'agentflow_gateway_response_scan_limits_total', labels), 1);
});

t.test('text over the scan limit is cut', async (t) => {
  const gw = await setUp(t);
  const { head, data, complete } = await rawGet(gw, '/block/report/text');
  t.match(head, /^HTTP\/1\.1 200 /, 'the status went out before the limit was reached');
  t.match(head, /\r\ntransfer-encoding: chunked/i);
  t.notOk(complete, 'the body never ends, so the client can tell it was cut');
  const upstreamText = TEXT_CHUNKS.join('');
  t.ok(data.length > 0, 'text scanned before the limit was delivered');
  t.ok(Buffer.byteLength(data) <= MAX_SCANNED, 'nothing beyond the scanned size was delivered');
  t.equal(data, upstreamText.slice(0, data.length), 'delivered text is unchanged');

  const requestId = /\r\nx-request-id: (\S+)/i.exec(head)?.[1] ?? '';
  const line = await accessLine(gw, requestId);
  t.equal(line['status'], 200, 'logged with the status sent, not as a client abort');
  t.equal(line['outcome'], 'response_blocked', 'logged as cut by the gateway');
  t.equal(line['code'], 'response_blocked');
  t.equal(line['reason'], 'max_scanned_size');
  const events = securityEvents(gw, 'response_unscanned');
  t.equal(events.length, 1, 'one security event');
  t.equal(events[0]?.action, 'blocked');
  const labels = { route: 'limit-block', limit: 'max_scanned_size', action: 'block' };
  t.equal(await metricValue(gw, 'agentflow_gateway_response_scan_limits_total', labels), 1);
});

t.test('pass_and_flag delivers every body intact', async (t) => {
  const gw = await setUp(t);
  const cases = [
    { path: '/pass/chat/sse', expected: SSE_EVENTS.join('') },
    { path: '/pass/report/text', expected: TEXT_CHUNKS.join('') },
    { path: '/pass/answer/json', expected: JSON_BODY },
  ];
  for (const [index, { path, expected }] of cases.entries()) {
    const response = await request(`${gw.url}${path}`);
    const text = await response.body.text();
    t.equal(response.statusCode, 200, path);
    t.equal(text, expected, `${path} arrives intact`);

    const requestId = String(response.headers['x-request-id']);
    const line = await accessLine(gw, requestId);
    t.equal(line['code'], undefined, `${path} is not logged as blocked`);
    const events = await waitFor(
      () => securityEvents(gw, 'response_unscanned').length === index + 1,
      `the security event of ${path}`,
    ).then(() => securityEvents(gw, 'response_unscanned'));
    const event = events.at(-1);
    t.equal(event?.request_id, requestId, `${path} has its own event`);
    t.equal(event?.detail.reason, 'max_scanned_size');
    t.equal(event?.action, 'flagged');
    t.equal(event?.severity, 'medium');
  }
  t.equal(securityEvents(gw, 'response_unscanned').length, cases.length, 'one event each');
  const limitLabels = { route: 'limit-pass', limit: 'max_scanned_size', action: 'flag' };
  t.equal(
    await metricValue(gw, 'agentflow_gateway_response_scan_limits_total', limitLabels),
    cases.length,
  );
  const unscannedLabels = { route: 'limit-pass', reason: 'max_scanned_size' };
  t.equal(
    await metricValue(gw, 'agentflow_gateway_response_unscanned_total', unscannedLabels),
    cases.length,
  );
});

t.test('hold-back limit stops the stream', async (t) => {
  const gw = await setUp(t);
  const { head, data, complete } = await rawGet(gw, '/overlapping/overlapping');
  t.match(head, /^HTTP\/1\.1 200 /);
  t.notOk(complete, 'the body never ends, so the client can tell it was cut');
  t.ok('Status: '.startsWith(data), 'only text before the held matches was delivered');

  const requestId = /\r\nx-request-id: (\S+)/i.exec(head)?.[1] ?? '';
  const line = await accessLine(gw, requestId);
  t.equal(line['status'], 200, 'logged with the status sent, not as a client abort');
  t.equal(line['outcome'], 'response_blocked', 'logged as cut by the gateway');
  t.equal(line['code'], 'response_blocked');
  t.equal(line['reason'], 'max_hold_back');
  const events = securityEvents(gw, 'response_unscanned');
  t.equal(events.length, 1, 'one security event');
  t.equal(events[0]?.detail.reason, 'max_hold_back');
  t.equal(events[0]?.action, 'blocked');
  const labels = { route: 'overlapping', limit: 'max_hold_back', action: 'block' };
  t.equal(await metricValue(gw, 'agentflow_gateway_response_scan_limits_total', labels), 1);
});

t.test('binary bodies pass unscanned and are counted', async (t) => {
  const gw = await setUp(t);
  const response = await request(`${gw.url}/scanned/image/png`);
  const body = Buffer.from(await response.body.arrayBuffer());
  t.equal(response.statusCode, 200);
  t.equal(response.headers['content-type'], 'image/png');
  t.same(body, Buffer.from(`\x89PNG ${GITHUB_TOKEN}`, 'latin1'), 'the body is unchanged');
  const labels = { route: 'scanned', reason: 'binary' };
  t.equal(await metricValue(gw, 'agentflow_gateway_response_unscanned_total', labels), 1);
  t.equal(securityEvents(gw, 'response_unscanned').length, 0, 'no security event');
  t.equal(securityEvents(gw, 'response_leak').length, 0, 'no detection');

  const json = await request(`${gw.url}/scanned/answer/json`);
  await json.body.text();
  t.equal(
    await metricValue(gw, 'agentflow_gateway_response_unscanned_total', labels),
    1,
    'a scanned body is not counted',
  );
});
