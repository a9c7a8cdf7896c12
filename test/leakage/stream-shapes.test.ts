import t, { type Test } from 'tap';
import { chunksOf, policyOf, runTransform, sseData, withLuhnDigit } from './helpers.js';

const SSE = { 'content-type': 'text/event-stream' };
const policy = policyOf({});
const secret = 'ghp_R8wK2pLx9QvT4mZn7YbC3dHf6JsG1aUe5NoX';
const offsets = [1, 4, 5, 12, 20, 35, 39];

type Path = readonly (string | number)[];

/** A streamed chunk shape: where its text is, and the event around it. */
interface Shape {
  name: string;
  /** The `event:` field the sender puts before the data, if any. */
  eventName?: string;
  /** Path of the text in the event's data; empty for data that is a bare JSON string. */
  path: Path;
  /** The event's data without its text; `n` is the event's position, `part` a parallel part. */
  base: (n: number, part: number) => unknown;
  /** False for shapes whose every event belongs to one text. */
  parallel: boolean;
}

const shapes: Shape[] = [
  {
    name: 'openai responses output_text',
    eventName: 'response.output_text.delta',
    path: ['delta'],
    base: (n, part) => ({
      type: 'response.output_text.delta',
      sequence_number: n + 4,
      item_id: 'msg_fake1',
      output_index: 0,
      content_index: part,
      delta: '',
      logprobs: [],
    }),
    parallel: true,
  },
  {
    name: 'openai responses refusal',
    eventName: 'response.refusal.delta',
    path: ['delta'],
    base: (n, part) => ({
      type: 'response.refusal.delta',
      sequence_number: n,
      item_id: 'msg_fake1',
      output_index: part,
      content_index: 0,
      delta: '',
    }),
    parallel: true,
  },
  {
    name: 'openai responses reasoning summary',
    path: ['delta'],
    base: (n, part) => ({
      type: 'response.reasoning_summary_text.delta',
      item_id: 'rs_fake1',
      output_index: 0,
      summary_index: part,
      delta: '',
      sequence_number: n,
    }),
    parallel: true,
  },
  {
    name: 'openai responses reasoning text',
    path: ['delta'],
    base: (n, part) => ({
      type: 'response.reasoning_text.delta',
      item_id: 'rs_fake1',
      output_index: 0,
      content_index: part,
      delta: '',
      sequence_number: n,
    }),
    parallel: true,
  },
  {
    name: 'openai responses function call arguments',
    eventName: 'response.function_call_arguments.delta',
    path: ['delta'],
    base: (n, part) => ({
      type: 'response.function_call_arguments.delta',
      item_id: `fc_fake${part}`,
      output_index: part + 1,
      delta: '',
      sequence_number: n,
    }),
    parallel: true,
  },
  {
    name: 'gemini text part',
    path: ['candidates', 0, 'content', 'parts', 0, 'text'],
    base: (n, part) => ({
      candidates: [{ content: { parts: [{ text: '' }], role: 'model' }, index: part }],
      usageMetadata: { promptTokenCount: 9, candidatesTokenCount: n },
      modelVersion: 'gemini-fake',
      responseId: 'fake-response-id',
    }),
    parallel: true,
  },
  {
    name: 'gemini thought part',
    path: ['candidates', 0, 'content', 'parts', 0, 'text'],
    base: (n, part) => ({
      candidates: [
        { content: { parts: [{ text: '', thought: true }], role: 'model' }, index: part },
      ],
      usageMetadata: { promptTokenCount: 9, thoughtsTokenCount: n },
    }),
    parallel: true,
  },
  {
    name: 'hugging face tgi token',
    path: ['token', 'text'],
    base: (n) => ({
      index: n + 1,
      token: { id: 1000 + n, text: '', logprob: -0.25, special: false },
      generated_text: null,
      details: null,
    }),
    parallel: false,
  },
  {
    name: 'ai sdk text-delta',
    path: ['delta'],
    base: (_n, part) => ({ type: 'text-delta', id: `txt-${part}`, delta: '' }),
    parallel: true,
  },
  {
    name: 'ai sdk reasoning-delta',
    path: ['delta'],
    base: (_n, part) => ({ type: 'reasoning-delta', id: `rsn-${part}`, delta: '' }),
    parallel: true,
  },
  {
    name: 'ai sdk tool-input-delta',
    path: ['inputTextDelta'],
    base: (_n, part) => ({
      type: 'tool-input-delta',
      toolCallId: `call_${part}`,
      inputTextDelta: '',
    }),
    parallel: true,
  },
  {
    name: 'cohere content-delta',
    eventName: 'content-delta',
    path: ['delta', 'message', 'content', 'text'],
    base: (_n, part) => ({
      type: 'content-delta',
      index: part,
      delta: { message: { content: { type: 'text', text: '' } } },
    }),
    parallel: true,
  },
  {
    name: 'cohere tool-call-delta',
    path: ['delta', 'message', 'tool_calls', 'function', 'arguments'],
    base: (_n, part) => ({
      type: 'tool-call-delta',
      index: part,
      delta: { message: { tool_calls: { function: { arguments: '' } } } },
    }),
    parallel: true,
  },
  {
    name: 'cohere tool-plan-delta',
    path: ['delta', 'message', 'tool_plan'],
    base: () => ({ type: 'tool-plan-delta', delta: { message: { tool_plan: '' } } }),
    parallel: false,
  },
  {
    name: 'anthropic content_block_delta',
    eventName: 'content_block_delta',
    path: ['delta', 'text'],
    base: (_n, part) => ({
      type: 'content_block_delta',
      index: part,
      delta: { type: 'text_delta', text: '' },
    }),
    parallel: true,
  },
  { name: 'bare json string', path: [], base: () => '', parallel: false },
];

