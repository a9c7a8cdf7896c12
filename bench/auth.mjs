// Measures what verifying a bearer token costs the gateway: RS256 and ES256 static keys, with the
// verified-token cache on and off, next to a route with `auth: none`. Prints a Markdown table.
// Usage: node bench/auth.mjs [--duration 10] [--connections 50] [--warmup 3]
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { buildIfNeeded } from './build.mjs';
import { BenchProcess, freePort, machineBusySeconds, ownCpuSeconds } from './processes.mjs';
import { QUERY_REQUEST } from './suite.mjs';

const USAGE = `Usage: node bench/auth.mjs [options]

Options:
  --duration S      Length of each timed run, in seconds (default 10)
  --connections N   Concurrent connections of the load generator (default 50)
  --warmup S        Length of the warm-up before each timed run, in seconds (default 3)
  -h, --help        Print this help
`;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const MICROSECONDS_PER_SECOND = 1e6;
// The gateway closes a client connection after this many requests, and Node 20 responds with 503
// to any request past it on that connection. autocannon reconnects after the same number, as in
// bench/suite.mjs.
const MAX_REQUESTS_PER_SOCKET = 1000;
const AUDIENCE = 'agentflow-bench';
const PROTECTED_PATH = QUERY_REQUEST.path;
const OPEN_PATH = '/open/rag/query';

const ISSUERS = [
  { name: 'bench-rs256', alg: 'RS256', keyOptions: { modulusLength: 2048 } },
  { name: 'bench-es256', alg: 'ES256', keyOptions: {} },
];

// The route `token-required` verifies every request's token with any configured issuer, and
// `no-auth` reads no token. No rate-limit layer is defined, so none applies, and response
// scanning is off so that only token verification differs between the rows.
const POLICY = `version: 1
routes:
  - name: token-required
    match: { methods: [POST], path: ${PROTECTED_PATH} }
    auth: required
    response: { enabled: false }
  - name: no-auth
    match: { methods: [POST], path: ${OPEN_PATH} }
    auth: none
    response: { enabled: false }
`;

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
      connections: { type: 'string', default: '50' },
      warmup: { type: 'string', default: '3' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  return {
    help: values.help,
    duration: positiveInteger(values.duration, '--duration'),
    connections: positiveInteger(values.connections, '--connections'),
    warmup: positiveInteger(values.warmup, '--warmup'),
  };
}

/**
 * Generates a key pair for `issuer.alg`, writes its public key as an SPKI PEM file into
 * `workDir`, and signs one token that the gateway accepts for one hour.
 */
async function createIssuer(workDir, issuer) {
  const { publicKey, privateKey } = await generateKeyPair(issuer.alg, issuer.keyOptions);
  const keyFile = `${issuer.name}-public.pem`;
  await writeFile(path.join(workDir, keyFile), await exportSPKI(publicKey));
  const iss = `urn:agentflow-gateway:${issuer.name}`;
  const token = await new SignJWT({ roles: ['user'] })
    .setProtectedHeader({ alg: issuer.alg, kid: issuer.name, typ: 'JWT' })
    .setIssuer(iss)
    .setAudience(AUDIENCE)
    .setSubject('bench-user')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
  return { ...issuer, iss, keyFile, token };
}

/** Returns the text of a gateway configuration file. `maxEntries` 0 turns the token cache off. */
function gatewayConfig({ upstreamUrl, issuers, maxEntries }) {
  const issuerLines = issuers.map((issuer) =>
    [
      `    - name: ${issuer.name}`,
      `      issuer: ${issuer.iss}`,
      `      audiences: [${AUDIENCE}]`,
      `      algorithms: [${issuer.alg}]`,
      `      keys: [{ file: ${issuer.keyFile}, kid: ${issuer.name} }]`,
    ].join('\n'),
  );
  // The listener ports come from the environment when the gateway starts.
  return `listeners:
  public: { host: 127.0.0.1 }
  admin: { host: 127.0.0.1 }
limits:
  max_requests_per_socket: ${MAX_REQUESTS_PER_SOCKET}
upstream:
  url: ${upstreamUrl}
auth:
  token_cache: { max_entries: ${maxEntries} }
  issuers:
${issuerLines.join('\n')}
logging:
  level: warn
policies:
  dir: policies
`;
}

/** Writes the policy and one configuration file per cache setting into `workDir`. */
async function writeGatewayFiles(workDir, upstreamUrl, issuers) {
  const policiesDir = path.join(workDir, 'policies');
  await mkdir(policiesDir, { recursive: true });
  await writeFile(path.join(policiesDir, 'routes.yaml'), POLICY);
  const configFiles = {};
  for (const [cache, maxEntries] of [
    ['on', 10_000],
    ['off', 0],
  ]) {
    configFiles[cache] = path.join(workDir, `gateway-cache-${cache}.yaml`);
    await writeFile(configFiles[cache], gatewayConfig({ upstreamUrl, issuers, maxEntries }));
  }
  return { policiesDir, configFiles };
}

