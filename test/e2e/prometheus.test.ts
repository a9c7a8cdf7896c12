import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { request } from 'undici';
import { startProxy } from '../helpers/e2e.js';
import { RULES_FILE } from '../monitoring/promql.js';
import { findExecutable, missingToolMessage } from '../monitoring/tools.js';

const HOST = '127.0.0.1';
const JOB = 'agentflow-gateway';
const REQUESTS = 3;
const READY_TIMEOUT_MS = 30_000;
const QUERY_TIMEOUT_MS = 30_000;
const POLL_MS = 250;
const STOP_TIMEOUT_MS = 10_000;

/** Every Prometheus process started here, so that a crashed test still kills them on exit. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) {
    try {
      process.kill(child.pid!, 'SIGKILL');
    } catch {
      // It exited between the check and the kill.
    }
  }
});

const prometheusPath = await findExecutable('prometheus');
const skip = prometheusPath === undefined ? missingToolMessage('prometheus') : false;

interface QueryResponse {
  status: string;
  error?: string;
  data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

interface RulesResponse {
  status: string;
  data?: { groups: { name: string; rules: { health: string; lastError?: string }[] }[] };
}

/**
 * Returns a loopback port that was free a moment ago. Prometheus binds it a little later, so
 * another process can take it first, and then Prometheus exits and the test fails.
 */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts Prometheus with a temporary folder for its configuration and TSDB, scraping
 * `target` (host:port) every second under job `agentflow-gateway` with the shipped rules, and
 * resolves once `/-/ready` returns 200.
 */
async function startPrometheus(target: string): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'agentflow-prometheus-'));
  const configFile = path.join(dir, 'prometheus.yml');
  await writeFile(
    configFile,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      `  - ${JSON.stringify(path.resolve(RULES_FILE))}`,
      'scrape_configs:',
      `  - job_name: ${JOB}`,
      '    static_configs:',
      `      - targets: [${JSON.stringify(target)}]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const child = spawn(
    prometheusPath!,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=${HOST}:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      process.kill(child.pid!, 'SIGTERM');
      const timer = setTimeout(() => process.kill(child.pid!, 'SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const url = `http://${HOST}:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(
        `prometheus exited with code ${child.exitCode} before it was ready:\n${output}`,
      );
    }
    try {
      const response = await request(`${url}/-/ready`);
      await response.body.dump();
      if (response.statusCode === 200) return { url, stop };
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus was not ready after ${READY_TIMEOUT_MS} ms:\n${output}`);
    }
    await sleep(POLL_MS);
  }
}

/** Runs an instant query through the HTTP API and returns its vector result. */
async function query(prometheusUrl: string, promql: string) {
  const response = await request(`${prometheusUrl}/api/v1/query`, {
    query: { query: promql },
  });
  const body = (await response.body.json()) as QueryResponse;
  if (body.status !== 'success') {
    throw new Error(`query ${promql} failed with status ${body.status}: ${body.error ?? ''}`);
  }
  return body.data?.result ?? [];
}

/**
 * Polls `read` every 250 ms until it returns something other than undefined, and returns that.
 * Throws when `QUERY_TIMEOUT_MS` passes first, with `description` and the last value seen.
 */
async function pollUntil<T>(
  read: () => Promise<{ value?: T; seen: unknown }>,
  description: string,
): Promise<T> {
  const deadline = Date.now() + QUERY_TIMEOUT_MS;
  for (;;) {
    const { value, seen } = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${QUERY_TIMEOUT_MS} ms waiting for ${description}. Last result: ` +
          JSON.stringify(seen),
      );
    }
    await sleep(POLL_MS);
  }
}

t.test('prometheus scrapes the gateway', { skip }, async (t) => {
  const { gw } = await startProxy(t);
  const prometheus = await startPrometheus(new URL(gw.adminUrl).host);
  t.teardown(() => prometheus.stop());

  for (let index = 0; index < REQUESTS; index++) {
    const response = await request(`${gw.url}/api/rag/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"hello"}',
    });
    await response.body.dump();
    t.equal(response.statusCode, 200, `request ${index + 1} is forwarded`);
  }

  const counter =
    `agentflow_gateway_requests_total{job="${JOB}", route="rag-query", method="POST", ` +
    'status_class="2xx"}';
  const value = await pollUntil(async () => {
    const result = await query(prometheus.url, counter);
    const sample = result[0]?.value[1];
    return { value: sample === String(REQUESTS) ? sample : undefined, seen: result };
  }, `${counter} to reach ${REQUESTS}`);
  t.equal(value, String(REQUESTS), 'Prometheus has the request count');

  const up = await query(prometheus.url, `up{job="${JOB}"}`);
  t.equal(up[0]?.value[1], '1', 'the scrape target is up');

  // The shipped rules load in a real Prometheus and their recording rules evaluate.
  const recorded = 'job_route:agentflow_gateway_requests:rate5m{route="rag-query"}';
  const series = await pollUntil(async () => {
    const result = await query(prometheus.url, recorded);
    return { value: result.length > 0 ? result : undefined, seen: result };
  }, `${recorded} to be recorded`);
  t.equal(series[0]?.metric['job'], JOB, 'the recording rule keeps the job label');

  const rulesResponse = await request(`${prometheus.url}/api/v1/rules`);
  const rules = (await rulesResponse.body.json()) as RulesResponse;
  const groups = rules.data?.groups ?? [];
  t.same(
    groups.map((group) => group.name).sort(),
    ['agentflow-gateway-alerts', 'agentflow-gateway-recording'],
    'both rule groups are loaded',
  );
  const failing = groups
    .flatMap((group) => group.rules)
    .filter((rule) => rule.health === 'err')
    .map((rule) => rule.lastError);
  t.same(failing, [], 'no rule fails to evaluate');
});
