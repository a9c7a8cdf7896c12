#!/usr/bin/env node
// Measures what security events and alert rules cost a gateway under an attack burst: requests
// with an invalid bearer token, every one rejected with 401. Starts its own redis-server (never
// on port 6379), upstream and one gateway process per row, all on loopback, reads the gateway's
// CPU time from /proc around each timed run, and prints a Markdown table. See docs/benchmarks.md.
//
//   node bench/alerts.mjs [--duration 10] [--warmup 3] [--connections 50]
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { exportSPKI, generateKeyPair } from 'jose';
import { buildIfNeeded } from './build.mjs';
import { BenchProcess, freePort, machineBusySeconds } from './processes.mjs';
import { startRedis } from './redis.mjs';

const USAGE = `Usage: node bench/alerts.mjs [options]

Options:
  --duration S      Length of each timed run, in seconds (default 10)
  --warmup S        Length of the warm-up before each timed run, in seconds (default 3)
  --connections N   Concurrent connections of the load generator (default 50)
  --rounds N        Rounds of all rows, in turn; the table shows each row's median (default 3)
  -h, --help        Print this help
`;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MICROSECONDS_PER_SECOND = 1e6;
// The gateway closes a client connection after this many requests; autocannon reconnects after
// the same number, as in bench/suite.mjs.
const MAX_REQUESTS_PER_SOCKET = 1000;
const PATH = '/api/query';
/** A token that fails the syntax check: the cheapest rejection, so the events' share is largest. */
const BAD_TOKEN = 'not-a-valid-token';
/** Addresses the spread attack cycles through: 10.0.0.0/16, 65,536 of them. */
const SPREAD_ADDRESSES = 65_536;
const ATTACKER = '203.0.113.66';

const RULES = `alerts:
  rules:
    - name: auth-failure-burst
      match: { types: [request_rejected], codes: [unauthorized] }
      group_by: [client_ip]
      threshold: 20
      window: 1m
      cooldown: 15m
      actions:
        - { type: log }
        - { type: block, duration: 15m }
`;

/**
 * The rows. `level` is the log level: at `error` the `security event` lines (level warn) are
 * not written, though the hub still stamps and passes each event on. With `spread`, each request
 * comes from the next address of 10.0.0.0/16, so no address reaches the threshold and every
 * event costs a window update in Redis. Without it, every request comes from one address, which
 * the rule blocks after its 20th failure.
 */
const SETUPS = [
  {
    name: 'baseline',
    label: 'events not logged, no rules',
    level: 'error',
    rules: false,
    spread: true,
  },
  { name: 'events', label: 'events logged, no rules', level: 'warn', rules: false, spread: true },
  {
    name: 'rules',
    label: 'events logged, rule counting in Redis',
    level: 'warn',
    rules: true,
    spread: true,
  },
  {
    name: 'blocked',
    label: 'events logged, attacker blocked',
    level: 'warn',
    rules: true,
    spread: false,
  },
];

