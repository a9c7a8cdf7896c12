// The benchmark runs: processes, load and CPU accounting for each setup, and the tables.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { parse as parseYaml } from 'yaml';
import { createBenchIssuer, writeGatewayConfig, writePolicies } from './gateway-files.mjs';
import { BenchProcess, freePort, machineBusySeconds, ownCpuSeconds } from './processes.mjs';
import { commandCounts, commandDelta, startRedis } from './redis.mjs';

/** The request every run sends: a non-streaming RAG query, the route the default policy allows. */
export const QUERY_REQUEST = {
  method: 'POST',
  path: '/api/rag/query',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ query: 'How does AgentFlow handle document uploads?' }),
};

const MICROSECONDS_PER_SECOND = 1e6;

/** Shared state of one benchmark run: paths, load options and every process started. */
export class BenchContext {
  constructor({ root, workDir, connections, duration, warmup }) {
    this.root = root;
    this.workDir = workDir;
    this.connections = connections;
    this.duration = duration;
    this.warmup = warmup;
    this.processes = [];
    // Past limits.max_requests_per_socket, Node 20 responds with 503 on the same connection
    // after its `Connection: close`, and autocannon does not reconnect on that header by
    // itself. Every run, direct ones included, therefore reconnects after this many requests,
    // as a client that honours the header would.
    const config = parseYaml(readFileSync(path.join(root, 'config/gateway.yaml'), 'utf8'));
    this.requestsPerConnection = config.limits.max_requests_per_socket;
    this.issuer = undefined;
  }

  /** The benchmark's token issuer and its token, created on first use. */
  benchIssuer() {
    this.issuer ??= createBenchIssuer(this.workDir);
    return this.issuer;
  }

  /** Stops every process this run started that is still running, by PID. */
  async stopAll() {
    await Promise.all(this.processes.map((started) => started.stop()));
  }

  spawn(options) {
    const started = BenchProcess.spawn({ ...options, cwd: this.root, logDir: this.workDir });
    this.processes.push(started);
    return started;
  }

  /** Starts a node script that logs `{"msg": READY, "url": ...}` once it listens. */
  async startServer(name, args, readyMessage) {
    const started = this.spawn({ name, args });
    const { url } = await started.waitForLogLine(readyMessage);
    return { process: started, url };
  }

  startMinimalUpstream() {
    return this.startServer(
      'upstream',
      [path.join(this.root, 'bench/upstream.mjs')],
      'upstream listening',
    );
  }

  startRagBackend() {
    const server = path.join(this.root, 'dist/examples/rag-backend/server.js');
    return this.startServer('rag-backend', [server, '--port', '0'], 'rag backend listening');
  }

  /**
   * Starts the gateway on free loopback ports, in front of `upstreamUrl`, and waits for /readyz.
   * It runs with config/gateway.yaml, whose issuer is replaced by the benchmark's, and with the
   * rate-limit store on the Redis at `redisPort` when given. `policies` is one of the kinds of
   * writePolicies(). Returns the request headers the load must send: the token, unless the
   * policy is `catch-all`.
   */
  async startGateway({ name, upstreamUrl, policies, logLevel, redisPort, nodeOptions = [] }) {
    const { issuer, token } = await this.benchIssuer();
    const policiesDir = await writePolicies(this.root, this.workDir, policies);
    const config = await writeGatewayConfig(this.root, this.workDir, { name, issuer, redisPort });
    const [publicPort, adminPort] = [await freePort(), await freePort()];
    const cli = path.join(this.root, 'dist/src/cli.js');
    const started = this.spawn({
      name,
      args: [...nodeOptions, cli, 'serve', '--config', config, '--policies', policiesDir],
      env: {
        AGENTFLOW_GATEWAY_LISTEN_HOST: '127.0.0.1',
        AGENTFLOW_GATEWAY_LISTEN_PORT: String(publicPort),
        AGENTFLOW_GATEWAY_ADMIN_PORT: String(adminPort),
        AGENTFLOW_GATEWAY_UPSTREAM_URL: upstreamUrl,
        AGENTFLOW_GATEWAY_LOG_LEVEL: logLevel,
      },
    });
    // At level warn the gateway does not log "gateway started", so readiness is polled instead.
    await started.waitForOk(`http://127.0.0.1:${adminPort}/readyz`);
    const headers = policies === 'catch-all' ? {} : { authorization: `Bearer ${token}` };
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    return { process: started, url: `http://127.0.0.1:${publicPort}`, adminUrl, headers };
  }

