import type { IncomingMessage, ServerResponse } from 'node:http';
import OpenAI, { APIError } from 'openai';
import t, { type Test } from 'tap';
import { startProxy } from '../helpers/e2e.js';
import type { TestGateway } from '../helpers/gateway.js';
import type { TestUpstream } from '../helpers/upstream.js';

// A made-up token of the documented GitHub shape: "ghp_" and 36 letters and digits.
const GITHUB_TOKEN = `ghp_${'a1B2c3D4e5F6'.repeat(3)}`;
const CANARY = 'cnry-5e1d7a93c0b2';
const MODEL = 'fake-model';

const POLICY = `version: 1
routes:
  - name: chat
    match: { methods: [POST], path: /v1/chat/completions }
    auth: none
    response:
      canaries: { values: ['${CANARY}'] }
`;

/** The content pieces the upstream streams: the token is split over four chunks. */
const PIECES = [
  'Here is ',
  'the deploy key: ',
  GITHUB_TOKEN.slice(0, 6),
  GITHUB_TOKEN.slice(6, 19),
  GITHUB_TOKEN.slice(19, 31),
  GITHUB_TOKEN.slice(31),
  '. Keep it ',
  'safe.',
];

/** Writes `pieces` as OpenAI chat completion chunks, one event-loop turn apart, then [DONE]. */
function streamChat(res: ServerResponse, pieces: readonly string[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const chunk = (index: number, delta: object, finishReason: string | null) =>
    `data: ${JSON.stringify({
      id: `chatcmpl-fake-${index}`,
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model: MODEL,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    })}\n\n`;
  const events = [
    chunk(0, { role: 'assistant', content: '' }, null),
    ...pieces.map((content, index) => chunk(index + 1, { content }, null)),
    chunk(pieces.length + 1, {}, 'stop'),
    'data: [DONE]\n\n',
  ];
  let next = 0;
  const writeNext = (): void => {
    if (res.destroyed) return;
    if (next === events.length) {
      res.end();
      return;
    }
    res.write(events[next]!);
    next += 1;
    setImmediate(writeNext);
  };
  writeNext();
}

/** The upstream streams the pieces named by the request's last user message. */
function answer(_req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const request = JSON.parse(body.toString('utf8')) as { messages: { content: string }[] };
  const question = request.messages.at(-1)?.content ?? '';
  if (question.includes('canary')) {
    streamChat(res, ['The hidden marker is ', CANARY.slice(0, 7), CANARY.slice(7), '.']);
  } else {
    streamChat(res, PIECES);
  }
}

async function setUp(
  t: Test,
): Promise<{ gw: TestGateway; upstream: TestUpstream; client: OpenAI }> {
  const { gw, upstream } = await startProxy(t, { handler: answer, policy: POLICY });
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0 });
  return { gw, upstream, client };
}

t.test('openai client reads a redacted stream', async (t) => {
  const { gw, upstream, client } = await setUp(t);
  const stream = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: 'What is the deploy key?' }],
    stream: true,
  });
  const ids: string[] = [];
  let text = '';
  let finishReason: string | null = null;
  for await (const chunk of stream) {
    ids.push(chunk.id);
    text += chunk.choices[0]?.delta.content ?? '';
    finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
  }

  t.equal(upstream.received.length, 1, 'one request reached the upstream');
  t.equal(upstream.received[0]?.url, '/v1/chat/completions');
  t.same(
    ids,
    Array.from({ length: PIECES.length + 2 }, (_, index) => `chatcmpl-fake-${index}`),
    'the client parsed every chunk, in order',
  );
  t.equal(finishReason, 'stop');
  t.equal(text, 'Here is the deploy key: [REDACTED:github]. Keep it safe.');
  t.notOk(text.includes(GITHUB_TOKEN), 'the token is not in the reassembled text');
  for (const piece of PIECES.slice(2, 6)) {
    t.notOk(text.includes(piece), `no piece of the token remains: ${piece}`);
  }
  const leaks = gw.logs.filter(
    (line) =>
      line['msg'] === 'security event' &&
      (line['event'] as { type: string }).type === 'response_leak',
  );
  t.equal(leaks.length, 1, 'one detection is logged');
  t.notOk(JSON.stringify(gw.logs).includes(GITHUB_TOKEN), 'the token is never logged');
});

t.test('openai client sees a blocked stream as an APIError', async (t) => {
  const { client } = await setUp(t);
  const stream = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: 'Print the canary.' }],
    stream: true,
  });
  let text = '';
  let caught: unknown;
  try {
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  } catch (error) {
    caught = error;
  }
  t.ok(caught instanceof APIError, 'the error event ends the iteration with an APIError');
  t.equal((caught as APIError).code, 'response_blocked');
  t.equal((caught as APIError).type, 'response_blocked');
  t.notOk(text.includes(CANARY.slice(7)), 'no piece of the canary reached the client');
  t.notOk(text.includes(CANARY.slice(0, 7)), 'not even its first piece');
});
