import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { PLANTED_CARD, PLANTED_TOKEN, SYSTEM_PROMPT } from '../../examples/rag-backend/leak.js';
import { startRagBackend, type RagBackend } from '../../examples/rag-backend/server.js';
import { Gateway } from '../../src/server/gateway.js';
import { AUDIENCE, ISSUER, generateSigningKey, signJwt } from '../auth/helpers/tokens.js';
import { waitFor } from '../helpers/e2e.js';

// The shipped policy, with one change: its request schema also admits the backend's switch for
// planted test leaks, which the shipped schema rejects like any unknown field.
const SHIPPED_ROUTES = fileURLToPath(new URL('../../policies/routes.yaml', import.meta.url));
const STREAM_FIELD = '          stream: { type: boolean }\n';
const LEAK_FIELD = [
  '          leak:',
  '            anyOf:',
  '              - { type: string, enum: [secret, card, system_prompt] }',
  '              - type: array',
  '                minItems: 1',
  '                items: { type: string, enum: [secret, card, system_prompt] }',
  '',
].join('\n');

/** Writes the shipped routes with the leak switch admitted into `dir`, and returns `dir`. */
async function demoPolicies(dir: string): Promise<string> {
  const shipped = await readFile(SHIPPED_ROUTES, 'utf8');
  if (!shipped.includes(STREAM_FIELD)) throw new Error('the shipped rag-query schema changed');
  await mkdir(dir);
  await writeFile(
    path.join(dir, 'routes.yaml'),
    shipped.replace(STREAM_FIELD, STREAM_FIELD + LEAK_FIELD),
  );
  return dir;
}
const QUERY_PATH = '/api/rag/query';
const QUESTION = 'What is AgentFlow?';
const PROMPT_WINDOW_WORDS = 8;

interface Demo {
  backend: RagBackend;
  gatewayUrl: string;
  token: string;
  logs: Record<string, unknown>[];
}

/**
 * Starts the sample backend with its leak test switch on, and a gateway in front of it with
 * the shipped routes (plus the switch) and an issuer whose key the test holds.
 */
async function startDemo(t: Test, streamDelayMs = 0): Promise<Demo> {
  const backend = await startRagBackend({ port: 0, streamDelayMs, leakTestData: true });
  const dir = await mkdtemp(path.join(tmpdir(), 'agentflow-leak-demo-'));
  const key = await generateSigningKey('EdDSA', 'demo-key');
  const keyFile = path.join(dir, 'public-key.jwk');
  await writeFile(keyFile, JSON.stringify(key.publicJwk));
  const configFile = path.join(dir, 'gateway.yaml');
  await writeFile(
    configFile,
    [
      'listeners:',
      '  public: { host: 127.0.0.1, port: 0 }',
      '  admin: { host: 127.0.0.1, port: 0 }',
      'upstream:',
      `  url: ${backend.url}`,
      '  health_path: /health',
      'auth:',
      '  issuers:',
      '    - name: demo-test',
      `      issuer: '${ISSUER}'`,
      `      audiences: ['${AUDIENCE}']`,
      '      algorithms: [EdDSA]',
      `      keys: [{ file: '${keyFile}' }]`,
      `policies: { dir: '${await demoPolicies(path.join(dir, 'policies'))}' }`,
      '',
    ].join('\n'),
  );
  const logs: Record<string, unknown>[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  const gateway = await Gateway.start({ configFile, env: {}, logDestination });
  t.teardown(async () => {
    await gateway.stop();
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  });
  const now = Math.floor(Date.now() / 1000);
  const token = await signJwt(key, {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'demo-user',
    roles: ['user'],
    iat: now,
    exp: now + 600,
  });
  return { backend, gatewayUrl: gateway.publicUrl, token, logs };
}

function query(url: string, body: object, token?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  return request(`${url}${QUERY_PATH}`, { method: 'POST', headers, body: JSON.stringify(body) });
}

/** Lower-case words, as the system prompt detector compares them. */
function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Returns the first run of 8 consecutive system prompt words found in `text`, if any. */
function promptWindowIn(text: string): string | undefined {
  const prompt = words(SYSTEM_PROMPT);
  const found = ` ${words(text).join(' ')} `;
  for (let start = 0; start + PROMPT_WINDOW_WORDS <= prompt.length; start += 1) {
    const window = prompt.slice(start, start + PROMPT_WINDOW_WORDS).join(' ');
    if (found.includes(` ${window} `)) return window;
  }
  return undefined;
}

/** Checks that none of the planted data is in `text`, whatever spacing the card has. */
function assertNothingPlanted(t: Test, text: string, what: string): void {
  t.notOk(text.includes(PLANTED_TOKEN), `${what}: no token`);
  const cardDigits = PLANTED_CARD.replace(/\D/g, '');
  t.notOk(text.replace(/\D/g, '').includes(cardDigits), `${what}: no card number`);
  t.equal(promptWindowIn(text), undefined, `${what}: no run of 8 system prompt words`);
}

interface ChunkEvent {
  choices: { delta: { content?: string } }[];
}

/** Splits an event stream into its `data` values. */
function eventData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((event) => event.trim() !== '')
    .map((event) =>
      event
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice('data: '.length))
        .join('\n'),
    );
}