/** Returns a copy of `value` with the string at `path` set to `text`. */
function withText(value: unknown, path: Path, text: string): unknown {
  if (path.length === 0) return text;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let node = copy;
  for (const part of path.slice(0, -1)) node = node[part] as Record<string | number, unknown>;
  node[path.at(-1)!] = text;
  return copy;
}

function textAt(value: unknown, path: Path): string {
  let node = value;
  for (const part of path) node = (node as Record<string | number, unknown>)[part];
  if (typeof node !== 'string') throw new Error(`no text at ${path.join('.')}`);
  return node;
}

interface Piece {
  text: string;
  part?: number;
}

/** Builds one event per piece, each the shape's event with the piece as its text. */
function streamOf(shape: Shape, pieces: readonly Piece[]): string {
  return pieces
    .map((piece, n) => {
      const data = withText(shape.base(n, piece.part ?? 0), shape.path, piece.text);
      const name = shape.eventName ? `event: ${shape.eventName}\n` : '';
      return `${name}data: ${JSON.stringify(data)}\n\n`;
    })
    .join('');
}

/**
 * Checks that every event of `output` is the event that was sent, apart from its text, and
 * returns the joined text of each part.
 */
function readStream(t: Test, shape: Shape, output: string, pieces: readonly Piece[]) {
  const events = sseData(output);
  t.equal(events.length, pieces.length, `${shape.name}: every event is kept`);
  const texts = new Map<number, string>();
  events.forEach((data, n) => {
    const part = pieces[n]?.part ?? 0;
    const parsed = JSON.parse(data) as unknown;
    const text = textAt(parsed, shape.path);
    t.same(parsed, withText(shape.base(n, part), shape.path, text), `${shape.name}: event ${n}`);
    texts.set(part, (texts.get(part) ?? '') + text);
  });
  const names = output.match(/^event: .*$/gm) ?? [];
  t.equal(names.length, shape.eventName ? pieces.length : 0, `${shape.name}: event names kept`);
  return texts;
}

/** Returns every four-character piece of `value`, so that no surviving piece is missed. */
function windowsOf(value: string): string[] {
  return Array.from({ length: value.length - 3 }, (_, index) => value.slice(index, index + 4));
}

t.test('split token redacted in every shape', async (t) => {
  for (const shape of shapes) {
    for (const offset of offsets) {
      const pieces = [
        { text: 'Here is ' },
        { text: `what I found ${secret.slice(0, offset)}` },
        { text: `${secret.slice(offset)} - keep` },
        { text: ' it safe.' },
      ];
      const label = `${shape.name} at ${offset}`;
      const run = await runTransform(policy, SSE, chunksOf(streamOf(shape, pieces), 17));
      const output = run.output.toString();
      const texts = readStream(t, shape, output, pieces);
      t.equal(texts.get(0), 'Here is what I found [REDACTED:github] - keep it safe.', label);
      const left = windowsOf(secret).filter((window) => output.includes(window));
      t.same(left, [], `${label}: no piece of the token remains`);
      t.same(
        run.detections.map((detection) => detection.kind),
        ['github'],
        label,
      );
    }
  }
});

t.test('parallel parts reassembled separately', async (t) => {
  for (const shape of shapes.filter((entry) => entry.parallel)) {
    const pieces = [
      { text: `A: ${secret.slice(0, 15)}`, part: 0 },
      { text: 'B: clean text ', part: 1 },
      { text: `${secret.slice(15)} done`, part: 0 },
      { text: 'ghp_ is only a prefix', part: 1 },
    ];
    const run = await runTransform(policy, SSE, chunksOf(streamOf(shape, pieces), 23));
    const texts = readStream(t, shape, run.output.toString(), pieces);
    t.equal(texts.get(0), 'A: [REDACTED:github] done', shape.name);
    t.equal(texts.get(1), 'B: clean text ghp_ is only a prefix', shape.name);
  }
});

t.test('other split secrets are found', async (t) => {
  const card = withLuhnDigit('411111111111111');
  const cases = [
    { text: `pay with ${card} today`, at: 14, kind: 'credit_card', value: card },
    { text: 'write to jane.doe@fake-mail.test now', at: 16, kind: 'email', value: 'jane.doe' },
    {
      text: 'set password = "Fk9-pQ2x7Lm4Zt" here',
      at: 22,
      kind: 'generic_secret',
      value: 'pQ2x7Lm4',
    },
  ];
  for (const shape of shapes) {
    for (const { text, at, kind, value } of cases) {
      const pieces = [{ text: text.slice(0, at) }, { text: text.slice(at) }];
      const run = await runTransform(policy, SSE, [streamOf(shape, pieces)]);
      const output = run.output.toString();
      const joined = readStream(t, shape, output, pieces).get(0) ?? '';
      t.match(joined, `[REDACTED:${kind}]`, `${shape.name}: ${kind}`);
      t.notOk(output.includes(value), `${shape.name}: ${kind} does not remain`);
    }
  }
});