function positiveInteger(text, flag) {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1) {
    throw new Error(`${flag} must be a positive integer, got "${text}"`);
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
      rounds: { type: 'string', default: '3' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  return {
    help: values.help,
    duration: positiveInteger(values.duration, '--duration'),
    warmup: positiveInteger(values.warmup, '--warmup'),
    connections: positiveInteger(values.connections, '--connections'),
    rounds: positiveInteger(values.rounds, '--rounds'),
  };
}

function gatewayConfig({ upstreamUrl, redisPort, level }) {
  return `listeners:
  public: { host: 127.0.0.1 }
  admin: { host: 127.0.0.1 }
limits:
  max_requests_per_socket: ${MAX_REQUESTS_PER_SOCKET}
upstream:
  url: ${upstreamUrl}
client_ip: { trusted_proxies: [loopback], headers: [x-forwarded-for] }
auth:
  issuers:
    - name: bench
      issuer: urn:agentflow-gateway:bench
      audiences: [agentflow-bench]
      algorithms: [ES256]
      keys: [{ file: issuer-public.pem }]
store:
  backend: redis
  redis: { host: 127.0.0.1, port: ${redisPort} }
logging:
  level: ${level}
`;
}

function policy(rules) {
  return `version: 1
routes:
  - name: query
    match: { path: ${PATH} }
    response: { enabled: false }
${rules ? RULES : ''}`;
}

/** Writes the key, one configuration per log level and one policy folder per rule setting. */
async function writeFiles(workDir, upstreamUrl, redisPort) {
  const { publicKey } = await generateKeyPair('ES256');
  await writeFile(path.join(workDir, 'issuer-public.pem'), await exportSPKI(publicKey));
  const files = {};
  for (const setup of SETUPS) {
    const configFile = path.join(workDir, `gateway-${setup.name}.yaml`);
    await writeFile(configFile, gatewayConfig({ upstreamUrl, redisPort, level: setup.level }));
    const policiesDir = path.join(workDir, `policies-${setup.name}`);
    await mkdir(policiesDir, { recursive: true });
    await writeFile(path.join(policiesDir, 'routes.yaml'), policy(setup.rules));
    files[setup.name] = { configFile, policiesDir };
  }
  return files;
}

async function startGateway(setup, files, context) {
  const [publicPort, adminPort] = [await freePort(), await freePort()];
  const gateway = context.spawn({
    name: `gateway-${setup.name}`,
    args: [
      path.join(root, 'dist/src/cli.js'),
      'serve',
      '--config',
      files.configFile,
      '--policies',
      files.policiesDir,
    ],
    env: {
      AGENTFLOW_GATEWAY_LISTEN_PORT: String(publicPort),
      AGENTFLOW_GATEWAY_ADMIN_PORT: String(adminPort),
    },
  });
  await gateway.waitForOk(`http://127.0.0.1:${adminPort}/readyz`);
  return { gateway, url: `http://127.0.0.1:${publicPort}${PATH}` };
}

/** Returns a function that gives each request the next address of 10.0.0.0/16, or the attacker's. */
function addressSource(spread) {
  let next = 0;
  return () => {
    if (!spread) return ATTACKER;
    const index = next++ % SPREAD_ADDRESSES;
    return `10.0.${index >> 8}.${index & 255}`;
  };
}

function runLoad(url, setup, options, duration) {
  const nextAddress = addressSource(setup.spread);
  return autocannon({
    url,
    connections: options.connections,
    reconnectRate: MAX_REQUESTS_PER_SOCKET,
    duration,
    headers: { authorization: `Bearer ${BAD_TOKEN}` },
    requests: [
      {
        setupRequest(request) {
          request.headers = { ...request.headers, 'x-forwarded-for': nextAddress() };
          return request;
        },
      },
    ],
  });
}

function statusCounts(result) {
  const counts = {};
  for (const [status, { count }] of Object.entries(result.statusCodeStats)) counts[status] = count;
  return counts;
}

async function measure(setup, files, context) {
  const { options } = context;
  console.error(`measuring: ${setup.label}`);
  const { gateway, url } = await startGateway(setup, files[setup.name], context);
  try {
    const warmup = await runLoad(url, setup, options, options.warmup);
    if (warmup.errors > 0 || warmup.timeouts > 0) {
      throw new Error(
        `${setup.label}: the warm-up had ${warmup.errors} errors and ${warmup.timeouts} ` +
          `timeouts; the gateway's output is in ${gateway.logFile}`,
      );
    }
    const before = {
      gateway: gateway.cpuSeconds(),
      redis: context.redis.process.cpuSeconds(),
      machine: machineBusySeconds(),
    };
    const result = await runLoad(url, setup, options, options.duration);
    const after = {
      gateway: gateway.cpuSeconds(),
      redis: context.redis.process.cpuSeconds(),
      machine: machineBusySeconds(),
    };
    const completed = result.requests.total;
    const perRequest = (seconds) => (seconds / completed) * MICROSECONDS_PER_SECOND;
    return {
      setup,
      requestsPerSecond: completed / result.duration,
      p99: result.latency.p99,
      gatewayMicroseconds: perRequest(after.gateway - before.gateway),
      redisMicroseconds: perRequest(after.redis - before.redis),
      machineLoad: (after.machine - before.machine) / result.duration,
      completed,
      statuses: statusCounts(result),
      failures: result.errors + result.timeouts,
    };
  } finally {
    await gateway.stop();
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Combines the rounds of one setup: the median of each figure, the gateway CPU of every round,
 * and the responses of all rounds added up.
 */
function combineRounds(results) {
  const statuses = {};
  for (const result of results) {
    for (const [status, count] of Object.entries(result.statuses)) {
      statuses[status] = (statuses[status] ?? 0) + count;
    }
  }
  const medianOf = (field) => median(results.map((result) => result[field]));
  return {
    setup: results[0].setup,
    requestsPerSecond: medianOf('requestsPerSecond'),
    p99: medianOf('p99'),
    gatewayMicroseconds: medianOf('gatewayMicroseconds'),
    roundMicroseconds: results.map((result) => Math.round(result.gatewayMicroseconds)),
    redisMicroseconds: medianOf('redisMicroseconds'),
    machineLoad: medianOf('machineLoad'),
    statuses,
    failures: results.reduce((sum, result) => sum + result.failures, 0),
  };
}

function markdownTable(rows) {
  const baseline = rows[0].gatewayMicroseconds;
  const header = [
    'Setup',
    'Req/s',
    'p99 ms',
    'Gateway CPU µs/req',
    'Each round',
    'Ratio to first row',
    'Redis CPU µs/req',
    'Machine busy CPUs',
    'Responses',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`];
  for (const row of rows) {
    const responses = Object.entries(row.statuses)
      .map(([status, count]) => `${count} × ${status}`)
      .join(', ');
    const failures = row.failures > 0 ? `, ${row.failures} errors or timeouts` : '';
    lines.push(
      `| ${[
        row.setup.label,
        String(Math.round(row.requestsPerSecond)),
        String(row.p99),
        String(Math.round(row.gatewayMicroseconds)),
        row.roundMicroseconds.join(', '),
        (row.gatewayMicroseconds / baseline).toFixed(2),
        row.redisMicroseconds.toFixed(1),
        row.machineLoad.toFixed(2),
        responses + failures,
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

function gitDescription() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root });
    const changes = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: root,
    });
    return `commit ${commit.toString().trim()}${changes.length > 0 ? ' plus uncommitted changes' : ''}`;
  } catch (error) {
    return `unknown commit (git failed: ${error.message})`;
  }
}

function description(options) {
  const model = /^Model name:\s*(.+)$/m.exec(execFileSync('lscpu').toString())?.[1] ?? 'unknown';
  const redisVersion = execFileSync('redis-server', ['--version']).toString().trim();
  const load = os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
  return [
    `- Machine: ${os.availableParallelism()} CPUs (${model}), Node.js ${process.version}, ` +
      `${redisVersion.split(' ').slice(0, 3).join(' ')}, load average before the run ${load}`,
    `- Gateway: dist/ built from ${gitDescription()}, one process per row, store in Redis`,
    `- Load: autocannon, ${options.connections} connections, ${options.warmup} s warm-up, ` +
      `${options.duration} s timed, ${options.rounds} rounds, GET ${PATH} with ` +
      `\`Authorization: Bearer ${BAD_TOKEN}\``,
  ].join('\n');
}

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench/alerts: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  buildIfNeeded(root, [path.join(root, 'dist/src/cli.js')]);
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'agentflow-bench-alerts-'));
  const processes = [];
  const context = {
    root,
    options,
    spawn(spawnOptions) {
      const started = BenchProcess.spawn({ ...spawnOptions, logDir: workDir, cwd: workDir });
      processes.push(started);
      return started;
    },
  };
  const stopAll = () => Promise.all(processes.map((started) => started.stop()));
  const stop = () => void stopAll().then(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  let failed = false;
  try {
    context.redis = await startRedis(context);
    const upstream = context.spawn({
      name: 'upstream',
      args: [path.join(root, 'bench/upstream.mjs')],
    });
    const { url: upstreamUrl } = await upstream.waitForLogLine('upstream listening');
    const files = await writeFiles(workDir, upstreamUrl, context.redis.port);
    // Rounds take the rows in turn, so that a change in the machine's load spreads over all rows.
    const results = SETUPS.map(() => []);
    for (let round = 0; round < options.rounds; round++) {
      for (const [index, setup] of SETUPS.entries()) {
        results[index].push(await measure(setup, files, context));
      }
    }
    const rows = results.map(combineRounds);
    console.log(description(options));
    console.log('');
    console.log(markdownTable(rows));
  } catch (error) {
    failed = true;
    console.error(`bench/alerts: ${error.message}`);
    console.error(`the processes' output is in ${workDir}`);
  } finally {
    await stopAll();
    if (!failed) await rm(workDir, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();