  startBareProxy(name, script, upstreamUrl) {
    const args = [path.join(this.root, 'bench', script), '--upstream', upstreamUrl];
    return this.startServer(name, args, `${name} listening`);
  }
}

function runLoad(context, baseUrl, duration, headers) {
  const request = QUERY_REQUEST;
  return autocannon({
    url: `${baseUrl}${request.path}`,
    method: request.method,
    headers: { ...request.headers, ...headers },
    body: request.body,
    connections: context.connections,
    reconnectRate: context.requestsPerConnection,
    duration,
  });
}

function failures(result) {
  return result.errors + result.timeouts + result.non2xx;
}

/**
 * Warms up, then runs the timed load against `url`, with `headers` added to the request, and
 * reads the CPU time of `proxy` (if any), `upstream` and the Redis server `redis` (if any) from
 * /proc before and after it. With Redis, it also reads the commands Redis ran and the gateway's
 * store switches from `adminUrl`/metrics before and after. Raises when the warm-up had
 * a failure, since the numbers of a misconfigured setup mean nothing.
 */
export async function measure(
  context,
  { setup, upstreamName, url, adminUrl, headers = {}, proxy, upstream, redis },
) {
  console.error(`measuring: ${setup} -> ${upstreamName} (${url})`);
  const warmup = await runLoad(context, url, context.warmup, headers);
  if (failures(warmup) > 0 || warmup.requests.total === 0) {
    throw new Error(
      `${setup}: the warm-up had ${warmup.non2xx} non-2xx responses, ${warmup.errors} errors ` +
        `and ${warmup.timeouts} timeouts out of ${warmup.requests.total}; see ${context.workDir}`,
    );
  }

  const commandsBefore = redis === undefined ? undefined : commandCounts(redis);
  const switchesBefore = redis === undefined ? undefined : await storeSwitches(adminUrl);
  const before = cpuSnapshot(proxy, upstream, redis);
  const result = await runLoad(context, url, context.duration, headers);
  const after = cpuSnapshot(proxy, upstream, redis);
  const commands =
    redis === undefined ? undefined : commandDelta(commandsBefore, commandCounts(redis));
  const switches =
    redis === undefined ? undefined : (await storeSwitches(adminUrl)) - switchesBefore;

  const completed = result.requests.total;
  const delta = (key) => after[key] - before[key];
  // CPU the rest of the machine used meanwhile, which the processes under test competed with.
  const otherSeconds =
    delta('machine') - delta('proxy') - delta('upstream') - delta('loadGenerator') - delta('redis');
  const sentCommands =
    commands === undefined ? undefined : Object.values(commands.sent).reduce((a, b) => a + b, 0);
  return {
    setup,
    upstream: upstreamName,
    requestsPerSecond: completed / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    completed,
    warmupCompleted: warmup.requests.total,
    failed: failures(result),
    proxyCpuMicroseconds:
      proxy === undefined ? undefined : (delta('proxy') / completed) * MICROSECONDS_PER_SECOND,
    upstreamCpuMicroseconds: (delta('upstream') / completed) * MICROSECONDS_PER_SECOND,
    loadGeneratorCpuMicroseconds: (delta('loadGenerator') / completed) * MICROSECONDS_PER_SECOND,
    redisCpuMicroseconds:
      redis === undefined ? undefined : (delta('redis') / completed) * MICROSECONDS_PER_SECOND,
    redisCommandsPerRequest: sentCommands === undefined ? undefined : sentCommands / completed,
    redisCommands: commands,
    storeSwitches: switches,
    otherCpus: Math.max(0, otherSeconds) / result.duration,
  };
}

