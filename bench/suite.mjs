// The benchmark runs: processes, load and CPU accounting for each setup, and the tables.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import autocannon from 'autocannon';
import { parse as parseYaml } from 'yaml';
import { BenchProcess, freePort, machineBusySeconds, ownCpuSeconds } from './processes.mjs';

/** The request every run sends: a non-streaming RAG query, the route the default policy allows. */
export const QUERY_REQUEST = {
  method: 'POST',
  path: '/api/rag/query',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ query: 'How does AgentFlow handle document uploads?' }),
};

const CATCH_ALL_POLICY = `version: 1
routes:
  - name: catch-all
    match: { path_prefix: / }
`;

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
   * Starts the gateway with config/gateway.yaml on free loopback ports, in front of
   * `upstreamUrl`, and waits for /readyz. `policies` is `default` for policies/ or `catch-all`
   * for a single `path_prefix: /` route.
   */
  async startGateway({ name, upstreamUrl, policies, logLevel, nodeOptions = [] }) {
    let policiesDir = path.join(this.root, 'policies');
    if (policies === 'catch-all') {
      policiesDir = path.join(this.workDir, 'catch-all-policies');
      await mkdir(policiesDir, { recursive: true });
      await writeFile(path.join(policiesDir, 'routes.yaml'), CATCH_ALL_POLICY);
    }
    const [publicPort, adminPort] = [await freePort(), await freePort()];
    const cli = path.join(this.root, 'dist/src/cli.js');
    const config = path.join(this.root, 'config/gateway.yaml');
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
    return { process: started, url: `http://127.0.0.1:${publicPort}` };
  }

  startBareProxy(name, script, upstreamUrl) {
    const args = [path.join(this.root, 'bench', script), '--upstream', upstreamUrl];
    return this.startServer(name, args, `${name} listening`);
  }
}

function runLoad(context, baseUrl, duration) {
  const request = QUERY_REQUEST;
  return autocannon({
    url: `${baseUrl}${request.path}`,
    method: request.method,
    headers: request.headers,
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
 * Warms up, then runs the timed load against `url` and reads the CPU time of `proxy` (if any)
 * and `upstream` from /proc before and after it. Raises when the warm-up had a failure, since
 * the numbers of a misconfigured setup mean nothing.
 */
export async function measure(context, { setup, upstreamName, url, proxy, upstream }) {
  console.error(`measuring: ${setup} -> ${upstreamName} (${url})`);
  const warmup = await runLoad(context, url, context.warmup);
  if (failures(warmup) > 0 || warmup.requests.total === 0) {
    throw new Error(
      `${setup}: the warm-up had ${warmup.non2xx} non-2xx responses, ${warmup.errors} errors ` +
        `and ${warmup.timeouts} timeouts out of ${warmup.requests.total}; see ${context.workDir}`,
    );
  }

  const before = cpuSnapshot(proxy, upstream);
  const result = await runLoad(context, url, context.duration);
  const after = cpuSnapshot(proxy, upstream);

  const completed = result.requests.total;
  const delta = (key) => after[key] - before[key];
  // CPU the rest of the machine used meanwhile, which the processes under test competed with.
  const otherSeconds =
    delta('machine') - delta('proxy') - delta('upstream') - delta('loadGenerator');
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
    otherCpus: Math.max(0, otherSeconds) / result.duration,
  };
}

function cpuSnapshot(proxy, upstream) {
  return {
    proxy: proxy?.cpuSeconds() ?? 0,
    upstream: upstream.cpuSeconds(),
    loadGenerator: ownCpuSeconds(),
    machine: machineBusySeconds(),
  };
}

/** Measures one proxy process started by `start`, then stops it. */
async function measureProxy(context, start, row) {
  const { process: proxy, url } = await start();
  try {
    return await measure(context, { ...row, url, proxy });
  } finally {
    await proxy.stop();
  }
}

/**
 * Measures the minimal upstream directly, through the catch-all gateway at warn and at info, and
 * through the gateway with its default policy.
 */
export async function runGatewayGroup(context) {
  const { process: upstream, url: upstreamUrl } = await context.startMinimalUpstream();
  const upstreamName = 'minimal';
  const rows = [
    await measure(context, { setup: 'direct', upstreamName, url: upstreamUrl, upstream }),
  ];
  const gateways = [
    { setup: 'gateway, catch-all route, log level warn', policies: 'catch-all', logLevel: 'warn' },
    { setup: 'gateway, catch-all route, log level info', policies: 'catch-all', logLevel: 'info' },
    { setup: 'gateway, default config and policies', policies: 'default', logLevel: 'info' },
  ];
  for (const [index, gateway] of gateways.entries()) {
    const start = () =>
      context.startGateway({ name: `gateway-${index + 1}`, upstreamUrl, ...gateway });
    rows.push(await measureProxy(context, start, { setup: gateway.setup, upstreamName, upstream }));
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
      setup: 'gateway, default config and policies',
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

/** Formats rows from measure() or combineRounds() as a Markdown table. */
export function markdownTable(rows) {
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
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
