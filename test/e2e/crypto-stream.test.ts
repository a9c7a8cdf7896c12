import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import t, { type Test } from 'tap';
import { request } from 'undici';
import {
  FULL_STREAM_SEGMENT_BYTES,
  STREAM_HEADER_BYTES,
  streamLength,
} from '../../src/crypto/stream-format.js';
import { memoryOf, resetPeakMemory, startGatewayProcess } from '../helpers/gateway-process.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream } from '../helpers/upstream.js';

const TOKEN = 'stream-caller-'.repeat(4);
const MIB = 1024 * 1024;
const TEN_MIB = 10 * MIB;
const CONTEXT = 'file:user_42';
const MARKER = 'PLAINTEXT-MARKER-';

function cryptoConfig(dir: string): string {
  return `crypto:
  enabled: true
  keys: [{ version: 1, file: ${path.join(dir, 'v1.key')} }]
  callers:
    - { name: backend, token_file: ${path.join(dir, 'backend.token')}, context_prefixes: ['file:'] }
`;
}

async function cryptoDir(t: Test): Promise<string> {
  const dir = t.testdir({ 'backend.token': TOKEN });
  await writeFile(path.join(dir, 'v1.key'), randomBytes(32).toString('base64'));
  return dir;
}

async function cryptoGateway(t: Test): Promise<TestGateway> {
  const dir = await cryptoDir(t);
  const upstream = await startUpstream();
  const gw = await startGateway({ upstreamUrl: upstream.url, config: cryptoConfig(dir) });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  return gw;
}

/** Yields `bytes` in chunks of `size`, so the client never sends one large write. */
function* chunksOf(bytes: Buffer, size: number): Generator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += size) {
    yield bytes.subarray(offset, offset + size);
  }
}

interface StreamReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * Sends a streaming request. With `declareLength`, the body has a Content-Length; without, it
 * is chunked.
 */
