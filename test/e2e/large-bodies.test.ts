import { Readable } from 'node:stream';
import t from 'tap';
import { request } from 'undici';
import { memoryOf, resetPeakMemory, startGatewayProcess } from '../helpers/gateway-process.js';
import { startUpstream } from '../helpers/upstream.js';

const MIB = 1024 * 1024;
const BODY_BYTES = 10 * MIB;
const CHUNK_BYTES = 64 * 1024;
const ROUTE_LIMIT_MIB = (2 * BODY_BYTES) / MIB;
/**
 * A gateway that streams keeps a few chunks per request in memory, while one that buffers the
 * body grows by at least the whole body. Half the body leaves room for allocator noise. In runs
 * of this file on Node 20.20 (x86-64 Linux, 2 CPUs), the gateway grew by 0-4 MiB, and by 20 MiB
 * once changed to buffer the request body.
 */
const MAX_GROWTH_BYTES = BODY_BYTES / 2;
const WARMUP_BYTES = BODY_BYTES / 4;
const WARMUP_PATH = '/bulk/warmup';

const POLICY = `version: 1
routes:
  - name: bulk
    match: { path_prefix: /bulk }
    auth: none
    body: { max_bytes: ${ROUTE_LIMIT_MIB}MiB }
    # Inspection reads the whole body; without it the body must stream.
    inspect: { enabled: false }
`;
const CONFIG = `limits: { max_body_bytes: ${ROUTE_LIMIT_MIB}MiB }`;
/**
 * Two sources of RSS growth that are unrelated to buffering are switched off in the gateway
 * process. V8 frees spent socket buffers only when its heap or external-memory limits are
 * reached, so without a collection every few milliseconds a streaming gateway grows by about
 * what passed through it. And V8 recompiles undici's WebAssembly HTTP parser with TurboFan once
 * it is hot, which briefly added about 30 MiB in the same runs. `--liftoff-only` keeps the
 * baseline compiler.
 */
const GC_INTERVAL_MS = 5;
const NODE_OPTIONS = [
  '--liftoff-only',
  '--expose-gc',
  '--import',
  `data:text/javascript,setInterval(globalThis.gc,${GC_INTERVAL_MS}).unref()`,
];

/** Yields `total` bytes in chunks, made as they are read, so the test never buffers the body. */
function* generatedBody(total: number): Generator<Buffer> {
  const chunk = Buffer.alloc(CHUNK_BYTES, 'a');
  for (let sent = 0; sent < total; sent += CHUNK_BYTES) {
    yield sent + CHUNK_BYTES <= total ? chunk : chunk.subarray(0, total - sent);
  }
}

async function countBytes(body: AsyncIterable<Buffer | Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const chunk of body) bytes += chunk.length;
  return bytes;
}

/** Runs `transfer` and returns how far the peak RSS rose above the RSS before it (bytes). */
async function memoryGrowthDuring(pid: number, transfer: () => Promise<void>): Promise<number> {
  await resetPeakMemory(pid);
  const before = await memoryOf(pid);
  await transfer();
  const after = await memoryOf(pid);
  return after.peak - before.rss;
}

t.test('large request body streamed', async (t) => {
  const counted: number[] = [];
  const upstream = await startUpstream(
    (req, res) => {
      void countBytes(req).then((bytes) => {
        counted.push(bytes);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ bytes }));
      });
    },
    { streamBody: true },
  );
  t.teardown(() => upstream.close());
  const gateway = await startGatewayProcess(t, {
    upstreamUrl: upstream.url,
    config: CONFIG,
    policy: POLICY,
    nodeOptions: NODE_OPTIONS,
  });

  const framings: Record<string, (bytes: number) => Record<string, string>> = {
    'content-length': (bytes) => ({ 'content-length': String(bytes) }),
    chunked: () => ({}),
  };
  // Smaller transfers first open the upstream connection and run each code path once.
  for (const headers of Object.values(framings)) {
    const warmup = await request(`${gateway.url}/bulk/upload`, {
      method: 'POST',
      headers: headers(WARMUP_BYTES),
      body: Readable.from(generatedBody(WARMUP_BYTES)),
    });
    await warmup.body.dump();
  }

  for (const [framing, headers] of Object.entries(framings)) {
    let status = 0;
    let echoed: unknown;
    const growth = await memoryGrowthDuring(gateway.pid, async () => {
      const response = await request(`${gateway.url}/bulk/upload`, {
        method: 'POST',
        headers: headers(BODY_BYTES),
        body: Readable.from(generatedBody(BODY_BYTES)),
      });
      status = response.statusCode;
      echoed = await response.body.json();
    });

    t.equal(status, 200, `${framing}: status`);
    t.same(echoed, { bytes: BODY_BYTES }, `${framing}: the upstream counted every byte`);
    t.equal(counted.at(-1), BODY_BYTES, `${framing}: upstream byte count`);
    t.ok(growth < MAX_GROWTH_BYTES, `${framing}: gateway memory grew by ${growth} bytes`);
  }
});

t.test('large response body streamed', async (t) => {
  const upstream = await startUpstream((req, res) => {
    const bytes = req.url === WARMUP_PATH ? WARMUP_BYTES : BODY_BYTES;
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(bytes),
    });
    Readable.from(generatedBody(bytes)).pipe(res);
  });
  t.teardown(() => upstream.close());
  const gateway = await startGatewayProcess(t, {
    upstreamUrl: upstream.url,
    config: CONFIG,
    policy: POLICY,
    nodeOptions: NODE_OPTIONS,
  });

  const warmup = await request(`${gateway.url}${WARMUP_PATH}`);
  await warmup.body.dump();

  let status = 0;
  let contentLength: unknown;
  let received = 0;
  const growth = await memoryGrowthDuring(gateway.pid, async () => {
    const response = await request(`${gateway.url}/bulk/download`);
    status = response.statusCode;
    contentLength = response.headers['content-length'];
    received = await countBytes(response.body);
  });

  t.equal(status, 200);
  t.equal(contentLength, String(BODY_BYTES));
  t.equal(received, BODY_BYTES, 'the client read every byte');
  t.ok(growth < MAX_GROWTH_BYTES, `gateway memory grew by ${growth} bytes`);
});
