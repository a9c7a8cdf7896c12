// Measures the encryption API: encrypt and decrypt throughput (MB/s) and calls per second for
// 100 B, 1 KiB, 1 MiB and 10 MiB inputs. Each input goes through a gateway process over HTTP
// (JSON and streaming forms, load from autocannon or undici), through the in-process
// EncryptionService, and through raw node:crypto AES-256-GCM, in the same run. Then it measures
// the peak RSS growth of a gateway process during one 10 MiB encryption and decryption in each
// form. Prints Markdown tables.
// Usage: node bench/crypto.mjs [--duration 5] [--warmup 1] [--sizes 100,1024,...] [--skip-http]
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Pool, request } from 'undici';
import { buildIfNeeded } from './build.mjs';
import { BenchProcess, freePort, machineBusySeconds, ownCpuSeconds } from './processes.mjs';

const USAGE = `Usage: node bench/crypto.mjs [options]

Options:
  --duration S     Length of each timed run, in seconds (default 5)
  --warmup S       Length of the warm-up before each HTTP run, in seconds (default 1)
  --sizes LIST     Plaintext sizes in bytes, comma-separated (default 100,1024,1048576,10485760)
  --skip-http      Measure only in this process (service and node:crypto)
  --skip-memory    Leave out the peak RSS measurement
  -h, --help       Print this help
`;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist/src/cli.js');
const MIB = 1024 * 1024;
const TOKEN = 'bench-caller-token-'.repeat(3);
const CONTEXT = 'file:bench-user';
const AAD = 'doc:1';
/** Bytes per write of the streaming form, as a client reading a file would send them. */
const STREAM_CHUNK_BYTES = 64 * 1024;
/** Connections of autocannon: enough to keep one gateway core busy with small inputs. */
const SMALL_CONNECTIONS = 10;
/**
 * Inputs from this size on are sent by undici over LARGE_CONNECTIONS, because autocannon parses
 * responses in JavaScript and, on this 2-CPU machine, took more CPU for a 1 MiB body than the
 * gateway did.
 */
const LARGE_INPUT_BYTES = 64 * 1024;
const LARGE_CONNECTIONS = 2;
// The gateway closes a client connection after this many requests; autocannon reconnects then.
const MAX_REQUESTS_PER_SOCKET = 1000;