t.test('other event types not joined', async (t) => {
  const halves = [secret.slice(0, 20), secret.slice(20)];
  const unrelated: [string, (text: string) => unknown][] = [
    ['another delta type', (text) => ({ type: 'status.delta', delta: text })],
    ['another type with text', (text) => ({ type: 'message', text })],
    ['a bare text field', (text) => ({ text })],
    ['text-delta with text', (text) => ({ type: 'text-delta', id: 'txt-0', text })],
    ['responses done event', (text) => ({ type: 'response.output_text.done', delta: text })],
    ['cohere path elsewhere', (text) => ({ type: 'content-delta', delta: { text } })],
    ['delta.text of another type', (text) => ({ type: 'delta', delta: { text } })],
    ['token without an id', (text) => ({ token: { text } })],
    ['candidate text elsewhere', (text) => ({ candidates: [{ text }] })],
  ];
  for (const [name, event] of unrelated) {
    const body = halves.map((half) => `data: ${JSON.stringify(event(half))}\n\n`).join('');
    const run = await runTransform(policy, SSE, [body]);
    t.equal(run.output.toString(), body, `${name}: unchanged`);
    t.equal(run.detections.length, 0, `${name}: nothing found`);
  }
});

t.test('tgi final event scanned whole', async (t) => {
  const pieces = [`key ${secret.slice(0, 9)}`, secret.slice(9)];
  const last = {
    index: 2,
    token: { id: 2, text: '</s>', logprob: -0.1, special: true },
    generated_text: `key ${secret}`,
    details: null,
  };
  const body =
    streamOf(
      shapes.find((shape) => shape.name === 'hugging face tgi token')!,
      [{ text: pieces[0]! }, { text: pieces[1]! }],
    ) + `data: ${JSON.stringify(last)}\n\n`;
  const run = await runTransform(policy, SSE, [body]);
  const events = sseData(run.output.toString()).map(
    (data) => JSON.parse(data) as { token: { text: string }; generated_text: string | null },
  );
  t.equal(events.map((event) => event.token.text).join(''), 'key [REDACTED:github]</s>');
  t.equal(events[2]!.generated_text, 'key [REDACTED:github]');
});

t.test('gemini text and thought parts', async (t) => {
  // The model text comes second in the first chunk and first in the next, so its position in
  // the parts list changes while it stays one text.
  const chunk = (parts: object[]) =>
    `data: ${JSON.stringify({ candidates: [{ content: { parts, role: 'model' } }] })}\n\n`;
  const body =
    chunk([{ text: 'thinking ghp_', thought: true }, { text: `token ${secret.slice(0, 18)}` }]) +
    chunk([{ text: `${secret.slice(18)} end` }]);
  const run = await runTransform(policy, SSE, [body]);
  const parts = sseData(run.output.toString()).flatMap(
    (data) =>
      (JSON.parse(data) as { candidates: { content: { parts: { text: string }[] } }[] })
        .candidates[0]!.content.parts,
  );
  t.same(
    parts.map((part) => part.text),
    ['thinking ghp_', 'token [REDACTED:github]', ' end'],
  );
});

t.test('identifier fields do not hold', async (t) => {
  // "assistant" is a word of the prompt, so as a text of its own an id with that value could
  // still start a prompt copy until the response ended, and every later event would wait.
  const prompted = policyOf({
    system_prompt: { text: 'You are a careful assistant for the fake gateway tests only.' },
  });
  const event = (data: object) => `data: ${JSON.stringify(data)}\n\n`;
  const bodies = [
    [
      event({ type: 'text-start', id: 'assistant' }),
      event({ type: 'text-delta', id: 'assistant', delta: 'Hello there. ' }),
      event({ type: 'text-delta', id: 'assistant', delta: 'More text follows here.' }),
    ],
    [
      event({ type: 'response.output_text.delta', item_id: 'assistant', delta: 'Hello there. ' }),
      event({ type: 'response.output_text.delta', item_id: 'assistant', delta: 'More text.' }),
    ],
  ];
  for (const body of bodies) {
    const run = await runTransform(prompted, SSE, body);
    t.equal(run.output.toString(), body.join(''), 'the stream is unchanged');
    t.ok(run.chunks.length > 1, 'events were sent before the end');
    t.notOk(run.chunks[0]!.toString().includes('More text'), 'before later events arrived');
  }
});

t.test('bare json strings keep escapes', async (t) => {
  const body = 'data: "caf\\u00e9 \\"quoted\\""\n\ndata: "line\\nbreak"\n\n';
  const run = await runTransform(policy, SSE, [body]);
  t.equal(run.output.toString(), body);
});