/** Sums `agentflow_gateway_rate_limit_store_switches_total` over its `state` label. */
async function storeSwitches(adminUrl) {
  const response = await fetch(`${adminUrl}/metrics`);
  const text = await response.text();
  let total = 0;
  for (const [, value] of text.matchAll(
    /^agentflow_gateway_rate_limit_store_switches_total\{[^}]*\} (\d+)/gm,
  )) {
    total += Number(value);
  }
  return total;
}

function cpuSnapshot(proxy, upstream, redis) {
  return {
    proxy: proxy?.cpuSeconds() ?? 0,
    upstream: upstream.cpuSeconds(),
    redis: redis?.process.cpuSeconds() ?? 0,
    loadGenerator: ownCpuSeconds(),
    machine: machineBusySeconds(),
  };
}

/** Measures one proxy process started by `start`, then stops it. */
async function measureProxy(context, start, row) {
  const { process: proxy, url, adminUrl, headers } = await start();
  try {
    return await measure(context, { ...row, url, adminUrl, headers, proxy });
  } finally {
    await proxy.stop();
  }
}

/** The gateway setups of the `gateway` group, in the order they run. */
const GATEWAY_SETUPS = [
  { setup: 'gateway, catch-all route, log level warn', policies: 'catch-all', logLevel: 'warn' },
  { setup: 'gateway, catch-all route, log level info', policies: 'catch-all', logLevel: 'info' },
  {
    setup: 'gateway, default policy, auth, no rate limits',
    policies: 'default-no-limits',
    logLevel: 'info',
  },
  {
    setup: 'gateway, default policy, auth and three rate-limit layers on memory',
    policies: 'default',
    logLevel: 'info',
  },
  {
    setup: 'gateway, default policy, auth and three rate-limit layers on Redis',
    policies: 'default',
    logLevel: 'info',
    redis: true,
  },
];

/**
 * Measures the minimal upstream directly, through the catch-all gateway at warn and at info,
 * and through the gateway with its default policy: a token on every request, without and with
 * its rate limits, the latter on memory and on a Redis server that the group starts itself.
 */
export async function runGatewayGroup(context) {
  const { process: upstream, url: upstreamUrl } = await context.startMinimalUpstream();
  const upstreamName = 'minimal';
  const rows = [
    await measure(context, { setup: 'direct', upstreamName, url: upstreamUrl, upstream }),
  ];
  for (const [index, { redis: withRedis, ...gateway }] of GATEWAY_SETUPS.entries()) {
    const redis = withRedis ? await startRedis(context) : undefined;
    const start = () =>
      context.startGateway({
        name: `gateway-${index + 1}`,
        upstreamUrl,
        redisPort: redis?.port,
        ...gateway,
      });
    try {
      const row = { setup: gateway.setup, upstreamName, upstream, redis };
      rows.push(await measureProxy(context, start, row));
    } finally {
      await redis?.process.stop();
    }
  }
  await upstream.stop();
  return rows;
}

/** Measures the sample RAG backend directly and through the gateway with its default policy. */
export async function runRagGroup(context) {
  const { process: upstream, url: upstreamUrl } = await context.startRagBackend();
  const upstreamName = 'sample RAG backend';
  const rows = [
    await measure(context, { setup: 'direct', upstreamName, url: upstreamUrl, upstream }),
  ];
  const start = () =>
    context.startGateway({
      name: 'gateway-rag',
      upstreamUrl,
      policies: 'default',
      logLevel: 'info',
    });
  rows.push(
    await measureProxy(context, start, {
      setup: 'gateway, default policy, auth and three rate-limit layers on memory',
      upstreamName,
      upstream,
    }),
  );
  await upstream.stop();
  return rows;
}

