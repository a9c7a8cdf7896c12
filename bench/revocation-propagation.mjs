// Measures how long a revocation takes to reach another gateway replica through Redis.
//
//   npm run build && node bench/revocation-propagation.mjs [--iterations 500] [--pause-ms 10]
//
// The script starts its own redis-server on a free loopback port (never 6379) and a second
// Node process that runs the reading replica. For each iteration the parent revokes a new jti
// with its own replica and the child polls `check` until it reports the jti revoked. The time
// from just before `revoke` to the child's first revoked `check` is measured with the
// monotonic clock, which both processes share on Linux. It prints p50, p99 and max.
import { execFileSync, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

const HOST = '127.0.0.1';
const RESERVED_PORT = 6379;
const READY_TIMEOUT_MS = 10_000;
/** An iteration whose revocation has not arrived after this long counts as lost. */
const ITERATION_TIMEOUT_MS = 5_000;
const MAX_ITERATIONS = 100_000;
const KEY_PREFIX = 'bench:revocation';

const listModule = new URL('../dist/src/revocation/redis-list.js', import.meta.url);
const settingsModule = new URL('../dist/src/revocation/settings.js', import.meta.url);

if (process.argv[2] === '--replica') {
  await runReplica(Number(process.argv[3]));
} else {
  await runBenchmark();
}

async function runBenchmark() {
  const { values } = parseArgs({
    options: {
      iterations: { type: 'string', default: '500' },
      'pause-ms': { type: 'string', default: '10' },
    },
  });
  const iterations = Math.min(Number(values.iterations), MAX_ITERATIONS);
  const pauseMs = Number(values['pause-ms']);
  if (!Number.isInteger(iterations) || iterations < 1 || !(pauseMs >= 0)) {
    throw new Error('--iterations must be a positive integer and --pause-ms a number >= 0');
  }
  const redis = await startRedis();
  let child;
  let writer;
  try {
    child = fork(fileURLToPath(import.meta.url), ['--replica', String(redis.port)]);
    await waitForMessage(child, (message) => message.type === 'ready');
    writer = await createList(redis.port);
    const results = await measure(writer, child, iterations, pauseMs);
    report(results, iterations, pauseMs);
  } finally {
    await writer?.stop();
    if (child && child.exitCode === null) {
      child.send({ type: 'stop' });
      await once(child, 'exit');
    }
    await redis.stop();
  }
}

async function measure(writer, child, iterations, pauseMs) {
  const latencies = [];
  const revokeDurations = [];
  let lost = 0;
  for (let index = 0; index < iterations; index++) {
    const jti = `bench-${process.pid}-${index}`;
    child.send({ type: 'watch', jti });
    await waitForMessage(child, (message) => message.type === 'watching' && message.jti === jti);
    const started = process.hrtime.bigint();
    await writer.revoke({ kind: 'jti', value: jti, reason: 'benchmark', ttlMs: 600_000 });
    revokeDurations.push(Number(process.hrtime.bigint() - started) / 1e6);
    const seen = await waitForMessage(
      child,
      (message) => message.jti === jti && message.type !== 'watching',
    );
    if (seen.type === 'lost') lost++;
    else latencies.push(Number(BigInt(seen.at) - started) / 1e6);
    if (pauseMs > 0) await sleep(pauseMs);
  }
  return { latencies, revokeDurations, lost };
}

/** Runs the child process: one replica that reports when each watched jti is revoked. */
async function runReplica(port) {
  const list = await createList(port);
  process.on('message', (message) => {
    if (message.type === 'stop') {
      list.stop().then(() => process.exit(0));
      return;
    }
    process.send({ type: 'watching', jti: message.jti });
    const deadline = Date.now() + ITERATION_TIMEOUT_MS;
    // setImmediate lets the subscription's socket be read between two checks.
    const poll = () => {
      const result = list.check({ jti: message.jti });
      if (result.revoked) {
        process.send({ type: 'revoked', jti: message.jti, at: process.hrtime.bigint().toString() });
      } else if (Date.now() > deadline) {
        process.send({ type: 'lost', jti: message.jti });
      } else {
        setImmediate(poll);
      }
    };
    poll();
  });
  process.send({ type: 'ready' });
}

async function createList(port) {
  const { RedisRevocationList } = await import(listModule);
  const { revocationSettingsSchema } = await import(settingsModule);
  const settings = revocationSettingsSchema.parse({
    store: 'redis',
    redis: { host: HOST, port, key_prefix: KEY_PREFIX },
  });
  const list = new RedisRevocationList({
    maxRecords: settings.max_records,
    defaultJtiTtlMs: settings.default_jti_ttl,
    retentionMarginMs: settings.retention_margin,
    sweepIntervalMs: settings.sweep_interval,
    redis: settings.redis,
    failMode: settings.fail_mode,
  });
  await list.start();
  if (list.stats().fresh !== 1) throw new Error('the replica did not load from Redis');
  return list;
}

function waitForMessage(child, matches) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (!matches(message)) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message);
    };
    const onExit = (code) => reject(new Error(`the replica process exited with ${code}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function report({ latencies, revokeDurations, lost }, iterations, pauseMs) {
  const redisVersion = readRedisVersion();
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores`);
  console.log(`node ${process.version}, ${redisVersion}`);
  console.log(`iterations: ${iterations}, pause between them: ${pauseMs} ms, lost: ${lost}`);
  console.log(`propagation to the other replica (ms): ${summary(latencies)}`);
  console.log(`revoke() call on the writing replica (ms): ${summary(revokeDurations)}`);
}

function summary(values) {
  if (values.length === 0) return 'no samples';
  const sorted = [...values].sort((a, b) => a - b);
  const at = (fraction) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
  const format = (value) => value.toFixed(2);
  return `p50 ${format(at(0.5))}, p99 ${format(at(0.99))}, max ${format(sorted.at(-1))}`;
}

function readRedisVersion() {
  const text = execFileSync('redis-server', ['--version']).toString();
  return `redis-server ${/v=(\S+)/.exec(text)?.[1] ?? 'of unknown version'}`;
}

async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'agentflow-bench-redis-'));
  const args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no'];
  const child = spawn('redis-server', [...args, '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await answersPing(port))) {
    if (child.exitCode !== null) throw new Error(`redis-server exited:\n${output}`);
    if (Date.now() > deadline)
      throw new Error(`redis-server not ready after ${READY_TIMEOUT_MS} ms`);
    await sleep(25);
  }
  return {
    port,
    async stop() {
      if (child.exitCode === null) {
        const exited = once(child, 'exit');
        process.kill(child.pid, 'SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function answersPing(port) {
  return new Promise((resolve) => {
    const socket = connect(port, HOST);
    socket.setTimeout(1_000, () => socket.destroy());
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
    socket.on('data', (chunk) => {
      resolve(chunk.toString().startsWith('+PONG'));
      socket.end();
    });
    socket.write('PING\r\n');
  });
}

async function freePort() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const server = createServer().listen(0, HOST);
    await once(server, 'listening');
    const { port } = server.address();
    await new Promise((resolve) => server.close(resolve));
    if (port !== RESERVED_PORT) return port;
  }
  throw new Error('no free port found');
}
