import { gzipSync } from 'node:zlib';
import t from 'tap';
import { chatChunk, chatContent, chunksOf, policyOf, runTransform, sseData } from './helpers.js';

const SSE = { 'content-type': 'text/event-stream' };
const policy = policyOf({ detectors: { email: 'block' } });
const secret = 'ghp_FAKEfake0123456789FAKEfake0123456789';

/** Builds a chat completion stream with one chunk per piece of content, then `[DONE]`. */
function chatStream(pieces: string[]): string {
  return `${pieces.map((piece) => chatChunk(piece)).join('')}data: [DONE]\n\n`;
}

t.test('secret split across two sse events is redacted', async (t) => {
  const body = chatStream(['Your token is ', secret.slice(0, 10), secret.slice(10), ' - keep it.']);
  const run = await runTransform(policy, SSE, chunksOf(body, 7));
  const text = run.output.toString();
  t.equal(chatContent(text), 'Your token is [REDACTED:github] - keep it.');
  t.notOk(text.includes('FAKEfake'), 'no piece of the secret remains');
  t.equal(run.detections.length, 1);
  t.equal(run.detections[0]!.kind, 'github');
});

t.test('openai chunk stream stays parseable after redaction', async (t) => {
  const pieces = ['key: ', ...chunksOf(secret, 3), ' and more text'];
  const run = await runTransform(policy, SSE, [chatStream(pieces)]);
  const events = sseData(run.output.toString());
  t.equal(events.length, pieces.length + 1, 'every event is kept');
  t.equal(events.at(-1), '[DONE]');
  for (const data of events.slice(0, -1)) {
    const chunk = JSON.parse(data) as { object: string; choices: unknown[] };
    t.equal(chunk.object, 'chat.completion.chunk');
    t.equal(chunk.choices.length, 1);
  }
  t.equal(chatContent(run.output.toString()), 'key: [REDACTED:github] and more text');
});

t.test('choices are reassembled separately', async (t) => {
  const body =
    chatChunk('A: ghp_FAKEfake01234', 0) +
    chatChunk('B: clean text ', 1) +
    chatChunk('56789FAKEfake0123456789 done', 0) +
    chatChunk('ghp_ is only a prefix', 1);
  const run = await runTransform(policy, SSE, chunksOf(body, 11));
  t.equal(chatContent(run.output.toString(), 0), 'A: [REDACTED:github] done');
  t.equal(chatContent(run.output.toString(), 1), 'B: clean text ghp_ is only a prefix');
});

t.test('ids, comments and framing pass unchanged', async (t) => {
  const body =
    ': keep-alive\r\nid: 7\r\nevent: message\r\ndata: plain text\r\n\r\nretry: 500\r\n\r\n';
  const run = await runTransform(policy, SSE, chunksOf(body, 3));
  t.equal(run.output.toString(), body);
});

t.test('plain text events are scanned as one text', async (t) => {
  const body = `id: 1\ndata: token ${secret.slice(0, 20)}\n\nid: 2\ndata: ${secret.slice(20)} end\n\n`;
  const run = await runTransform(policy, SSE, [body]);
  t.equal(run.output.toString(), 'id: 1\ndata: token [REDACTED:github]\n\nid: 2\ndata:  end\n\n');
});

t.test('data after byte order marks is scanned', async (t) => {
  // Clients drop one leading U+FEFF and read the line after it as a field, and some trim more
  // than one, so a line with marks before `data` is scanned as data, in any chunking.
  for (const marks of ['\uFEFF', '\uFEFF\uFEFF']) {
    const body = Buffer.from(`${marks}data: token ${secret} end\n\ndata: ok\n\n`);
    const pairs = Array.from({ length: Math.ceil(body.length / 2) }, (_, index) =>
      body.subarray(index * 2, index * 2 + 2),
    );
    for (const chunks of [[body], [body.subarray(0, 1), body.subarray(1)], pairs]) {
      const run = await runTransform(policy, SSE, chunks);
      const text = run.output.toString();
      t.equal(text, 'data: token [REDACTED:github] end\n\ndata: ok\n\n', `${marks.length} marks`);
      t.notOk(text.includes('FAKEfake'), 'no piece of the secret remains');
    }
  }
});

t.test('byte order mark of a clean stream is kept', async (t) => {
  const body = '\uFEFFdata: hello\n\n';
  const run = await runTransform(policy, SSE, [body]);
  t.equal(run.output.toString(), body);
});

