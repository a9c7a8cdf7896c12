import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

import t from 'tap';
import type { Test } from 'tap';

import { CORPUS } from '../examples/rag-backend/corpus.js';
import { startRagBackend } from '../examples/rag-backend/server.js';
import type { RagBackend, RagBackendOptions } from '../examples/rag-backend/server.js';

const MIB = 1024 * 1024;

const collectionById = new Map(CORPUS.map((document) => [document.id, document.collection]));

interface ErrorBody {
  error: string;
  message: string;
}

interface AnswerBody {
  id: string;
  object: string;
  collection: string;
  answer: string;
  sources: { id: string; title: string; score: number }[];
}

interface UploadBody {
  documents: { id: string; filename: string; bytes: number; collection: string }[];
}

interface ChunkBody {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: {
    index: number;
    delta: { role?: string; content?: string };
    finish_reason: string | null;
  }[];
}

interface ReceivedEvent {
  data: string;
  receivedAt: number;
}

async function startBackend(test: Test, options: RagBackendOptions = {}): Promise<RagBackend> {
  const backend = await startRagBackend({ port: 0, ...options });
  test.teardown(() => backend.close());
  return backend;
}

function postJson(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
}

/**
 * Reads server-sent events until the stream ends, stamping each with its arrival time.
 * Stops early once `stopAfter` events have arrived and cancels the rest of the body.
 */
async function readEvents(response: Response, stopAfter = Infinity): Promise<ReceivedEvent[]> {
  if (response.body === null) {
    throw new Error('response has no body');
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const events: ReceivedEvent[] = [];
  let buffered = '';

  while (events.length < stopAfter) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    const receivedAt = performance.now();
    buffered += decoder.decode(value, { stream: true });

    let boundary = buffered.indexOf('\n\n');
    while (boundary !== -1) {
      const block = buffered.slice(0, boundary);
      buffered = buffered.slice(boundary + 2);
      for (const line of block.split('\n')) {
        if (line.startsWith('data: ')) {
          events.push({ data: line.slice('data: '.length), receivedAt });
        }
      }
      boundary = buffered.indexOf('\n\n');
    }
  }

  if (events.length >= stopAfter) {
    await reader.cancel();
  }
  return events;
}

function textFile(text: string, type = 'text/plain'): Blob {
  return new Blob([text], { type });
}

function upload(url: string, form: FormData): Promise<Response> {
  return fetch(`${url}/api/documents/upload`, { method: 'POST', body: form });
}

t.test('health returns ok', async (t) => {
  const backend = await startBackend(t);

  const response = await fetch(`${backend.url}/health`);

  t.equal(response.status, 200);
  t.match(response.headers.get('content-type'), /^application\/json/);
  t.same(await response.json(), { status: 'ok' });
});

t.test('start returns url and port', async (t) => {
  const backend = await startBackend(t);

  t.ok(backend.port > 0, 'port 0 is replaced by the bound port');
  t.equal(backend.url, `http://127.0.0.1:${backend.port}`);
});

t.test('query cites the requested collection', async (t) => {
  const backend = await startBackend(t);

  const response = await postJson(`${backend.url}/api/rag/query`, {
    query: 'How long are workflow run logs kept?',
    collection: 'policies',
  });

  t.equal(response.status, 200);
  const body = (await response.json()) as AnswerBody;
  t.match(body.id, /^rag-/);
  t.equal(body.object, 'rag.answer');
  t.equal(body.collection, 'policies');
  t.ok(body.sources.length >= 1, 'at least one source');
  t.ok(body.sources.length <= 3, 'at most three sources');
  t.equal(body.sources[0].id, 'policies-retention');
  t.equal(body.sources[0].title, 'Data retention policy');
  for (const source of body.sources) {
    t.equal(collectionById.get(source.id), 'policies', `${source.id} is in policies`);
    t.ok(source.score > 0, `${source.id} has a positive score`);
  }
  const scores = body.sources.map((source) => source.score);
  t.same(
    scores,
    [...scores].sort((left, right) => right - left),
    'sources are sorted by score',
  );
  t.match(body.answer, /thirty days/);
  t.match(body.answer, /\[Data retention policy\]/);
});