async function stream(
  adminUrl: string,
  operation: 'encrypt' | 'decrypt',
  body: Buffer,
  options: { query?: string; declareLength?: boolean } = {},
): Promise<StreamReply> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${TOKEN}`,
    'content-type': 'application/octet-stream',
  };
  if (options.declareLength ?? true) headers['content-length'] = String(body.length);
  const query = options.query ?? `context=${CONTEXT}&aad=doc%3A17`;
  const response = await request(`${adminUrl}/v1/crypto/${operation}?${query}`, {
    method: 'POST',
    headers,
    body: Readable.from(chunksOf(body, 64 * 1024)),
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    body: Buffer.from(await response.body.arrayBuffer()),
  };
}

t.test('streamed round trip', async (t) => {
  const gw = await cryptoGateway(t);
  const plaintext = randomBytes(TEN_MIB);
  for (const declareLength of [true, false]) {
    const framing = declareLength ? 'content-length' : 'chunked';
    const sealed = await stream(gw.adminUrl, 'encrypt', plaintext, { declareLength });
    t.equal(sealed.status, 200, `${framing}: encrypt status`);
    t.equal(sealed.headers['content-type'], 'application/octet-stream');
    t.equal(sealed.headers['x-crypto-key-version'], '1', `${framing}: key version header`);
    t.equal(sealed.body.length, streamLength(TEN_MIB), `${framing}: stream length`);
    if (declareLength) {
      t.equal(sealed.headers['content-length'], String(streamLength(TEN_MIB)), 'length declared');
    }
    const opened = await stream(gw.adminUrl, 'decrypt', sealed.body, { declareLength });
    t.equal(opened.status, 200, `${framing}: decrypt status`);
    t.ok(opened.body.equals(plaintext), `${framing}: the plaintext comes back`);
    if (declareLength) t.equal(opened.headers['content-length'], String(TEN_MIB));
  }
  const empty = await stream(gw.adminUrl, 'encrypt', Buffer.alloc(0));
  t.equal(empty.body.length, streamLength(0), 'an empty plaintext gives header and one segment');
  const back = await stream(gw.adminUrl, 'decrypt', empty.body);
  t.equal(back.body.length, 0, 'and decrypts to nothing');
});

t.test('stream rejections before the response', async (t) => {
  const gw = await cryptoGateway(t);
  const plaintext = Buffer.from(`${MARKER}small`);
  const sealed = (await stream(gw.adminUrl, 'encrypt', plaintext)).body;
  const tampered = Buffer.from(sealed);
  tampered[STREAM_HEADER_BYTES - 1]! ^= 1;
  const cut = randomBytes(FULL_STREAM_SEGMENT_BYTES);
  const truncatedSource = (await stream(gw.adminUrl, 'encrypt', randomBytes(70_000))).body;
  const truncated = truncatedSource.subarray(0, STREAM_HEADER_BYTES + FULL_STREAM_SEGMENT_BYTES);
  const textCiphertext = Buffer.from('agfw:v1:1:AAAA');
  const cases: [string, 'encrypt' | 'decrypt', Buffer, string | undefined, number, string][] = [
    ['no context', 'encrypt', plaintext, 'aad=x', 400, 'crypto_invalid_request'],
    [
      'unknown parameter',
      'encrypt',
      plaintext,
      `context=${CONTEXT}&x=1`,
      400,
      'crypto_invalid_request',
    ],
    [
      'context twice',
      'encrypt',
      plaintext,
      `context=${CONTEXT}&context=file:b`,
      400,
      'crypto_invalid_request',
    ],
    ['forbidden context', 'encrypt', plaintext, 'context=note:1', 403, 'crypto_context_forbidden'],
    ['invalid context', 'encrypt', plaintext, 'context=file:a%20b', 400, 'crypto_invalid_request'],
    [
      'wrong context',
      'decrypt',
      sealed,
      'context=file:user_43&aad=doc%3A17',
      400,
      'crypto_context_mismatch',
    ],
    ['wrong aad', 'decrypt', sealed, `context=${CONTEXT}&aad=doc%3A18`, 400, 'crypto_aad_mismatch'],
    ['tampered header', 'decrypt', tampered, undefined, 400, 'crypto_ciphertext_tampered'],
    ['text ciphertext', 'decrypt', textCiphertext, undefined, 400, 'crypto_ciphertext_malformed'],
    ['random bytes', 'decrypt', cut, undefined, 400, 'crypto_ciphertext_malformed'],
    ['cut after segment 0', 'decrypt', truncated, undefined, 400, 'crypto_ciphertext_truncated'],
  ];
  for (const [name, operation, body, query, status, code] of cases) {
    const reply = await stream(gw.adminUrl, operation, body, query === undefined ? {} : { query });
    const text = reply.body.toString('utf8');
    t.equal(reply.status, status, `${name}: status`);
    t.match(reply.headers['content-type'], 'application/problem+json', `${name}: problem`);
    t.equal(JSON.parse(text).code, code, `${name}: code`);
    t.notMatch(text, MARKER, `${name}: no plaintext`);
  }
  const tooLarge = await request(`${gw.adminUrl}/v1/crypto/encrypt?context=${CONTEXT}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/octet-stream',
      'content-length': String(TEN_MIB + 1),
    },
    body: Readable.from(chunksOf(Buffer.alloc(TEN_MIB + 1), 64 * 1024)),
  });
  t.equal(tooLarge.statusCode, 413, 'a declared length over the maximum');
  t.equal(((await tooLarge.body.json()) as { code: string }).code, 'crypto_payload_too_large');
  const unauthorized = await request(`${gw.adminUrl}/v1/crypto/encrypt?context=${CONTEXT}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: 'x',
  });
  t.equal(unauthorized.statusCode, 401, 'the caller token is required');
  await unauthorized.body.dump();
  const batch = await request(`${gw.adminUrl}/v1/crypto/encrypt/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/octet-stream' },
    body: 'x',
  });
  t.equal(batch.statusCode, 415, 'batches are JSON only');
  await batch.body.dump();
});

