#!/usr/bin/env node
// Measures what response leak scanning costs in a running gateway: its CPU time per request
// with scanning on and off, and the time to first byte and per-event latency of an SSE stream
// through it. Starts its own upstream (bench/leakage/upstream.mjs) and gateway processes on
// loopback, and prints Markdown tables. See docs/benchmarks.md.
//
//   node bench/leakage-gateway.mjs [options]
import { execFileSync } from 'node:child_process';
import { request as httpRequest, Agent } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { buildIfNeeded } from './build.mjs';
import { BenchProcess, freePort, machineBusySeconds, ownCpuSeconds } from './processes.mjs';

const USAGE = `Usage: node bench/leakage-gateway.mjs [options]

Options:
  --duration S          Length of each timed CPU run, in seconds (default 10)
  --warmup S            Length of the warm-up before each CPU run, in seconds (default 3)
  --connections N       Concurrent connections of the CPU runs (default 50)
  --stream-events N     Events per SSE response in the CPU runs (default 40)
  --latency-requests N  SSE requests per latency row, one at a time (default 20)
  --latency-events N    Events per SSE response in the latency rows (default 40)
  --interval MS         Milliseconds between events in the latency rows (default 10)
  --skip-cpu            Only measure latency
  --skip-latency        Only measure CPU
  -h, --help            Print this help
`;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MICROSECONDS_PER_SECOND = 1e6;
const NANOSECONDS_PER_MILLISECOND = 1e6;
// The gateway closes a client connection after this many requests (limits in the config
// below), and autocannon reconnects after the same number, as in bench/suite.mjs.
const MAX_REQUESTS_PER_SOCKET = 1000;

// Two routes that differ only in response scanning: on with the defaults (every built-in
// detector redacting), or off.
const POLICY = `version: 1
routes:
  - name: scan-on
    match: { methods: [GET], path_prefix: /on/ }
    auth: none
  - name: scan-off
    match: { methods: [GET], path_prefix: /off/ }
    auth: none
    response: { enabled: false }
`;

function positiveInteger(text, flag, minimum = 1) {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < minimum) {
    throw new Error(`${flag} must be an integer of at least ${minimum}, got "${text}"`);
  }
  return value;
}

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '50' },
      'stream-events': { type: 'string', default: '40' },
      'latency-requests': { type: 'string', default: '20' },
      'latency-events': { type: 'string', default: '40' },
      interval: { type: 'string', default: '10' },
      'skip-cpu': { type: 'boolean', default: false },
      'skip-latency': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  return {
    help: values.help,
    duration: positiveInteger(values.duration, '--duration'),
    warmup: positiveInteger(values.warmup, '--warmup'),
    connections: positiveInteger(values.connections, '--connections'),
    streamEvents: positiveInteger(values['stream-events'], '--stream-events'),
    latencyRequests: positiveInteger(values['latency-requests'], '--latency-requests'),
    latencyEvents: positiveInteger(values['latency-events'], '--latency-events'),
    interval: positiveInteger(values.interval, '--interval', 0),
    cpu: !values['skip-cpu'],
    latency: !values['skip-latency'],
  };
}

async function startProcesses(workDir, processes) {
  const upstream = BenchProcess.spawn({
    name: 'upstream',
    args: [path.join(root, 'bench/leakage/upstream.mjs')],
    logDir: workDir,
    cwd: root,
  });
  processes.push(upstream);
  const { url: upstreamUrl } = await upstream.waitForLogLine('upstream listening');

  const policiesDir = path.join(workDir, 'policies');
  await mkdir(policiesDir, { recursive: true });
  await writeFile(path.join(policiesDir, 'routes.yaml'), POLICY);
  const configFile = path.join(workDir, 'gateway.yaml');
  // The listener ports and the upstream come from the environment.
  await writeFile(
    configFile,
    `listeners:\n  public: { host: 127.0.0.1 }\n  admin: { host: 127.0.0.1 }\n` +
      `limits:\n  max_requests_per_socket: ${MAX_REQUESTS_PER_SOCKET}\n` +
      `upstream:\n  url: ${upstreamUrl}\nlogging:\n  level: warn\npolicies:\n  dir: policies\n`,
  );
  const [publicPort, adminPort] = [await freePort(), await freePort()];
  const gateway = BenchProcess.spawn({
    name: 'gateway',
    args: [path.join(root, 'dist/src/cli.js'), 'serve', '--config', configFile],
    env: {
      AGENTFLOW_GATEWAY_LISTEN_HOST: '127.0.0.1',
      AGENTFLOW_GATEWAY_LISTEN_PORT: String(publicPort),
      AGENTFLOW_GATEWAY_ADMIN_PORT: String(adminPort),
      AGENTFLOW_GATEWAY_LOG_LEVEL: 'warn',
    },
    logDir: workDir,
    cwd: root,
  });
  processes.push(gateway);
  // At level warn the gateway does not log "gateway started", so readiness is polled instead.
  await gateway.waitForOk(`http://127.0.0.1:${adminPort}/readyz`);
  return { upstream, upstreamUrl, gateway, gatewayUrl: `http://127.0.0.1:${publicPort}` };
}

