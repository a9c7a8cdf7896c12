import type { IncomingMessage, ServerResponse } from 'node:http';
import t, { type Test } from 'tap';
import { accessLine, openRawConnection, parseHeaderLines, startProxy } from '../helpers/e2e.js';
import type { TestGateway } from '../helpers/gateway.js';

// A made-up token of the documented GitHub shape: "ghp_" and 36 letters and digits.
const GITHUB_TOKEN = 'ghp_R7kLm2Qx9VtB4nWp8ZcY3sHd6JfA1gE5uK0o';
const CANARY = 'cnry-5d2e8b41a9c7';

const POLICY = `version: 1
routes:
  - name: secrets-block
    match: { path_prefix: /secrets/ }
    auth: none
    response:
      detectors: { secrets: block }
  - name: guarded
    match: { path_prefix: /guarded/ }
    auth: none
    response:
      canaries: { values: ['${CANARY}'] }
`;

/** An upstream response: a Content-Type and the body chunks, one per event-loop turn. */
interface Answer {
  contentType: string;
  chunks: readonly string[];
  encoding?: string;
  /** A pause between chunks, so that the gateway sends each chunk before the next arrives. */
  pauseMs?: number;
}

/** The upstream's responses, by the last segment of the request path. */
const ANSWERS: Record<string, Answer> = {};

function writeAnswer(req: IncomingMessage, res: ServerResponse): void {
  const answer = ANSWERS[(req.url ?? '').split('/').at(-1) ?? ''];
  if (answer === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('no such answer');
    return;
  }
  const headers: Record<string, string> = { 'content-type': answer.contentType };
  if (answer.encoding !== undefined) headers['content-encoding'] = answer.encoding;
  res.writeHead(200, headers);
  let index = 0;
  const writeNext = (): void => {
    if (res.destroyed) return;
    if (index === answer.chunks.length) {
      res.end();
      return;
    }
    res.write(answer.chunks[index]!);
    index += 1;
    if (answer.pauseMs === undefined) setImmediate(writeNext);
    else setTimeout(writeNext, answer.pauseMs);
  };
  writeNext();
}

/** Registers a response and returns the path that requests it on the route under `prefix`. */
function pathFor(prefix: string, name: string, answer: Answer): string {
  ANSWERS[name] = answer;
  return `${prefix}/${name}`;
}

async function setUp(t: Test): Promise<TestGateway> {
  const { gw } = await startProxy(t, { handler: writeAnswer, policy: POLICY });
  return gw;
}

/** The parts of a raw HTTP/1.1 exchange that the tests read. */
interface RawResponse {
  raw: Buffer;
  status: number | undefined;
  headers: Map<string, string[]>;
  body: string;
}

/** Sends a GET over a raw connection and returns everything the gateway wrote. */
async function rawGet(gw: TestGateway, path: string): Promise<RawResponse> {
  const connection = openRawConnection(gw.url);
  connection.socket.write(
    `GET ${path} HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\n\r\n`,
  );
  await connection.response;
  const raw = connection.receivedBytes();
  const text = raw.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const head = split === -1 ? text : text.slice(0, split);
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1];
  return {
    raw,
    status: status === undefined ? undefined : Number(status),
    headers: parseHeaderLines(head),
    body: split === -1 ? '' : text.slice(split + 4),
  };
}

/** Returns true when `secret` is in `raw` as Latin-1 or UTF-16LE bytes. */
function contains(raw: Buffer, secret: string): boolean {
  return ['latin1', 'utf16le'].some((encoding) =>
    raw.includes(Buffer.from(secret, encoding as BufferEncoding)),
  );
}

interface SecurityEventLine {
  type: string;
  severity: string;
  request_id: string;
  action: string;
  rules?: string[];
  detail: { reason?: string };
}

function securityEvents(gw: TestGateway, requestId: string): SecurityEventLine[] {
  return gw.logs
    .filter((line) => line['msg'] === 'security event')
    .map((line) => line['event'] as SecurityEventLine)
    .filter((event) => event.request_id === requestId);
}

/**
 * Checks that `response` is the 502 `response_blocked` problem, with the request id in both the
 * header and the body, and returns the request id.
 */