t.test('failures mid-stream cut the connection', async (t) => {
  const gw = await cryptoGateway(t);
  const source = (await stream(gw.adminUrl, 'encrypt', randomBytes(3 * 65_536 + 5))).body;
  // Cut after two full segments: the first plaintext segment is already on its way when the
  // gateway finds that the second one is not the last.
  const cut = source.subarray(0, STREAM_HEADER_BYTES + 2 * FULL_STREAM_SEGMENT_BYTES);
  for (const declareLength of [true, false]) {
    const failed = await stream(gw.adminUrl, 'decrypt', cut, { declareLength }).then(
      (reply) => reply,
      (error: unknown) => error as Error,
    );
    t.ok(
      failed instanceof Error,
      `${declareLength ? 'content-length' : 'chunked'}: the client gets an error`,
    );
  }
  const tooLong = await stream(gw.adminUrl, 'encrypt', Buffer.alloc(TEN_MIB + 65_536), {
    declareLength: false,
  }).then(
    (reply) => reply,
    (error: unknown) => error as Error,
  );
  t.ok(tooLong instanceof Error, 'a chunked plaintext over the maximum cuts the connection');
  const metrics = await (await request(`${gw.adminUrl}/metrics`)).body.text();
  t.match(
    metrics,
    /crypto_failures_total\{operation="decrypt",code="crypto_ciphertext_truncated"\} 2/,
    'the cut streams are counted',
  );
  t.match(
    metrics,
    /crypto_failures_total\{operation="encrypt",code="crypto_payload_too_large"\} 1/,
  );
});

/**
 * Peak RSS growth of a gateway process during one 10 MiB encryption and decryption in each form.
 * As in large-bodies.test.ts, the process collects garbage every 5 ms and V8 keeps its baseline
 * WebAssembly compiler, so that what grows is what requests hold, not garbage not yet collected.
 */
t.test('streaming keeps memory bounded', async (t) => {
  const dir = await cryptoDir(t);
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const gateway = await startGatewayProcess(t, {
    upstreamUrl: upstream.url,
    policy: 'version: 1\nroutes:\n  - name: a\n    match: { path: /a }\n    auth: none\n',
    config: cryptoConfig(dir),
    nodeOptions: [
      '--liftoff-only',
      '--expose-gc',
      '--import',
      'data:text/javascript,setInterval(globalThis.gc,5).unref()',
    ],
  });
  const plaintext = randomBytes(TEN_MIB);
  const growth = async (exchange: () => Promise<void>): Promise<number> => {
    await resetPeakMemory(gateway.pid);
    const before = await memoryOf(gateway.pid);
    await exchange();
    return (await memoryOf(gateway.pid)).peak - before.rss;
  };
  // A smaller exchange first runs each code path once.
  const warmup = await stream(gateway.adminUrl, 'encrypt', plaintext.subarray(0, MIB));
  await stream(gateway.adminUrl, 'decrypt', warmup.body);
  const streamed = await growth(async () => {
    const sealed = (await stream(gateway.adminUrl, 'encrypt', plaintext)).body;
    const opened = await stream(gateway.adminUrl, 'decrypt', sealed);
    t.ok(opened.body.equals(plaintext), 'the streamed round trip works');
  });
  const json = await growth(async () => {
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const encrypted = await request(`${gateway.adminUrl}/v1/crypto/encrypt`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ context: CONTEXT, plaintext: plaintext.toString('base64') }),
    });
    const { ciphertext } = (await encrypted.body.json()) as { ciphertext: string };
    const decrypted = await request(`${gateway.adminUrl}/v1/crypto/decrypt`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ context: CONTEXT, ciphertext }),
    });
    await decrypted.body.dump();
  });
  t.comment(`peak RSS growth: streamed ${streamed} bytes, JSON ${json} bytes`);
  // A gateway that buffered would hold the 10 MiB at least. Half of it leaves room for allocator
  // noise: in runs on Node 20.20 (x86-64 Linux, 2 CPUs), the streamed exchange grew by 1-3 MiB
  // and the JSON one by more than 100 MiB.
  t.ok(streamed < TEN_MIB / 2, `streamed: the gateway grew by ${streamed} bytes`);
  t.ok(json > streamed, `JSON: the gateway grew by ${json} bytes, more than streamed`);
});