/** Measures the forwarding libraries alone: bare undici and http-proxy-3 proxies. */
export async function runForwardingGroup(context) {
  const { process: upstream, url: upstreamUrl } = await context.startMinimalUpstream();
  const upstreamName = 'minimal';
  const proxies = [
    { setup: 'bare undici Pool.stream', name: 'undici proxy', script: 'undici-proxy.mjs' },
    {
      setup: 'bare http-proxy-3 web(), keep-alive agent',
      name: 'http-proxy-3 proxy',
      script: 'http-proxy-3-proxy.mjs',
    },
  ];
  const rows = [];
  for (const proxy of proxies) {
    const start = () => context.startBareProxy(proxy.name, proxy.script, upstreamUrl);
    rows.push(await measureProxy(context, start, { setup: proxy.setup, upstreamName, upstream }));
  }
  await upstream.stop();
  return rows;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const MEDIAN_FIELDS = [
  'requestsPerSecond',
  'p50',
  'p99',
  'proxyCpuMicroseconds',
  'upstreamCpuMicroseconds',
  'loadGeneratorCpuMicroseconds',
  'redisCpuMicroseconds',
  'redisCommandsPerRequest',
  'otherCpus',
];

/**
 * Combines the rows of several rounds of one group, row by row: the median of each measured
 * column, the range of the proxy's CPU per request, and the failures of all rounds added up.
 */
export function combineRounds(rounds) {
  return rounds[0].map((first, index) => {
    const rows = rounds.map((round) => round[index]);
    const combined = { ...first, rounds: rows.length };
    for (const field of MEDIAN_FIELDS) {
      const values = rows.map((row) => row[field]);
      combined[field] = values.includes(undefined) ? undefined : median(values);
    }
    const proxyCpu = rows.map((row) => row.proxyCpuMicroseconds);
    combined.proxyCpuRange = proxyCpu.includes(undefined)
      ? undefined
      : [Math.min(...proxyCpu), Math.max(...proxyCpu)];
    combined.failed = rows.reduce((sum, row) => sum + row.failed, 0);
    return combined;
  });
}

function formatNumber(value) {
  return value === undefined ? '–' : String(Math.round(value));
}

function formatRange(range) {
  return range === undefined ? '–' : range.map(formatNumber).join('–');
}

/**
 * Formats rows from measure() or combineRounds() as a Markdown table. The Redis columns appear
 * only when a row ran with Redis.
 */
export function markdownTable(rows) {
  const withRedis = rows.some((row) => row.redisCommandsPerRequest !== undefined);
  const header = [
    'Setup',
    'Upstream',
    'Req/s',
    'p50 ms',
    'p99 ms',
    'Proxy CPU µs/req',
    'Proxy CPU range',
    'Upstream CPU µs/req',
    'Load generator CPU µs/req',
    'Other CPU load',
    'Failed',
    ...(withRedis ? ['Redis CPU µs/req', 'Redis commands/req'] : []),
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`];
  for (const row of rows) {
    const cells = [
      row.setup,
      row.upstream,
      formatNumber(row.requestsPerSecond),
      String(row.p50),
      String(row.p99),
      formatNumber(row.proxyCpuMicroseconds),
      formatRange(row.proxyCpuRange),
      formatNumber(row.upstreamCpuMicroseconds),
      formatNumber(row.loadGeneratorCpuMicroseconds),
      row.otherCpus.toFixed(2),
      String(row.failed),
    ];
    if (withRedis) {
      cells.push(formatNumber(row.redisCpuMicroseconds), formatCommands(row));
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * Formats the commands per request that the gateway sent to Redis, each command's share, the
 * commands its scripts ran, and the store's switches during the timed run. The details come
 * from one round.
 */
function formatCommands(row) {
  if (row.redisCommandsPerRequest === undefined) return '–';
  const perRequest = (counts) =>
    Object.entries(counts)
      .map(([name, calls]) => `${name} ${(calls / row.completed).toFixed(3)}`)
      .join(', ');
  return (
    `${row.redisCommandsPerRequest.toFixed(3)} (${perRequest(row.redisCommands.sent)}); ` +
    `in scripts: ${perRequest(row.redisCommands.inScripts)}; ` +
    `store switches: ${row.storeSwitches}`
  );
}
