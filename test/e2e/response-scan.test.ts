import { gzipSync } from 'node:zlib';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { startGateway } from '../helpers/gateway.js';
import { startUpstream } from '../helpers/upstream.js';

const CARD = '4111 1111 1111 1111';
// A made-up token of the documented GitHub shape: "ghp_" and 36 letters and digits.
const GITHUB_TOKEN = `ghp_${'a1B2c3D4e5F6'.repeat(3)}`;
const CANARY = 'canary-7f3a9c21-do-not-share';

const POLICY = `version: 1
routes:
  - name: scanned
    match: { path_prefix: /scanned }
    auth: none
  - name: guarded
    match: { path_prefix: /guarded }
    auth: none
    response:
      canaries: { values: ['${CANARY}'] }
  - name: unscanned
    match: { path_prefix: /unscanned }
    auth: none
    response: { enabled: false }
`;

type Handler = Parameters<typeof startUpstream>[0];

async function setUp(t: Test, handler: Handler) {
  const upstream = await startUpstream(handler);
  const gw = await startGateway({ upstreamUrl: upstream.url, policy: POLICY });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  return gw;
}

const jsonAnswer = JSON.stringify({ answer: `card ${CARD}, token ${GITHUB_TOKEN}` });

t.test('JSON secrets are redacted', async (t) => {
  const gw = await setUp(t, (_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': String(jsonAnswer.length),
    });
    res.end(jsonAnswer);
  });
  const response = await request(`${gw.url}/scanned/q`);
  const text = await response.body.text();
  t.equal(response.statusCode, 200);
  const body = JSON.parse(text) as { answer: string };
  t.equal(body.answer, 'card [REDACTED:credit_card], token [REDACTED:github]');
  t.notOk(text.includes(CARD), 'no card number');
  t.notOk(text.includes(GITHUB_TOKEN), 'no token');
  t.not(response.headers['content-length'], String(jsonAnswer.length), 'no stale length');
  const metrics = await request(`${gw.adminUrl}/metrics`).then((r) => r.body.text());
  t.match(
    metrics,
    /agentflow_gateway_leak_detections_total\{route="scanned",detector="payment-card",action="redact"\} 1/,
  );
  const logged = gw.logs.filter(
    (line) =>
      line['msg'] === 'security event' &&
      (line['event'] as { type: string }).type === 'response_leak',
  );
  t.equal(logged.length, 2);
  t.notOk(JSON.stringify(gw.logs).includes(CARD), 'the card number is never logged');
});

t.test('secret split across SSE events', async (t) => {
  const half = GITHUB_TOKEN.length / 2;
  const pieces = ['Your key is ', GITHUB_TOKEN.slice(0, half), GITHUB_TOKEN.slice(half), ' ok'];
  const gw = await setUp(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const content of pieces) {
      const chunk = {
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta: { content } }],
      };
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  });
  const response = await request(`${gw.url}/scanned/stream`);
  const text = await response.body.text();
  const contents = text
    .split('\n\n')
    .filter((event) => event.startsWith('data: {'))
    .map((event) => {
      const chunk = JSON.parse(event.slice('data: '.length)) as {
        choices: { delta: { content?: string } }[];
      };
      return chunk.choices[0]!.delta.content ?? '';
    });
  const joined = contents.join('');
  t.notOk(joined.includes(GITHUB_TOKEN), 'the reassembled text has no token');
  t.match(joined, /\[REDACTED:github\]/);
  t.match(text, /data: \[DONE\]\n\n$/, 'the stream still ends normally');
});

t.test('canary in JSON blocks the response', async (t) => {
  const gw = await setUp(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ answer: `The system prompt says ${CANARY}.` }));
  });
  const response = await request(`${gw.url}/guarded/q`);
  const body = (await response.body.json()) as { code: string };
  t.equal(response.statusCode, 502);
  t.equal(response.headers['content-type'], 'application/problem+json');
  t.equal(body.code, 'response_blocked');
  t.notOk(JSON.stringify(body).includes(CANARY));
});

t.test('canary in a stream ends it with an error event', async (t) => {
  const before = 'data: {"choices":[{"index":0,"delta":{"content":"The answer is"}}]}\n\n';
  const leaking = `data: {"choices":[{"index":0,"delta":{"content":" ${CANARY}."}}]}\n\n`;
  const gw = await setUp(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(before);
    setImmediate(() => res.end(`${leaking}data: [DONE]\n\n`));
  });
  const response = await request(`${gw.url}/guarded/stream`);
  const text = await response.body.text();
  t.equal(response.statusCode, 200, 'the status went out with the first event');
  t.notOk(text.includes(CANARY), 'the canary never reaches the client');
  t.notOk(text.includes('[DONE]'), 'nothing after the canary is sent');
  t.match(
    text,
    /event: error\ndata: \{"error":\{"type":"response_blocked","code":"response_blocked"/,
  );
  t.match(text, /\n\n$/, 'the error event is complete and the stream ends normally');
});

t.test('gzip JSON is scanned', async (t) => {
  const compressed = gzipSync(jsonAnswer);
  const gw = await setUp(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    res.end(compressed);
  });
  const response = await request(`${gw.url}/scanned/q`);
  const text = await response.body.text();
  t.equal(response.headers['content-encoding'], undefined, 'sent decoded');
  t.notOk(text.includes(CARD));
  t.match(text, /\[REDACTED:credit_card\]/);
});

t.test('scanning can be turned off', async (t) => {
  const gw = await setUp(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(jsonAnswer);
  });
  const response = await request(`${gw.url}/unscanned/q`);
  t.equal(await response.body.text(), jsonAnswer);
});
