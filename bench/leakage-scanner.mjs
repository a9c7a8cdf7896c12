#!/usr/bin/env node
// Measures the response leak scanner's throughput in one process, without HTTP: JSON, text and
// SSE bodies go through the LeakageTransform that the gateway puts in front of each response.
// Run `npm run build` first: this imports dist/.
//
//   node bench/leakage-scanner.mjs [--seconds S] [--chunk-bytes N]
//
// Prints a Markdown table of megabytes (10^6 bytes) of body per second of wall time and of
// CPU time, with the default policy and with the default policy plus a system prompt and two
// canaries.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { answerJson, chatStream, PLANT_EVERY, prose } from './leakage/bodies.mjs';

const USAGE = `Usage: node bench/leakage-scanner.mjs [options]

Options:
  --seconds S       Timed seconds per row, after a warm-up of a third as long (default 3)
  --chunk-bytes N   Bytes per body chunk written to the scanner (default 16384)
  -h, --help        Print this help
`;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    'chunk-bytes': { type: 'string', default: '16384' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const seconds = Number(values.seconds);
const chunkBytes = Number(values['chunk-bytes']);
if (!(seconds > 0) || !Number.isInteger(chunkBytes) || chunkBytes < 1) {
  process.stderr.write(`bench/leakage-scanner: invalid option\n\n${USAGE}`);
  process.exit(2);
}

const leakage = await import(path.join(root, 'dist/src/leakage/index.js'));

const SYSTEM_PROMPT =
  'You are the AgentFlow documentation assistant. Answer only from the retrieved passages of ' +
  'the selected collection and cite the title of every passage you use.';
const POLICIES = {
  default: leakage.compileLeakagePolicy(leakage.leakagePolicySchema.parse({})),
  'default + system prompt + 2 canaries': leakage.compileLeakagePolicy(
    leakage.leakagePolicySchema.parse({
      system_prompt: { text: SYSTEM_PROMPT },
      canaries: { values: ['cnry-7f3a9c21e4b8', 'cnry-0b4d2e6f8a1c'] },
    }),
  ),
};

const MIB = 1024 * 1024;
const BODIES = [
  { format: 'JSON', body: answerJson(MIB - 4096), contentType: 'application/json' },
  { format: 'text', body: prose(MIB), contentType: 'text/plain; charset=utf-8' },
  { format: 'SSE, 3 words per event', body: chatStream(96 * 1024, 'words') },
  { format: 'SSE, 1 word per event', body: chatStream(32 * 1024, 'tokens') },
].map((entry) => {
  const bytes = Buffer.byteLength(entry.body);
  // Every body stays under the default max_scanned_size of 1 MiB, past which it is stopped.
  if (bytes > MIB) throw new Error(`${entry.format}: ${bytes} bytes is over 1 MiB`);
  return {
    ...entry,
    contentType: entry.contentType ?? 'text/event-stream',
    chunks: chunksOf(Buffer.from(entry.body), chunkBytes),
    bytes,
  };
});

function chunksOf(buffer, size) {
  const chunks = [];
  for (let start = 0; start < buffer.length; start += size) {
    chunks.push(buffer.subarray(start, start + size));
  }
  return chunks;
}

/** Scans one body and returns the detections, or raises when the scanner stopped it. */
async function scanOnce(policy, body) {
  let detections = 0;
  const transform = new leakage.LeakageTransform(
    policy,
    { 'content-type': body.contentType },
    { onDetection: () => (detections += 1) },
  );
  const sink = new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  await pipeline(Readable.from(body.chunks), transform, sink);
  if (transform.blocked) {
    throw new Error(
      `${body.format}: the scanner stopped the body: ${JSON.stringify(transform.blocked)}`,
    );
  }
  return detections;
}

/** Scans the body repeatedly for `duration` seconds; returns the bytes, wall and CPU seconds. */
async function timedRun(policy, body, duration) {
  const started = process.hrtime.bigint();
  const cpuStarted = process.cpuUsage();
  let bytes = 0;
  let detections = 0;
  while (Number(process.hrtime.bigint() - started) / 1e9 < duration) {
    detections += await scanOnce(policy, body);
    bytes += body.bytes;
  }
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStarted);
  return { bytes, wall, cpu: (cpu.user + cpu.system) / 1e6, detections };
}

function describeMachine() {
  const model = /^Model name:\s*(.+)$/m.exec(execFileSync('lscpu').toString())?.[1] ?? 'unknown';
  return [
    `- Machine: ${os.availableParallelism()} CPUs (${model}), Node.js ${process.version}, ` +
      `load average before the run ${os
        .loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
    `- One process, no HTTP: bodies written to LeakageTransform in ${chunkBytes}-byte chunks, ` +
      `${seconds} s timed per row after a ${(seconds / 3).toFixed(1)} s warm-up`,
    `- Bodies: prose from the sample backend's corpus with one planted e-mail address, card ` +
      `number or phone number every ${PLANT_EVERY / 1024} KiB`,
  ].join('\n');
}

console.log(describeMachine());
const header = ['Policy', 'Body', 'Body size', 'MB/s (wall)', 'MB/s (CPU)', 'Detections/MB'];
const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`];
for (const [policyName, policy] of Object.entries(POLICIES)) {
  for (const body of BODIES) {
    console.error(`measuring: ${policyName}, ${body.format}`);
    await timedRun(policy, body, seconds / 3);
    const run = await timedRun(policy, body, seconds);
    const megabytes = run.bytes / 1e6;
    lines.push(
      `| ${[
        policyName,
        body.format,
        `${(body.bytes / 1024).toFixed(0)} KiB`,
        (megabytes / run.wall).toFixed(1),
        (megabytes / run.cpu).toFixed(1),
        (run.detections / megabytes).toFixed(1),
      ].join(' | ')} |`,
    );
  }
}
console.log(`\n${lines.join('\n')}`);