function assertProblem(t: Test, response: RawResponse, label: string): string {
  t.equal(response.status, 502, `${label}: 502`);
  t.same(response.headers.get('content-type'), ['application/problem+json'], label);
  const requestId = response.headers.get('x-request-id')?.[0] ?? '';
  t.not(requestId, '', `${label}: X-Request-Id`);
  let body: { code?: string; status?: number; request_id?: string } = {};
  try {
    body = JSON.parse(response.body) as typeof body;
  } catch {
    t.fail(`${label}: the body is not JSON: ${JSON.stringify(response.body.slice(0, 200))}`);
  }
  t.equal(body.code, 'response_blocked', `${label}: code`);
  t.equal(body.status, 502, `${label}: status in the body`);
  t.equal(body.request_id, requestId, `${label}: request_id`);
  return requestId;
}

const UNSUPPORTED_CHARSETS = [
  'text/event-stream; charset=utf-16',
  'text/event-stream; charset=UTF-16LE',
  'text/event-stream; charset=shift_jis',
  'application/x-ndjson; charset=gbk',
  'application/x-ndjson; charset=big5',
  'text/plain; charset=utf-32',
  'text/plain; charset="x-no-such-charset"',
  'application/json; charset=utf-16',
];

t.test('a body in an unsupported charset is answered with 502', async (t) => {
  const gw = await setUp(t);
  for (const [index, contentType] of UNSUPPORTED_CHARSETS.entries()) {
    const path = pathFor('/secrets', `charset-${index}`, {
      contentType,
      chunks: [`data: token ${GITHUB_TOKEN}\n\n`, `data: second ${GITHUB_TOKEN}\n\n`],
    });
    const response = await rawGet(gw, path);
    t.notOk(contains(response.raw, GITHUB_TOKEN), `${contentType}: no token reached the client`);
    t.notOk(response.raw.includes('data: '), `${contentType}: no byte of the body was sent`);
    const requestId = assertProblem(t, response, contentType);

    const line = await accessLine(gw, requestId);
    t.equal(line['status'], 502, `${contentType}: logged status`);
    t.equal(line['outcome'], 'response_blocked', `${contentType}: logged outcome`);
    t.equal(line['code'], 'response_blocked');
    t.equal(line['reason'], 'unsupported_charset');
    const events = securityEvents(gw, requestId);
    t.same(
      events.map((event) => [event.type, event.action, event.severity, event.detail.reason]),
      [['response_unscanned', 'blocked', 'low', 'unsupported_charset']],
      `${contentType}: one event, which says nothing unscanned was sent`,
    );
  }
});

t.test('an unsupported encoding is answered with 502 for streamed types too', async (t) => {
  const gw = await setUp(t);
  for (const [index, contentType] of ['text/plain', 'text/event-stream'].entries()) {
    const path = pathFor('/secrets', `zstd-${index}`, {
      contentType,
      encoding: 'zstd',
      chunks: [`token ${GITHUB_TOKEN}\n\n`],
    });
    const response = await rawGet(gw, path);
    t.notOk(contains(response.raw, GITHUB_TOKEN), `${contentType}: no token reached the client`);
    const requestId = assertProblem(t, response, contentType);
    const line = await accessLine(gw, requestId);
    t.equal(line['status'], 502);
    t.equal(line['outcome'], 'response_blocked');
    t.equal(line['reason'], 'unsupported_encoding');
  }
});

t.test('a block before the first byte of a text body is answered with 502', async (t) => {
  const gw = await setUp(t);
  const cases: [string, Answer][] = [
    ['text', { contentType: 'text/plain', chunks: [`${CANARY} at start`] }],
    [
      'ndjson',
      {
        contentType: 'application/x-ndjson',
        chunks: [`{"response":"${CANARY}"}\n`, '{"done":true}\n'],
      },
    ],
    ['markdown', { contentType: 'text/markdown', chunks: [`# ${CANARY}\n`] }],
  ];
  for (const [name, answer] of cases) {
    const response = await rawGet(gw, pathFor('/guarded', `canary-${name}`, answer));
    t.notOk(contains(response.raw, CANARY), `${name}: the canary never reached the client`);
    const requestId = assertProblem(t, response, name);

    const line = await accessLine(gw, requestId);
    t.equal(line['status'], 502, `${name}: logged status`);
    t.equal(line['outcome'], 'response_blocked', `${name}: logged outcome`);
    t.equal(line['code'], 'response_blocked');
    t.equal(line['reason'], 'detector canary');
    const events = securityEvents(gw, requestId);
    t.same(
      events.map((event) => [event.type, event.action, event.rules]),
      [['response_leak', 'blocked', ['canary']]],
      `${name}: one detection event`,
    );
  }
});