function positiveNumber(text, flag) {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${flag} must be a positive number, got "${text}"`);
  }
  return value;
}

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      sizes: { type: 'string', default: `100,1024,${MIB},${10 * MIB}` },
      'skip-http': { type: 'boolean', default: false },
      'skip-memory': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  return {
    help: values.help,
    duration: positiveNumber(values.duration, '--duration'),
    warmup: positiveNumber(values.warmup, '--warmup'),
    sizes: values.sizes.split(',').map((size) => positiveNumber(size, '--sizes')),
    skipHttp: values['skip-http'],
    skipMemory: values['skip-memory'],
  };
}

function sizeLabel(bytes) {
  if (bytes >= MIB) return `${bytes / MIB} MiB`;
  if (bytes >= 1024) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

/** Share of each in-process measurement spent first, unmeasured, so that V8 has optimised. */
const IN_PROCESS_WARMUP_SHARE = 0.2;

/**
 * Runs `operation` for a fifth of `seconds` to warm up, then for `seconds` (at least 3 times),
 * and returns calls per second of the second part.
 */
function callsPerSecond(operation, seconds) {
  const warmupEnd = performance.now() + seconds * IN_PROCESS_WARMUP_SHARE * 1000;
  while (performance.now() < warmupEnd) operation();
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  let calls = 0;
  while (calls < 3 || performance.now() < deadline) {
    operation();
    calls++;
  }
  return calls / ((performance.now() - start) / 1000);
}

/**
 * AES-256-GCM over the whole input as one message, as an application would call node:crypto:
 * `joined` passes the input to one update() and joins the output into one buffer, `chunked`
 * passes it in STREAM_CHUNK_BYTES pieces and keeps the pieces, as the streaming form does.
 */
function rawAesGcm(plaintext, { chunked }) {
  const key = randomBytes(32);
  const aad = Buffer.from(AAD);
  const run = (transform, input) => {
    if (!chunked) return Buffer.concat([transform.update(input), transform.final()]);
    const parts = [];
    for (let offset = 0; offset < input.length; offset += STREAM_CHUNK_BYTES) {
      parts.push(transform.update(input.subarray(offset, offset + STREAM_CHUNK_BYTES)));
    }
    parts.push(transform.final());
    return parts;
  };
  const encrypt = () => {
    const cipher = createCipheriv('aes-256-gcm', key, randomBytes(12));
    cipher.setAAD(aad);
    return { ciphertext: run(cipher, plaintext), tag: cipher.getAuthTag() };
  };
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  const decrypt = () => {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return run(decipher, ciphertext);
  };
  return { encrypt, decrypt };
}

/** Creates the compiled EncryptionService over one fresh key, as the gateway builds it. */
async function inProcessService() {
  const { EncryptionService } = await import(
    path.join(root, 'dist/src/crypto/encryption-service.js')
  );
  const { Keyring } = await import(path.join(root, 'dist/src/crypto/keyring.js'));
  const keyring = new Keyring([{ version: 1, material: randomBytes(32) }], {
    minVersion: 1,
    contextKeyCacheSize: 1000,
  });
  return new EncryptionService({ keyring, maxPayloadBytes: 64 * MIB, warnAfterMessages: 2 ** 32 });
}

function streamThrough(transform, input) {
  const parts = [];
  for (let offset = 0; offset < input.length; offset += STREAM_CHUNK_BYTES) {
    parts.push(...transform.update(input.subarray(offset, offset + STREAM_CHUNK_BYTES)));
  }
  const last = transform.final();
  parts.push(...(Array.isArray(last) ? last : [last]));
  return parts;
}

function measureInProcess(service, plaintext, seconds) {
  const aad = Buffer.from(AAD);
  const joined = rawAesGcm(plaintext, { chunked: false });
  const chunked = rawAesGcm(plaintext, { chunked: true });
  const text = service.encrypt(CONTEXT, plaintext, aad);
  const sealer = service.startEncryptStream(CONTEXT, aad);
  const stream = Buffer.concat([sealer.header, ...streamThrough(sealer, plaintext)]);
  return [
    {
      path: 'node:crypto AES-256-GCM, one message, output joined',
      encrypt: callsPerSecond(joined.encrypt, seconds),
      decrypt: callsPerSecond(joined.decrypt, seconds),
    },
    {
      path: 'node:crypto AES-256-GCM, one message, 64 KiB updates',
      encrypt: callsPerSecond(chunked.encrypt, seconds),
      decrypt: callsPerSecond(chunked.decrypt, seconds),
    },
    {
      path: 'service in process, text form',
      encrypt: callsPerSecond(() => service.encrypt(CONTEXT, plaintext, aad), seconds),
      decrypt: callsPerSecond(() => service.decrypt(CONTEXT, text, aad), seconds),
    },
    {
      path: 'service in process, streaming form',
      encrypt: callsPerSecond(() => {
        const callSealer = service.startEncryptStream(CONTEXT, aad);
        streamThrough(callSealer, plaintext);
      }, seconds),
      decrypt: callsPerSecond(
        () => streamThrough(service.startDecryptStream(CONTEXT, aad), stream),
        seconds,
      ),
    },
  ];
}

function gatewayConfig(workDir) {
  return `listeners:
  public: { host: 127.0.0.1 }
  admin: { host: 127.0.0.1 }
limits:
  max_requests_per_socket: ${MAX_REQUESTS_PER_SOCKET}
upstream:
  url: http://127.0.0.1:9
logging:
  level: warn
policies:
  dir: policies
crypto:
  enabled: true
  max_payload_bytes: 16MiB
  keys: [{ version: 1, file: ${path.join(workDir, 'crypto-key-v1')} }]
  callers:
    - { name: bench, token_file: ${path.join(workDir, 'bench.token')}, context_prefixes: ['file:'] }
`;
}

async function writeGatewayFiles(workDir) {
  await mkdir(path.join(workDir, 'policies'));
  await writeFile(
    path.join(workDir, 'policies/routes.yaml'),
    'version: 1\nroutes:\n  - name: none\n    match: { path: /none }\n    auth: none\n',
  );
  await writeFile(path.join(workDir, 'crypto-key-v1'), randomBytes(32).toString('base64'));
  await writeFile(path.join(workDir, 'bench.token'), TOKEN);
  const configFile = path.join(workDir, 'gateway.yaml');
  await writeFile(configFile, gatewayConfig(workDir));
  return configFile;
}

/**
 * Starts `dist/src/cli.js serve` on free loopback ports, with `nodeArgs` before the script, and
 * waits for its liveness check.
 */
async function startGateway(name, configFile, workDir, processes, nodeArgs = []) {
  const [publicPort, adminPort] = [await freePort(), await freePort()];
  const gateway = BenchProcess.spawn({
    name,
    args: [...nodeArgs, cli, 'serve', '--config', configFile],
    env: {
      AGENTFLOW_GATEWAY_LISTEN_PORT: String(publicPort),
      AGENTFLOW_GATEWAY_ADMIN_PORT: String(adminPort),
    },
    logDir: workDir,
    cwd: root,
  });
  processes.push(gateway);
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  // The upstream does not exist, so readiness fails; liveness is enough for the API.
  await gateway.waitForOk(`${adminUrl}/healthz`);
  return { gateway, adminUrl };
}

const AUTHORIZATION = { authorization: `Bearer ${TOKEN}` };
const STREAM_QUERY = `?context=${CONTEXT}&aad=${encodeURIComponent(AAD)}`;

/** Returns the request of each HTTP form and operation, encrypting once to get decrypt input. */
async function httpRequests(adminUrl, plaintext) {
  const json = { ...AUTHORIZATION, 'content-type': 'application/json' };
  const octets = { ...AUTHORIZATION, 'content-type': 'application/octet-stream' };
  const encryptBody = JSON.stringify({
    context: CONTEXT,
    plaintext: plaintext.toString('base64'),
    aad: AAD,
  });
  const sealed = await request(`${adminUrl}/v1/crypto/encrypt`, {
    method: 'POST',
    headers: json,
    body: encryptBody,
  });
  const { ciphertext } = await sealed.body.json();
  const stream = await request(`${adminUrl}/v1/crypto/encrypt${STREAM_QUERY}`, {
    method: 'POST',
    headers: octets,
    body: plaintext,
  });
  const streamCiphertext = Buffer.from(await stream.body.arrayBuffer());
  return [
    {
      path: 'HTTP, JSON form',
      encrypt: { path: '/v1/crypto/encrypt', headers: json, body: encryptBody },
      decrypt: {
        path: '/v1/crypto/decrypt',
        headers: json,
        body: JSON.stringify({ context: CONTEXT, ciphertext, aad: AAD }),
      },
    },
    {
      path: 'HTTP, streaming form',
      encrypt: { path: `/v1/crypto/encrypt${STREAM_QUERY}`, headers: octets, body: plaintext },
      decrypt: {
        path: `/v1/crypto/decrypt${STREAM_QUERY}`,
        headers: octets,
        body: streamCiphertext,
      },
    },
  ];
}

function runAutocannon(adminUrl, call, connections, duration) {
  return autocannon({
    url: `${adminUrl}${call.path}`,
    method: 'POST',
    headers: call.headers,
    body: call.body,
    connections,
    reconnectRate: MAX_REQUESTS_PER_SOCKET,
    duration,
  });
}

/** Raises unless every response of an autocannon run was 200. */
function checkAllOk(result, label) {
  const other = Object.entries(result.statusCodeStats)
    .filter(([status]) => status !== '200')
    .map(([status, { count }]) => `${count} × ${status}`);
  if (result.errors > 0) other.push(`${result.errors} errors`);
  if (result.timeouts > 0) other.push(`${result.timeouts} timeouts`);
  if (other.length > 0 || result.requests.total === 0) {
    throw new Error(`${label}: ${other.join(', ') || 'no responses'}`);
  }
}

/**
 * Sends `call` over LARGE_CONNECTIONS undici connections, one request after another on each, for
 * `seconds`, reading every response body to its end. Returns the calls completed and the
 * seconds taken; raises on any status but 200.
 */
async function runUndici(adminUrl, call, seconds, label) {
  const pool = new Pool(adminUrl, { connections: LARGE_CONNECTIONS });
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let calls = 0;
  try {
    await Promise.all(
      Array.from({ length: LARGE_CONNECTIONS }, async () => {
        while (performance.now() < deadline) {
          const { path: urlPath, headers, body } = call;
          const response = await pool.request({ path: urlPath, method: 'POST', headers, body });
          for await (const chunk of response.body) void chunk;
          if (response.statusCode !== 200) throw new Error(`${label}: ${response.statusCode}`);
          calls++;
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return { calls, seconds: (performance.now() - started) / 1000 };
}

/** Runs `call` for `seconds` with autocannon for small inputs, else undici; raises unless 200. */
async function runLoad(adminUrl, call, size, seconds, label) {
  if (size >= LARGE_INPUT_BYTES) return runUndici(adminUrl, call, seconds, label);
  const result = await runAutocannon(adminUrl, call, SMALL_CONNECTIONS, seconds);
  checkAllOk(result, label);
  return { calls: result.requests.total, seconds: result.duration };
}

async function measureHttp(adminUrl, gateway, plaintext, options) {
  const rows = [];
  for (const form of await httpRequests(adminUrl, plaintext)) {
    const row = { path: form.path, cpuMs: {} };
    for (const operation of ['encrypt', 'decrypt']) {
      const label = `${form.path} ${operation} ${sizeLabel(plaintext.length)}`;
      console.error(`measuring: ${label}`);
      const call = form[operation];
      await runLoad(adminUrl, call, plaintext.length, options.warmup, label);
      const cpuBefore = gateway.cpuSeconds();
      const { calls, seconds } = await runLoad(
        adminUrl,
        call,
        plaintext.length,
        options.duration,
        label,
      );
      row[operation] = calls / seconds;
      row.cpuMs[operation] = ((gateway.cpuSeconds() - cpuBefore) / calls) * 1000;
    }
    rows.push(row);
  }
  return rows;
}

/** Encrypts `plaintext` and decrypts the result in `form` (JSON or streaming), one call each. */
async function exchangeOnce(adminUrl, form, plaintext) {
  const post = async (urlPath, headers, body) => {
    const response = await request(`${adminUrl}${urlPath}`, { method: 'POST', headers, body });
    const bytes = Buffer.from(await response.body.arrayBuffer());
    if (response.statusCode !== 200) throw new Error(`${form} ${urlPath}: ${response.statusCode}`);
    return bytes;
  };
  if (form === 'streaming') {
    const octets = { ...AUTHORIZATION, 'content-type': 'application/octet-stream' };
    const sealed = await post(`/v1/crypto/encrypt${STREAM_QUERY}`, octets, plaintext);
    await post(`/v1/crypto/decrypt${STREAM_QUERY}`, octets, sealed);
    return;
  }
  const json = { ...AUTHORIZATION, 'content-type': 'application/json' };
  const sealed = await post(
    '/v1/crypto/encrypt',
    json,
    JSON.stringify({ context: CONTEXT, plaintext: plaintext.toString('base64'), aad: AAD }),
  );
  const { ciphertext } = JSON.parse(sealed.toString('utf8'));
  await post(
    '/v1/crypto/decrypt',
    json,
    JSON.stringify({ context: CONTEXT, ciphertext, aad: AAD }),
  );
}

/**
 * Node options that make V8 collect garbage every 5 ms, so that the peak RSS shows what requests
 * hold rather than garbage not yet collected, as test/e2e/large-bodies.test.ts does.
 */
const FREQUENT_GC = [
  '--expose-gc',
  '--import',
  'data:text/javascript,setInterval(globalThis.gc,5).unref()',
];

/**
 * Starts a fresh gateway with `nodeArgs`, runs one 1 MiB exchange to warm it up, then returns how
 * far its peak RSS (VmHWM) rose above its RSS, in MiB, during one 10 MiB encryption and
 * decryption in `form`.
 */
async function peakGrowth(form, configFile, workDir, processes, nodeArgs) {
  const name = `memory-${form}`;
  const { gateway, adminUrl } = await startGateway(name, configFile, workDir, processes, nodeArgs);
  try {
    await exchangeOnce(adminUrl, form, randomBytes(MIB));
    const plaintext = randomBytes(10 * MIB);
    // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux proc(5)).
    await writeFile(`/proc/${gateway.pid}/clear_refs`, '5');
    const before = statusBytes(gateway.pid, 'VmRSS');
    await exchangeOnce(adminUrl, form, plaintext);
    return (statusBytes(gateway.pid, 'VmHWM') - before) / MIB;
  } finally {
    await gateway.stop();
  }
}

/** Reads a field of /proc/PID/status, in bytes. */
function statusBytes(pid, field) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)[1]) * 1024;
}

function throughputTable(results) {
  const header = [
    'Size',
    'Path',
    'Encrypt calls/s',
    'Encrypt MB/s',
    'Decrypt calls/s',
    'Decrypt MB/s',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`];
  for (const { size, rows } of results) {
    for (const row of rows) {
      const mbps = (calls) => ((calls * size) / 1e6).toFixed(size >= MIB ? 0 : 2);
      lines.push(
        `| ${sizeLabel(size)} | ${row.path} | ${Math.round(row.encrypt)} | ${mbps(row.encrypt)} | ` +
          `${Math.round(row.decrypt)} | ${mbps(row.decrypt)} |`,
      );
    }
  }
  return lines.join('\n');
}