t.test('query defaults to docs collection', async (t) => {
  const backend = await startBackend(t);

  const response = await postJson(`${backend.url}/api/rag/query`, {
    query: 'install the CLI',
  });

  t.equal(response.status, 200);
  const body = (await response.json()) as AnswerBody;
  t.equal(body.collection, 'docs');
  t.equal(body.sources[0].id, 'docs-install');
});

t.test('query without matches has no sources', async (t) => {
  const backend = await startBackend(t);

  const response = await postJson(`${backend.url}/api/rag/query`, {
    query: 'zzqx',
    collection: 'faq',
  });

  t.equal(response.status, 200);
  const body = (await response.json()) as AnswerBody;
  t.same(body.sources, []);
  t.match(body.answer, /No document/);
});

t.test('query to unknown collection is 404', async (t) => {
  const backend = await startBackend(t);

  const response = await postJson(`${backend.url}/api/rag/query`, {
    query: 'pricing',
    collection: 'missing',
  });

  t.equal(response.status, 404);
  const body = (await response.json()) as ErrorBody;
  t.equal(body.error, 'collection_not_found');
  t.match(body.message, /"missing"/);
});

t.test('query with invalid JSON is 400', async (t) => {
  const backend = await startBackend(t);

  const response = await fetch(`${backend.url}/api/rag/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"query": ',
  });

  t.equal(response.status, 400);
  const body = (await response.json()) as ErrorBody;
  t.equal(body.error, 'invalid_json');
  t.type(body.message, 'string');
});

t.test('query with invalid fields is 400', async (t) => {
  const backend = await startBackend(t);
  const cases: { name: string; body: unknown }[] = [
    { name: 'missing query', body: { collection: 'docs' } },
    { name: 'empty query', body: { query: '   ' } },
    { name: 'query not a string', body: { query: 42 } },
    { name: 'query too long', body: { query: 'a'.repeat(2001) } },
    { name: 'collection not a string', body: { query: 'pricing', collection: 7 } },
    { name: 'stream not a boolean', body: { query: 'pricing', stream: 'yes' } },
    { name: 'body is an array', body: ['pricing'] },
    { name: 'body is null', body: null },
  ];

  for (const testCase of cases) {
    const response = await postJson(`${backend.url}/api/rag/query`, testCase.body);
    t.equal(response.status, 400, `${testCase.name}: status`);
    const body = (await response.json()) as ErrorBody;
    t.equal(body.error, 'invalid_request', `${testCase.name}: error code`);
  }
});

t.test('query with non-JSON type is 415', async (t) => {
  const backend = await startBackend(t);

  const response = await fetch(`${backend.url}/api/rag/query`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: '{"query":"pricing"}',
  });

  t.equal(response.status, 415);
  const body = (await response.json()) as ErrorBody;
  t.equal(body.error, 'unsupported_media_type');
});

t.test('query over body limit is 413', async (t) => {
  const backend = await startBackend(t);

  const response = await postJson(`${backend.url}/api/rag/query`, {
    query: 'pricing',
    padding: 'x'.repeat(65 * 1024),
  });

  t.equal(response.status, 413);
  const body = (await response.json()) as ErrorBody;
  t.equal(body.error, 'payload_too_large');
});

t.test('streamed query sends chat chunks', async (t) => {
  const backend = await startBackend(t, { streamDelayMs: 1 });
  const request = { query: 'rate limit retry after 429', collection: 'faq' };

  const plain = (await (
    await postJson(`${backend.url}/api/rag/query`, request)
  ).json()) as AnswerBody;
  const response = await postJson(`${backend.url}/api/rag/query`, { ...request, stream: true });

  t.equal(response.status, 200);
  t.match(response.headers.get('content-type'), /^text\/event-stream/);
  t.equal(response.headers.get('cache-control'), 'no-cache');

  const events = await readEvents(response);
  t.ok(events.length >= 4, 'role chunk, content chunks, stop chunk and [DONE]');
  t.equal(events[events.length - 1].data, '[DONE]', 'stream ends with [DONE]');

  const chunks = events.slice(0, -1).map((event) => JSON.parse(event.data) as ChunkBody);
  const first = chunks[0];
  const last = chunks[chunks.length - 1];
  const contentChunks = chunks.slice(1, -1);

  t.match(first.id, /^chatcmpl-/);
  t.same(first.choices[0].delta, { role: 'assistant' }, 'first chunk sets the role');
  t.equal(last.choices[0].finish_reason, 'stop', 'last chunk finishes with stop');
  t.same(last.choices[0].delta, {}, 'last chunk has an empty delta');
  for (const chunk of chunks) {
    t.equal(chunk.id, first.id, 'all chunks share one id');
    t.equal(chunk.object, 'chat.completion.chunk');
    t.equal(chunk.model, 'agentflow-rag-sample');
    t.type(chunk.created, 'number');
    t.equal(chunk.choices.length, 1);
    t.equal(chunk.choices[0].index, 0);
  }
  for (const chunk of contentChunks) {
    t.equal(chunk.choices[0].finish_reason, null, 'content chunks are not finished');
    t.ok((chunk.choices[0].delta.content ?? '').length > 0, 'content chunk has text');
  }

  const streamedText = contentChunks.map((chunk) => chunk.choices[0].delta.content).join('');
  t.equal(streamedText, plain.answer, 'streamed text equals the JSON answer');
});

t.test('streamed events arrive over time', async (t) => {
  const backend = await startBackend(t, { streamDelayMs: 25 });

  const response = await postJson(`${backend.url}/api/rag/query`, {
    query: 'how do workflows retry failed steps',
    stream: true,
  });
  const events = await readEvents(response);

  t.ok(events.length >= 4, 'stream has several events');
  for (let index = 1; index < events.length; index += 1) {
    t.ok(
      events[index].receivedAt >= events[index - 1].receivedAt,
      `event ${index} arrived no earlier than event ${index - 1}`,
    );
  }
  t.ok(
    events[0].receivedAt < events[events.length - 1].receivedAt,
    'first event arrived before the last',
  );
  const arrivalTimes = new Set(events.map((event) => event.receivedAt));
  t.ok(arrivalTimes.size >= 3, 'events arrived in at least three separate reads');
});

function countTimers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}

t.test('client abort mid-stream leaves server running', async (t) => {
  // A long delay keeps the server's next-event timer pending well past the abort.
  const backend = await startBackend(t, { streamDelayMs: 10_000 });
  const timersBefore = countTimers();

  const controller = new AbortController();
  const response = await postJson(
    `${backend.url}/api/rag/query`,
    { query: 'connectors sync interval', stream: true },
    controller.signal,
  );
  const firstEvents = await readEvents(response, 1);
  t.equal(firstEvents.length, 1, 'one event arrived before the abort');
  t.ok(countTimers() > timersBefore, 'the server has a pending stream timer');
  controller.abort();

  // The server detects the closed socket a little after the abort, so poll for a bounded time.
  let timersAfter = countTimers();
  for (let attempt = 0; attempt < 100 && timersAfter > timersBefore; attempt += 1) {
    await sleep(20);
    timersAfter = countTimers();
  }
  t.ok(timersAfter <= timersBefore, 'the stream timer was cleared');

  const health = await fetch(`${backend.url}/health`);
  t.equal(health.status, 200, 'server still answers health checks');
  const next = await postJson(`${backend.url}/api/rag/query`, {
    query: 'connectors sync interval',
  });
  t.equal(next.status, 200, 'server still answers queries');
  await next.body?.cancel();
});

t.test('uploaded file is found by query', async (t) => {
  const backend = await startBackend(t);
  const text = 'The zephyrine onboarding checklist asks every new hire for a badge photo.';
  const form = new FormData();
  form.append('collection', 'handbook');
  form.append('file', textFile(text), 'onboarding.txt');

  const response = await upload(backend.url, form);

  t.equal(response.status, 201);
  const body = (await response.json()) as UploadBody;
  t.equal(body.documents.length, 1);
  const [document] = body.documents;
  t.match(document.id, /^upload-/);
  t.equal(document.filename, 'onboarding.txt');
  t.equal(document.bytes, Buffer.byteLength(text));
  t.equal(document.collection, 'handbook');

  const queryResponse = await postJson(`${backend.url}/api/rag/query`, {
    query: 'zephyrine checklist',
    collection: 'handbook',
  });
  t.equal(queryResponse.status, 200);
  const answer = (await queryResponse.json()) as AnswerBody;
  t.equal(answer.sources[0].id, document.id);
  t.equal(answer.sources[0].title, 'onboarding.txt');
  t.match(answer.answer, /zephyrine onboarding checklist/);
});

t.test('upload defaults to uploads collection', async (t) => {
  const backend = await startBackend(t);
  const form = new FormData();
  form.append('first', textFile('Quarterly figures for the kestrel project.'), 'kestrel.txt');
  form.append('second', textFile('Notes on the heron migration plan.'), 'heron.md');

  const response = await upload(backend.url, form);

  t.equal(response.status, 201);
  const body = (await response.json()) as UploadBody;
  t.same(
    body.documents.map((document) => [document.filename, document.collection]),
    [
      ['kestrel.txt', 'uploads'],
      ['heron.md', 'uploads'],
    ],
  );

  const queryResponse = await postJson(`${backend.url}/api/rag/query`, {
    query: 'heron migration',
    collection: 'uploads',
  });
  const answer = (await queryResponse.json()) as AnswerBody;
  t.equal(answer.sources[0].title, 'heron.md');
});

t.test('upload of exactly 5 MiB is accepted', async (t) => {
  const backend = await startBackend(t);
  const form = new FormData();
  form.append('file', new Blob([Buffer.alloc(5 * MIB, 'a')]), 'limit.txt');

  const response = await upload(backend.url, form);

  t.equal(response.status, 201);
  const body = (await response.json()) as UploadBody;
  t.equal(body.documents[0].bytes, 5 * MIB);
});

t.test('oversized upload is 413', async (t) => {
  const backend = await startBackend(t);
  const form = new FormData();
  form.append('file', new Blob([Buffer.alloc(5 * MIB + 1, 'a')]), 'big.txt');

  const response = await upload(backend.url, form);

  t.equal(response.status, 413);
  const body = (await response.json()) as ErrorBody;
  t.equal(body.error, 'file_too_large');
  t.match(body.message, /big\.txt/);

  const health = await fetch(`${backend.url}/health`);
  t.equal(health.status, 200, 'server still answers after the rejected upload');
});

t.test('upload with oversized Content-Length is 413', async (t) => {
  const backend = await startBackend(t);
  // Only the headers are sent, so the server has to reject on the declared length alone.
  const request = httpRequest(`${backend.url}/api/documents/upload`, {
    method: 'POST',
    headers: {
      'content-type': 'multipart/form-data; boundary=x',
      'content-length': String(52 * MIB),
    },
  });
  request.flushHeaders();

  const [response] = (await once(request, 'response')) as [IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of response) {
    chunks.push(chunk as Buffer);
  }
  request.destroy();

  t.equal(response.statusCode, 413);
  t.equal(response.headers.connection, 'close');
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ErrorBody;
  t.equal(body.error, 'payload_too_large');
});

t.test('chunked upload over body limit is cut off', async (t) => {
  const backend = await startBackend(t);
  const request = httpRequest(`${backend.url}/api/documents/upload`, {
    method: 'POST',
    headers: { 'content-type': 'multipart/form-data; boundary=x' },
  });
  const outcome = new Promise<number | string>((resolve) => {
    request.once('response', (response: IncomingMessage) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });

  // 60 MiB is over the 51 MiB limit. Writing stops as soon as the server reacts.
  const chunk = Buffer.alloc(MIB, 'a');
  let settled = false;
  void outcome.then(() => {
    settled = true;
  });
  for (let written = 0; written < 60 && !settled && !request.destroyed; written += 1) {
    if (!request.write(chunk)) {
      await Promise.race([once(request, 'drain'), outcome]);
    }
  }
  if (!settled && !request.destroyed) {
    // A server without the limit gets here and rejects the unterminated multipart body instead.
    request.end();
  }
  const result = await outcome;
  request.destroy();

  // The server closes without draining, so a reset may overtake the 413 response.
  t.ok(
    result === 413 || result === 'ECONNRESET' || result === 'EPIPE',
    `server answered 413 or closed the connection, got ${result}`,
  );
  const health = await fetch(`${backend.url}/health`);
  t.equal(health.status, 200, 'server still answers after the cut-off upload');
});

t.test('upload of 11 files is 413', async (t) => {
  const backend = await startBackend(t);
  const form = new FormData();
  for (let index = 0; index < 11; index += 1) {
    form.append('file', textFile(`file number ${index}`), `file-${index}.txt`);
  }

  const response = await upload(backend.url, form);

  t.equal(response.status, 413);
  const body = (await response.json()) as ErrorBody;
  t.equal(body.error, 'too_many_files');
});

t.test('non-multipart upload is 415', async (t) => {
  const backend = await startBackend(t);

  const response = await postJson(`${backend.url}/api/documents/upload`, { text: 'hello' });

  t.equal(response.status, 415);
  const body = (await response.json()) as ErrorBody;
  t.equal(body.error, 'unsupported_media_type');
});

t.test('upload without file is 400', async (t) => {
  const backend = await startBackend(t);
  const form = new FormData();
  form.append('collection', 'handbook');

  const response = await upload(backend.url, form);

  t.equal(response.status, 400);
  const body = (await response.json()) as ErrorBody;
  t.equal(body.error, 'missing_file');
});

t.test('upload with invalid collection is 400', async (t) => {
  const backend = await startBackend(t);
  const form = new FormData();
  form.append('collection', '../etc');
  form.append('file', textFile('text'), 'a.txt');

  const response = await upload(backend.url, form);

  t.equal(response.status, 400);
  const body = (await response.json()) as ErrorBody;
  t.equal(body.error, 'invalid_collection');
});

t.test('multipart without boundary is 400', async (t) => {
  const backend = await startBackend(t);

  const response = await fetch(`${backend.url}/api/documents/upload`, {
    method: 'POST',
    headers: { 'content-type': 'multipart/form-data' },
    body: 'no boundary here',
  });

  t.equal(response.status, 400);
  const body = (await response.json()) as ErrorBody;
  t.equal(body.error, 'invalid_multipart');
});

t.test('unknown path is 404', async (t) => {
  const backend = await startBackend(t);

  const response = await fetch(`${backend.url}/api/missing`);

  t.equal(response.status, 404);
  const body = (await response.json()) as ErrorBody;
  t.equal(body.error, 'not_found');
});

t.test('wrong method is 405 with Allow', async (t) => {
  const backend = await startBackend(t);
  const cases = [
    { method: 'GET', path: '/api/rag/query', allow: 'POST' },
    { method: 'PUT', path: '/api/documents/upload', allow: 'POST' },
    { method: 'POST', path: '/health', allow: 'GET, HEAD' },
  ];

  for (const testCase of cases) {
    const response = await fetch(`${backend.url}${testCase.path}`, { method: testCase.method });
    const label = `${testCase.method} ${testCase.path}`;
    t.equal(response.status, 405, `${label}: status`);
    t.equal(response.headers.get('allow'), testCase.allow, `${label}: Allow header`);
    const body = (await response.json()) as ErrorBody;
    t.equal(body.error, 'method_not_allowed', `${label}: error code`);
  }
});

t.test('standalone process serves and exits on SIGTERM', async (t) => {
  // The child inherits the TypeScript loader that tap runs this file with.
  const child = spawn(
    process.execPath,
    [...process.execArgv, 'examples/rag-backend/server.ts', '--port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
  });
  const exited = once(child, 'exit');

  const lines = createInterface({ input: child.stdout });
  const [firstLine] = (await once(lines, 'line')) as [string];
  const started = JSON.parse(firstLine) as { msg: string; url: string };
  t.equal(started.msg, 'rag backend listening');
  t.match(started.url, /^http:\/\/127\.0\.0\.1:\d+$/);

  const health = await fetch(`${started.url}/health`);
  t.equal(health.status, 200);
  await health.body?.cancel();

  child.kill('SIGTERM');
  const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  t.equal(signal, null, 'process was not killed by the signal');
  t.equal(code, 0, 'process exited with code 0');
});