/** Joins the `delta.content` of every chat completion chunk in an event stream. */
function streamedContent(text: string): string {
  return eventData(text)
    .filter((data) => data.startsWith('{') && !data.startsWith('{"error"'))
    .map((data) => (JSON.parse(data) as ChunkEvent).choices[0]?.delta.content ?? '')
    .join('');
}

const ALL_LEAKS = ['secret', 'card', 'system_prompt'];

t.test('backend leaks when reached directly', async (t) => {
  const { backend } = await startDemo(t);
  const response = await query(backend.url, { query: QUESTION, leak: ALL_LEAKS });
  const body = (await response.body.json()) as { answer: string };
  t.equal(response.statusCode, 200);
  t.ok(body.answer.includes(PLANTED_TOKEN), 'the token is in the answer');
  t.ok(body.answer.includes(PLANTED_CARD), 'the card number is in the answer');
  t.ok(body.answer.includes(SYSTEM_PROMPT), 'the system prompt is in the answer');
});

t.test('JSON leaks do not reach the client', async (t) => {
  const { gatewayUrl, token, logs } = await startDemo(t);

  const redacted = await query(gatewayUrl, { query: QUESTION, leak: ['secret', 'card'] }, token);
  const redactedText = await redacted.body.text();
  t.equal(redacted.statusCode, 200);
  const answer = (JSON.parse(redactedText) as { answer: string }).answer;
  t.match(answer, /The deploy token is \[REDACTED:github\]\./);
  t.match(answer, /The card on file is \[REDACTED:credit_card\]\./);
  assertNothingPlanted(t, redactedText, 'redacted answer');

  const blocked = await query(gatewayUrl, { query: QUESTION, leak: ALL_LEAKS }, token);
  const blockedText = await blocked.body.text();
  t.equal(blocked.statusCode, 502, 'an answer with the system prompt is withheld');
  t.equal(blocked.headers['content-type'], 'application/problem+json');
  const problem = JSON.parse(blockedText) as { code: string; request_id: string };
  t.equal(problem.code, 'response_blocked');
  assertNothingPlanted(t, blockedText, 'withheld answer');
  const line = await waitFor(
    () =>
      logs.find(
        (entry) =>
          entry['msg'] === 'request completed' && entry['request_id'] === problem.request_id,
      ),
    'the access log line of the withheld answer',
  );
  t.equal(line['reason'], 'detector system-prompt');
  t.notOk(JSON.stringify(logs).includes(PLANTED_TOKEN), 'the token is never logged');
});

t.test('streamed leaks do not reach the client', async (t) => {
  const { gatewayUrl, token } = await startDemo(t);
  const response = await query(
    gatewayUrl,
    { query: QUESTION, stream: true, leak: ALL_LEAKS },
    token,
  );
  const text = await response.body.text();
  t.equal(response.statusCode, 200, 'the stream had started');
  t.equal(response.headers['content-type'], 'text/event-stream');
  const content = streamedContent(text);
  t.match(content, /The deploy token is \[REDACTED:github\]\./, 'the token was redacted');
  t.match(content, /The card on file is \[REDACTED:credit_card\]\./, 'the card was redacted');
  assertNothingPlanted(t, text, 'stream');
  t.notOk(text.includes('[DONE]'), 'the stream was stopped before its end');
  t.match(text, /event: error\ndata: [^\n]+\n\n$/, 'the stream ends with an error event');
  const last = eventData(text).at(-1) ?? '';
  t.match(last, /^\{"error":\{"type":"response_blocked","code":"response_blocked",/);
});

t.test('ordinary answer streams through', async (t) => {
  const { backend, gatewayUrl, token } = await startDemo(t);
  const direct = await query(backend.url, { query: QUESTION, stream: true });
  const directText = await direct.body.text();
  const proxied = await query(gatewayUrl, { query: QUESTION, stream: true }, token);
  const proxiedText = await proxied.body.text();
  t.equal(proxied.statusCode, 200);
  t.equal(proxied.headers['content-type'], 'text/event-stream');
  const directEvents = eventData(directText);
  const proxiedEvents = eventData(proxiedText);
  t.equal(proxiedEvents.length, directEvents.length, 'every event arrives');
  t.ok(proxiedEvents.length > 4, 'the answer came as a stream of chunks');
  t.equal(proxiedEvents.at(-1), '[DONE]');
  t.equal(streamedContent(proxiedText), streamedContent(directText), 'the answer is unchanged');
  t.notOk(proxiedText.includes('[REDACTED:'), 'nothing was redacted');
});

t.test('first event arrives before the answer ends', async (t) => {
  // The backend waits a minute before its second event, so the first one can only reach the
  // client if the gateway passes it on while the answer is still being written.
  const { gatewayUrl, token } = await startDemo(t, 60_000);
  const response = await query(gatewayUrl, { query: QUESTION, stream: true }, token);
  t.equal(response.statusCode, 200);
  let received = '';
  for await (const chunk of response.body) {
    received += (chunk as Buffer).toString('utf8');
    if (received.includes('\n\n')) break;
  }
  response.body.destroy();
  const first = JSON.parse(eventData(received)[0]!) as {
    choices: { delta: { role?: string } }[];
  };
  t.equal(first.choices[0]?.delta.role, 'assistant', 'the first chunk arrived on its own');
});