/** Fetches `url` once and raises unless it is a 200 whose body passes `check`. */
async function checkResponse(url, check) {
  const response = await fetch(url);
  const text = await response.text();
  if (response.status !== 200 || !check(text)) {
    throw new Error(`GET ${url} returned ${response.status}: ${text.slice(0, 200)}`);
  }
}

function runLoad(url, options, duration) {
  return autocannon({
    url,
    connections: options.connections,
    reconnectRate: MAX_REQUESTS_PER_SOCKET,
    duration,
  });
}

function failures(result) {
  return result.errors + result.timeouts + result.non2xx;
}

/** Warms up, then reads the gateway's CPU time from /proc around the timed load on `url`. */
async function measureCpu(label, url, context) {
  const { options, gateway, upstream } = context;
  console.error(`measuring CPU: ${label}`);
  const warmup = await runLoad(url, options, options.warmup);
  if (failures(warmup) > 0 || warmup.requests.total === 0) {
    throw new Error(`${label}: the warm-up had ${failures(warmup)} failed requests`);
  }
  const before = {
    gateway: gateway.cpuSeconds(),
    upstream: upstream.cpuSeconds(),
    load: ownCpuSeconds(),
    machine: machineBusySeconds(),
  };
  const result = await runLoad(url, options, options.duration);
  const after = {
    gateway: gateway.cpuSeconds(),
    upstream: upstream.cpuSeconds(),
    load: ownCpuSeconds(),
    machine: machineBusySeconds(),
  };
  const delta = (key) => after[key] - before[key];
  const completed = result.requests.total;
  const other = delta('machine') - delta('gateway') - delta('upstream') - delta('load');
  return {
    label,
    requestsPerSecond: completed / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    gatewayCpu: (delta('gateway') / completed) * MICROSECONDS_PER_SECOND,
    otherCpus: Math.max(0, other) / result.duration,
    completed,
    failed: failures(result),
  };
}

/**
 * Sends one GET for an event stream and returns the time to the first body byte and, for each
 * event, the time from its write in the upstream (its `id`) to its arrival here, in ms.
 */
function streamTimings(url, agent) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const latencies = [];
    let firstByte;
    let pending = '';
    const req = httpRequest(url, { agent }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET ${url} returned ${res.statusCode}`));
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        const arrived = process.hrtime.bigint();
        firstByte ??= arrived;
        pending += chunk;
        let end = pending.indexOf('\n\n');
        while (end !== -1) {
          const id = /^id: (\d+)$/m.exec(pending.slice(0, end))?.[1];
          if (id !== undefined) {
            latencies.push(Number(arrived - BigInt(id)) / NANOSECONDS_PER_MILLISECOND);
          }
          pending = pending.slice(end + 2);
          end = pending.indexOf('\n\n');
        }
      });
      res.on('end', () =>
        resolve({
          timeToFirstByte: Number(firstByte - started) / NANOSECONDS_PER_MILLISECOND,
          latencies,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function percentile(sorted, fraction) {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) };
}

/** Streams `latencyRequests` responses one after the other from `baseUrl` and summarises. */
async function measureLatency(label, baseUrl, style, options) {
  console.error(`measuring latency: ${label}`);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const query = `events=${options.latencyEvents}&interval=${options.interval}&style=${style}`;
  const url = `${baseUrl}/sse?${query}`;
  const firstBytes = [];
  const latencies = [];
  try {
    // One unmeasured request warms up the connection and the code paths.
    await streamTimings(url, agent);
    for (let index = 0; index < options.latencyRequests; index += 1) {
      const timings = await streamTimings(url, agent);
      if (timings.latencies.length !== options.latencyEvents) {
        throw new Error(
          `${label}: ${timings.latencies.length} of ${options.latencyEvents} events arrived`,
        );
      }
      firstBytes.push(timings.timeToFirstByte);
      latencies.push(...timings.latencies);
    }
  } finally {
    agent.destroy();
  }
  return { label, style, timeToFirstByte: summary(firstBytes), event: summary(latencies) };
}

function table(header, rows) {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => ' --- ').join('|')}|`,
    ...rows.map((cells) => `| ${cells.join(' | ')} |`),
  ].join('\n');
}

function milliseconds(value) {
  return value.toFixed(2);
}

function gitDescription() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root });
    const changes = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: root,
    });
    const state = changes.length > 0 ? ' plus uncommitted changes' : '';
    return `commit ${commit.toString().trim()}${state}`;
  } catch (error) {
    return `unknown commit (git failed: ${error.message})`;
  }
}