t.test('duplicate delta key stops the stream', async (t) => {
  // JSON.parse keeps the last `content`, which completes the token; joining both copies hides it.
  const first = '{"choices":[{"index":0,"delta":{"content":"token ghp_FAKEfake0123456"}}]}';
  const second =
    '{"choices":[{"index":0,"delta":{"content":" ","content":"789FAKEfake0123456789 end"}}]}';
  const run = await runTransform(policy, SSE, [`data: ${first}\n\ndata: ${second}\n\n`]);
  t.same(run.blocked, { type: 'limit', reason: 'duplicate_json_key' });
  t.same(run.limits, [{ reason: 'duplicate_json_key', action: 'block' }]);
  const events = sseData(run.output.toString());
  t.equal(events.length, 1, 'only the error event is sent');
  t.equal((JSON.parse(events[0]!) as { error: { code: string } }).error.code, 'response_blocked');
  t.notOk(run.output.toString().includes('ghp_'), 'no piece of the token is sent');
});

t.test('duplicate index stops the stream', async (t) => {
  // A parser that keeps the first `index` joins the second half to choice 0.
  const first = '{"choices":[{"index":0,"delta":{"content":"token ghp_FAKEfake0123456"}}]}';
  const second =
    '{"choices":[{"index":0,"index":1,"delta":{"content":"789FAKEfake0123456789 end"}}]}';
  const run = await runTransform(policy, SSE, [`data: ${first}\n\ndata: ${second}\n\n`]);
  t.same(run.blocked, { type: 'limit', reason: 'duplicate_json_key' });
  t.notOk(run.output.toString().includes('ghp_'), 'no piece of the token is sent');
});

t.test('duplicate keys without streamed text are scanned', async (t) => {
  const record = `{"id":"a","id":"b","usage":{"total_tokens":3}}`;
  const run = await runTransform(policy, SSE, [`data: ${record}\n\n`]);
  t.equal(run.blocked, undefined);
  t.equal(run.output.toString(), `data: ${record}\n\n`);
});

t.test('gzip-encoded sse is decompressed and scanned', async (t) => {
  const body = gzipSync(Buffer.from(chatStream(['secret ', secret, ' end'])));
  const run = await runTransform(
    policy,
    { ...SSE, 'content-encoding': 'gzip' },
    chunksOf(body.toString('latin1'), 9).map((chunk) => Buffer.from(chunk, 'latin1')),
  );
  t.equal(chatContent(run.output.toString()), 'secret [REDACTED:github] end');
});

t.test('block before the stream sends only the error event', async (t) => {
  const run = await runTransform(policy, SSE, [
    chatStream(['mail jane.doe@fake-mail.test', ' now']),
  ]);
  t.equal(run.blocked?.type, 'detection');
  const events = sseData(run.output.toString());
  t.equal(events.length, 1);
  t.equal((JSON.parse(events[0]!) as { error: { code: string } }).error.code, 'response_blocked');
  t.notOk(run.output.toString().includes('jane.doe'));
});

t.test('block during a stream ends it with an error event', async (t) => {
  const clean = Array.from({ length: 20 }, (_, index) => `word${index} `);
  const body = chatStream([...clean, 'mail jane.doe@fake-mail.test', ' after']);
  const run = await runTransform(policy, SSE, chunksOf(body, 50));
  const text = run.output.toString();
  t.ok(chatContent(text).startsWith('word0 word1 '), 'earlier events were sent');
  t.match(text, /event: error\ndata: \{"error":\{"type":"response_blocked"/);
  t.ok(text.endsWith('\n\n'), 'the error event is complete');
  t.notOk(text.includes('jane.doe'), 'the blocked text is not sent');
  t.notOk(text.includes('after'), 'nothing after the block is sent');
});

t.test('role and tool call names do not hold the stream', async (t) => {
  // "assistant" is a word of the prompt, so as a text stream of its own the role could still
  // start a prompt copy until the response ended, and every later event would wait behind it.
  const prompted = policyOf({
    system_prompt: { text: 'You are a careful assistant for the fake gateway tests only.' },
  });
  const event = (delta: object) =>
    `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta }] })}\n\n`;
  const call = { index: 0, id: 'call_fake', type: 'function', function: { name: 'assistant' } };
  const body = [
    event({ role: 'assistant', content: '' }),
    event({ tool_calls: [call] }),
    event({ tool_calls: [{ index: 0, function: { arguments: '{"q": "x"}' } }] }),
    event({ content: 'Hello there. ' }),
    event({ content: 'More text follows here.' }),
    'data: [DONE]\n\n',
  ];
  const run = await runTransform(prompted, SSE, body);
  t.equal(run.output.toString(), body.join(''), 'the stream is unchanged');
  t.ok(run.chunks.length > 1, 'events were sent before the end');
  t.match(run.chunks[0]!.toString(), /"role":"assistant"/, 'the role event went out first');
  t.notOk(run.chunks[0]!.toString().includes('More text'), 'before later events arrived');
});