async function startUpstream(workDir, processes) {
  const upstream = BenchProcess.spawn({
    name: 'upstream',
    args: [path.join(root, 'bench/upstream.mjs')],
    logDir: workDir,
    cwd: root,
  });
  processes.push(upstream);
  const { url } = await upstream.waitForLogLine('upstream listening');
  return { upstream, url };
}

async function startGateway({ name, configFile, policiesDir, workDir, processes }) {
  const [publicPort, adminPort] = [await freePort(), await freePort()];
  const gateway = BenchProcess.spawn({
    name,
    args: [
      path.join(root, 'dist/src/cli.js'),
      'serve',
      '--config',
      configFile,
      '--policies',
      policiesDir,
    ],
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
  return { gateway, url: `http://127.0.0.1:${publicPort}` };
}

async function postQuery(url, authorization) {
  const headers = { ...QUERY_REQUEST.headers };
  if (authorization !== undefined) headers.authorization = authorization;
  const response = await fetch(url, { method: 'POST', headers, body: QUERY_REQUEST.body });
  await response.arrayBuffer();
  return response.status;
}

/**
 * Checks that the route behaves as the setup assumes before load is sent: a protected route
 * rejects a request without a token and accepts the token, and the open route accepts a request
 * without one. Raises on any other status.
 */
async function checkRoute(setup, url) {
  const expected = [[undefined, setup.protected ? 401 : 200]];
  if (setup.protected) expected.push([`Bearer ${setup.token}`, 200]);
  for (const [authorization, status] of expected) {
    const actual = await postQuery(url, authorization);
    if (actual !== status) {
      const withToken = authorization === undefined ? 'without a token' : 'with the token';
      throw new Error(
        `${setup.label}: POST ${new URL(url).pathname} ${withToken} returned ${actual}, ` +
          `expected ${status}`,
      );
    }
  }
}

function runLoad(url, token, options, duration) {
  return autocannon({
    url,
    method: QUERY_REQUEST.method,
    headers: { ...QUERY_REQUEST.headers, authorization: `Bearer ${token}` },
    body: QUERY_REQUEST.body,
    connections: options.connections,
    reconnectRate: MAX_REQUESTS_PER_SOCKET,
    duration,
  });
}

/** Counts the responses of an autocannon result by status, and the errors and timeouts. */
function responseCheck(result) {
  let ok = 0;
  const other = [];
  for (const [status, { count }] of Object.entries(result.statusCodeStats)) {
    if (status === '200') ok = count;
    else other.push(`${count} × ${status}`);
  }
  if (result.errors > 0) other.push(`${result.errors} errors`);
  if (result.timeouts > 0) other.push(`${result.timeouts} timeouts`);
  return { ok, allOk: ok > 0 && other.length === 0, other };
}

function cpuSnapshot(gateway, upstream) {
  return {
    gateway: gateway.cpuSeconds(),
    upstream: upstream.cpuSeconds(),
    loadGenerator: ownCpuSeconds(),
    machine: machineBusySeconds(),
  };
}

/**
 * Starts a gateway for `setup`, checks its route, warms it up, then reads the gateway's CPU
 * time from /proc around the timed run. Raises when a warm-up response was not 200, or on an
 * error or timeout.
 */
async function measureSetup(setup, context) {
  const { options, upstream, files, workDir, processes } = context;
  console.error(`measuring: ${setup.label}`);
  const { gateway, url: gatewayUrl } = await startGateway({
    name: setup.name,
    configFile: files.configFiles[setup.cache],
    policiesDir: files.policiesDir,
    workDir,
    processes,
  });
  try {
    const url = `${gatewayUrl}${setup.protected ? PROTECTED_PATH : OPEN_PATH}`;
    await checkRoute(setup, url);
    const warmup = await runLoad(url, setup.token, options, options.warmup);
    const warmupCheck = responseCheck(warmup);
    if (!warmupCheck.allOk) {
      throw new Error(
        `${setup.label}: the warm-up got ${warmupCheck.other.join(', ') || 'no responses'} ` +
          `besides ${warmupCheck.ok} × 200; the gateway's output is in ${gateway.logFile}`,
      );
    }

    const before = cpuSnapshot(gateway, upstream);
    const result = await runLoad(url, setup.token, options, options.duration);
    const after = cpuSnapshot(gateway, upstream);

    const delta = (key) => after[key] - before[key];
    const completed = result.requests.total;
    // CPU that the rest of the machine used meanwhile, which the processes under test shared.
    const otherSeconds =
      delta('machine') - delta('gateway') - delta('upstream') - delta('loadGenerator');
    return {
      label: setup.label,
      requestsPerSecond: completed / result.duration,
      p50: result.latency.p50,
      p99: result.latency.p99,
      gatewayCpuMicroseconds: (delta('gateway') / completed) * MICROSECONDS_PER_SECOND,
      otherCpus: Math.max(0, otherSeconds) / result.duration,
      completed,
      check: responseCheck(result),
    };
  } finally {
    await gateway.stop();
  }
}

function markdownTable(rows) {
  const baseline = rows.find((row) => row.baseline).gatewayCpuMicroseconds;
  const header = [
    'Setup',
    'Req/s',
    'p50 ms',
    'p99 ms',
    'Gateway CPU µs/req',
    'Above `auth: none` µs/req',
    'Other CPU load',
    'Requests',
    'All 200',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`];
  for (const row of rows) {
    const extra = row.baseline ? '–' : String(Math.round(row.gatewayCpuMicroseconds - baseline));
    const cells = [
      row.label,
      String(Math.round(row.requestsPerSecond)),
      String(row.p50),
      String(row.p99),
      String(Math.round(row.gatewayCpuMicroseconds)),
      extra,
      row.otherCpus.toFixed(2),
      String(row.completed),
      row.check.allOk ? 'yes' : `no: ${row.check.other.join(', ')}`,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
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

function description(options, issuers) {
  const model = /^Model name:\s*(.+)$/m.exec(execFileSync('lscpu').toString())?.[1] ?? 'unknown';
  const tokenBytes = issuers.map((issuer) => `${issuer.alg} ${issuer.token.length}`).join(', ');
  return [
    `- Machine: ${os.availableParallelism()} CPUs (${model}), Node.js ${process.version}, ` +
      `load average before the run ${os
        .loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
    `- Gateway: dist/ built from ${gitDescription()}, log level warn, one process per row`,
    `- Load: autocannon, ${options.connections} connections, ${options.warmup} s warm-up, ` +
      `${options.duration} s timed, ${QUERY_REQUEST.method} with a ` +
      `${QUERY_REQUEST.body.length}-byte JSON body and \`Authorization: Bearer\``,
    `- Keys: RSA 2048-bit and P-256, static SPKI PEM keys; token length in bytes: ${tokenBytes}`,
  ].join('\n');
}

const NOTES = `Notes:

- "cache on" sends the same token on every request, so every request after the first is a
  cache hit that skips the signature check. "cache off" (\`token_cache.max_entries: 0\`)
  verifies the signature on every request.
- The \`auth: none\` row sends the RS256 token too, so its requests are as large as the RS256
  rows, but the gateway does not read the token.
- Gateway CPU µs/req is utime + stime of the gateway process from /proc/PID/stat after the timed
  run minus before, divided by the requests completed. The load generator, the upstream and the
  gateway share the machine's CPUs, so Req/s is no capacity figure for the gateway.
- Other CPU load is the machine's busy time less the gateway, upstream and load generator,
  divided by the run's length: 1.00 means one CPU was busy with something else.`;

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench/auth: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }

  buildIfNeeded(root, [path.join(root, 'dist/src/cli.js')]);
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'agentflow-bench-auth-'));
  const processes = [];
  const stopAll = () => Promise.all(processes.map((started) => started.stop()));
  const stop = () => void stopAll().then(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  let failed = false;
  try {
    const issuers = [];
    for (const issuer of ISSUERS) issuers.push(await createIssuer(workDir, issuer));
    const [rs256, es256] = issuers;
    const { upstream, url: upstreamUrl } = await startUpstream(workDir, processes);
    const files = await writeGatewayFiles(workDir, upstreamUrl, issuers);
    // NOTE: each cache-on row sends one token, so it measures cache hits only. Traffic with many
    // distinct tokens, where some requests miss the cache, is not measured.
    const setups = [
      { label: '`auth: none`', protected: false, cache: 'on', token: rs256.token, baseline: true },
      { label: 'RS256, cache on', protected: true, cache: 'on', token: rs256.token },
      { label: 'RS256, cache off', protected: true, cache: 'off', token: rs256.token },
      { label: 'ES256, cache on', protected: true, cache: 'on', token: es256.token },
      { label: 'ES256, cache off', protected: true, cache: 'off', token: es256.token },
    ].map((setup, index) => ({ ...setup, name: `gateway-${index + 1}` }));

    console.log(description(options, issuers));
    const context = { options, upstream, files, workDir, processes };
    const rows = [];
    for (const setup of setups) {
      rows.push({ ...(await measureSetup(setup, context)), baseline: setup.baseline === true });
    }
    console.log(`\n${markdownTable(rows)}\n\n${NOTES}`);
    if (rows.some((row) => !row.check.allOk)) {
      failed = true;
      console.error('bench/auth: some timed runs got responses other than 200; see "All 200"');
    }
  } catch (error) {
    failed = true;
    console.error(`bench/auth: ${error.message}`);
  } finally {
    await stopAll();
  }
  if (failed) console.error(`bench/auth: process output kept in ${workDir}`);
  else await rm(workDir, { recursive: true, force: true });
  return failed ? 1 : 0;
}

process.exitCode = await main();