t.test('a block after a text body has started cuts it and says so', async (t) => {
  const gw = await setUp(t);
  const path = pathFor('/guarded', 'canary-mid-text', {
    contentType: 'text/plain',
    chunks: ['Nothing secret here.\n', `But then ${CANARY}.\n`, 'And the rest.\n'],
    pauseMs: 100,
  });
  const response = await rawGet(gw, path);
  t.equal(response.status, 200, 'the status went out with the first text');
  t.match(response.body, /Nothing secret here\.\n/, 'the text before the canary arrived');
  t.notOk(contains(response.raw, CANARY), 'the canary never reached the client');
  t.notOk(response.raw.includes('And the rest'), 'nothing after the canary was sent');
  t.notOk(response.body.endsWith('0\r\n\r\n'), 'the body never ends, so the client sees a cut');
  const requestId = response.headers.get('x-request-id')?.[0] ?? '';
  const line = await accessLine(gw, requestId);
  t.equal(line['status'], 200, 'logged with the status that was sent, not 499');
  t.equal(line['outcome'], 'response_blocked', 'logged as cut by the gateway, not aborted');
  t.equal(line['code'], 'response_blocked');
  t.equal(line['reason'], 'detector canary');
});

t.test('a block right after the first text is never an empty reply', async (t) => {
  const gw = await setUp(t);
  // Without a pause the two chunks often reach the gateway in one read, so the block comes in
  // the same turn as the first text, before Node has sent anything.
  const path = pathFor('/guarded', 'canary-same-turn', {
    contentType: 'text/plain; charset=utf-8',
    chunks: ['The word is ', `${CANARY}.`],
  });
  for (let attempt = 1; attempt <= 5; attempt++) {
    const label = `attempt ${attempt}`;
    const response = await rawGet(gw, path);
    t.notOk(contains(response.raw, CANARY), `${label}: the canary never reached the client`);
    let requestId: string;
    if (response.status === 502) {
      requestId = assertProblem(t, response, label);
    } else {
      t.equal(response.status, 200, `${label}: a status line arrived`);
      t.match(response.body, /The word is /, `${label}: the text before the canary arrived`);
      t.notOk(response.body.endsWith('0\r\n\r\n'), `${label}: the body never ends`);
      requestId = response.headers.get('x-request-id')?.[0] ?? '';
    }
    const line = await accessLine(gw, requestId);
    t.equal(line['status'], response.status, `${label}: logged with the status sent`);
    t.equal(line['outcome'], 'response_blocked', `${label}: logged outcome`);
  }
});

t.test('a block in an event stream ends it with an error event', async (t) => {
  const gw = await setUp(t);
  const path = pathFor('/guarded', 'canary-sse', {
    contentType: 'text/event-stream',
    chunks: [`data: {"choices":[{"index":0,"delta":{"content":"${CANARY}"}}]}\n\n`],
  });
  const response = await rawGet(gw, path);
  t.equal(response.status, 200, 'event stream headers go out at once');
  t.notOk(contains(response.raw, CANARY), 'the canary never reached the client');
  t.match(response.body, /event: error\r?\ndata: \{"error":\{"type":"response_blocked"/);
  t.ok(response.body.endsWith('0\r\n\r\n'), 'the stream ends normally after the error event');
  const requestId = response.headers.get('x-request-id')?.[0] ?? '';
  const line = await accessLine(gw, requestId);
  t.equal(line['status'], 200);
  t.equal(line['outcome'], 'response_blocked');
  t.equal(line['reason'], 'detector canary');
});