/**
 * Formats the gateway CPU time per call of the HTTP rows, which shows whether the gateway or the
 * client limits the throughput.
 */
function cpuTable(results) {
  const lines = [
    '| Size | Path | Gateway CPU ms per encrypt | Gateway CPU ms per decrypt |',
    '| --- | --- | --- | --- |',
  ];
  for (const { size, rows } of results) {
    for (const row of rows.filter((entry) => entry.cpuMs !== undefined)) {
      lines.push(
        `| ${sizeLabel(size)} | ${row.path} | ${row.cpuMs.encrypt.toFixed(2)} | ` +
          `${row.cpuMs.decrypt.toFixed(2)} |`,
      );
    }
  }
  return lines.join('\n');
}

/**
 * Formats each path's calls per second as a share of the first row, raw node:crypto with its
 * output joined, on the same input.
 */
function ratioTable(results) {
  const lines = [
    'Calls per second as a share of node:crypto with its output joined, on the same input:',
    '',
    '| Size | Path | Encrypt | Decrypt |',
    '| --- | --- | --- | --- |',
  ];
  for (const { size, rows } of results) {
    const raw = rows[0];
    for (const row of rows.slice(1)) {
      const share = (operation) => `${((row[operation] / raw[operation]) * 100).toFixed(1)} %`;
      lines.push(
        `| ${sizeLabel(size)} | ${row.path} | ${share('encrypt')} | ${share('decrypt')} |`,
      );
    }
  }
  return lines.join('\n');
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  buildIfNeeded(root, [cli, path.join(root, 'dist/src/crypto/encryption-service.js')]);
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'agentflow-bench-crypto-'));
  const processes = [];
  try {
    const configFile = await writeGatewayFiles(workDir);
    const service = await inProcessService();
    const http = options.skipHttp
      ? undefined
      : await startGateway('gateway', configFile, workDir, processes);
    // CPU time of the machine and of the processes under test, to report how busy the rest of
    // the machine was: the throughput rows share the two CPUs with it.
    const startedAt = performance.now();
    const busyBefore = machineBusySeconds();
    const ownBefore = ownCpuSeconds();
    const gatewayBefore = http?.gateway.cpuSeconds() ?? 0;
    const results = [];
    for (const size of options.sizes) {
      const plaintext = randomBytes(size);
      console.error(`measuring: in process, ${sizeLabel(size)}`);
      const rows = measureInProcess(service, plaintext, options.duration);
      if (http !== undefined) {
        rows.push(...(await measureHttp(http.adminUrl, http.gateway, plaintext, options)));
      }
      results.push({ size, rows });
    }
    const ours = ownCpuSeconds() - ownBefore + (http?.gateway.cpuSeconds() ?? 0) - gatewayBefore;
    const otherLoad =
      (machineBusySeconds() - busyBefore - ours) / ((performance.now() - startedAt) / 1000);
    await http?.gateway.stop();
    const cpu = os.cpus();
    console.log(
      `Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
    );
    console.log(`Command: node bench/crypto.mjs ${process.argv.slice(2).join(' ')}`.trimEnd());
    console.log(
      `Other CPU load during the throughput runs: ${Math.max(0, otherLoad).toFixed(2)} CPUs`,
    );
    console.log(`\n${throughputTable(results)}\n\n${ratioTable(results)}`);
    if (http !== undefined) console.log(`\n${cpuTable(results)}`);
    if (!options.skipMemory && !options.skipHttp) {
      console.error('measuring: peak RSS growth');
      const lines = [
        '| Form | Peak RSS growth, default GC | Peak RSS growth, GC every 5 ms |',
        '| --- | --- | --- |',
      ];
      for (const form of ['json', 'streaming']) {
        const growth = [];
        for (const nodeArgs of [[], FREQUENT_GC]) {
          growth.push(await peakGrowth(form, configFile, workDir, processes, nodeArgs));
        }
        lines.push(`| ${form} | ${growth.map((mib) => `${mib.toFixed(1)} MiB`).join(' | ')} |`);
      }
      console.log(`\n${lines.join('\n')}`);
    }
  } finally {
    for (const child of processes) await child.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