function description(options) {
  const model = /^Model name:\s*(.+)$/m.exec(execFileSync('lscpu').toString())?.[1] ?? 'unknown';
  return [
    `- Machine: ${os.availableParallelism()} CPUs (${model}), Node.js ${process.version}, ` +
      `load average before the run ${os
        .loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
    `- Gateway: dist/ built from ${gitDescription()}, log level warn, one process, routes ` +
      '`/on/` (scanning with the defaults) and `/off/` (`response: { enabled: false }`)',
    `- CPU rows: autocannon, ${options.connections} connections, ${options.warmup} s warm-up, ` +
      `${options.duration} s timed; JSON is a 2 KiB RAG answer, SSE ${options.streamEvents} ` +
      'chat completion chunks of three words, written as fast as the socket takes them',
    `- Latency rows: ${options.latencyRequests} requests one at a time after one unmeasured, ` +
      `${options.latencyEvents} events each, ${options.interval} ms apart`,
  ].join('\n');
}

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench/leakage-gateway: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }

  buildIfNeeded(root, [path.join(root, 'dist/src/cli.js')]);
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'agentflow-bench-leakage-'));
  const processes = [];
  const stopAll = () => Promise.all(processes.map((started) => started.stop()));
  const stop = () => void stopAll().then(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  let failed = false;
  try {
    const started = await startProcesses(workDir, processes);
    const { gatewayUrl, upstreamUrl } = started;
    const stream = `sse?events=${options.streamEvents}&interval=0&style=words`;
    // The routes must behave as the rows assume: a planted e-mail address is redacted only with
    // scanning on, and the bodies the rows load have nothing to redact.
    await checkResponse(`${gatewayUrl}/on/json?plant=1`, (text) => text.includes('[REDACTED:'));
    await checkResponse(`${gatewayUrl}/off/json?plant=1`, (text) => !text.includes('[REDACTED:'));
    await checkResponse(`${gatewayUrl}/on/json`, (text) => !text.includes('[REDACTED:'));
    await checkResponse(`${gatewayUrl}/on/${stream}`, (text) => text.endsWith('[DONE]\n\n'));

    console.log(description(options));
    if (options.cpu) {
      const context = { options, ...started };
      const rows = [];
      for (const [label, pathAndQuery] of [
        ['JSON, scanning off', '/off/json'],
        ['JSON, scanning on', '/on/json'],
        ['SSE, scanning off', `/off/${stream}`],
        ['SSE, scanning on', `/on/${stream}`],
      ]) {
        rows.push(await measureCpu(label, `${gatewayUrl}${pathAndQuery}`, context));
      }
      const cells = rows.map((row, index) => [
        row.label,
        String(Math.round(row.requestsPerSecond)),
        String(row.p50),
        String(row.p99),
        String(Math.round(row.gatewayCpu)),
        index % 2 === 1 ? String(Math.round(row.gatewayCpu - rows[index - 1].gatewayCpu)) : '–',
        row.otherCpus.toFixed(2),
        String(row.completed),
        String(row.failed),
      ]);
      const header = ['Setup', 'Req/s', 'p50 ms', 'p99 ms', 'Gateway CPU µs/req'];
      header.push('Added by scanning µs/req', 'Other CPU load', 'Requests', 'Failed');
      console.log(`\n${table(header, cells)}`);
      if (rows.some((row) => row.failed > 0)) failed = true;
    }
    if (options.latency) {
      const rows = [];
      for (const style of ['words', 'tokens']) {
        for (const [label, baseUrl] of [
          ['direct', upstreamUrl],
          ['gateway, scanning off', `${gatewayUrl}/off`],
          ['gateway, scanning on', `${gatewayUrl}/on`],
        ]) {
          rows.push(await measureLatency(`${label}, ${style}`, baseUrl, style, options));
        }
      }
      const cells = rows.map((row) => [
        row.label,
        ...[row.timeToFirstByte, row.event].flatMap((timing) =>
          [timing.p50, timing.p99, timing.max].map(milliseconds),
        ),
      ]);
      const header = ['Setup, content pieces', 'TTFB p50 ms', 'TTFB p99 ms', 'TTFB max ms'];
      header.push('Event p50 ms', 'Event p99 ms', 'Event max ms');
      console.log(`\n${table(header, cells)}`);
    }
  } catch (error) {
    failed = true;
    console.error(`bench/leakage-gateway: ${error.message}`);
  } finally {
    await stopAll();
  }
  if (failed) console.error(`bench/leakage-gateway: process output kept in ${workDir}`);
  else await rm(workDir, { recursive: true, force: true });
  return failed ? 1 : 0;
}

process.exitCode = await main();
