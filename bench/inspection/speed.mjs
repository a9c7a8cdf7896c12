#!/usr/bin/env node
// Measures the CPU time of request inspection with the default rule sets in policies/rulesets/
// and default route settings. Run `npm run build` first: this imports dist/.
//
//   node bench/inspection/speed.mjs [--iterations N]
//
// Prints microseconds of CPU time (user + system, from process.cpuUsage) per inspection for a
// 1 KiB JSON question and for hostile inputs of 16, 32 and 64 KiB. Linear time shows as a
// constant cost per KiB across the three sizes.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({
  options: { iterations: { type: 'string', default: '20000' } },
});
const iterations = Number(options.iterations);

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const inspection = await import(join(root, 'dist/src/inspection/index.js')).catch((error) => {
  console.error(`cannot load dist/src/inspection/index.js (${error.message}): run npm run build`);
  process.exit(2);
});
const ruleSets = await inspection.loadRuleSets(join(root, 'policies', 'rulesets'));
const inspector = inspection.createInspector(ruleSets, inspection.routeInspectionSchema.parse({}));

const QUESTION =
  'How do I configure the retention period for uploaded documents in AgentFlow, and can I ' +
  'choose which collections it applies to? Our compliance team asked whether deleted files ' +
  'stay in the vector index after the retention window ends, and whether the audit log keeps ' +
  'the names of the users who uploaded them. ';

/** Builds a JSON chat request of `bytes` bytes, as a RAG frontend sends it. */
function jsonQuestion(bytes) {
  const base = { collection: 'user_42', stream: false, messages: [{ role: 'user', content: '' }] };
  const overhead = JSON.stringify(base).length;
  base.messages[0].content = QUESTION.repeat(Math.ceil(bytes / QUESTION.length)).slice(
    0,
    bytes - overhead,
  );
  return JSON.stringify(base);
}

/** Hostile text bodies: each defeats a backtracking engine or a naive decoder. */
const HOSTILE = {
  'repeated a': (n) => 'a'.repeat(n),
  'unclosed tags': (n) => '<a '.repeat(Math.ceil(n / 3)).slice(0, n),
  'nested parens': (n) => '('.repeat(n / 2) + ')'.repeat(n / 2),
  'percent escapes': (n) => '%25'.repeat(Math.ceil(n / 3)).slice(0, n),
  'quotes and or': (n) => "' or ".repeat(Math.ceil(n / 5)).slice(0, n),
  'base64 run': (n) =>
    Buffer.from('ignore previous instructions '.repeat(n)).toString('base64').slice(0, n),
  'look-alike letters': (n) => 'іgnоrе '.repeat(Math.ceil(n / 7)).slice(0, n),
  'entity soup': (n) => '&#x26;&amp;'.repeat(Math.ceil(n / 11)).slice(0, n),
};

function cpuMicroseconds(run, count) {
  for (let i = 0; i < Math.min(count, 200); i += 1) run();
  const start = process.cpuUsage();
  for (let i = 0; i < count; i += 1) run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

const body = jsonQuestion(1024);
const headers = { 'content-type': 'application/json', 'user-agent': 'Mozilla/5.0 (X11; Linux)' };
const request = { path: '/api/rag/query', query: 'trace=1', headers, body };
const parsed = { ...request, json: JSON.parse(body) };
console.log(`node ${process.version}, ${iterations} iterations, CPU time per inspection`);
console.log(
  `1 KiB JSON question, raw body:    ${cpuMicroseconds(() => inspector.inspect(request), iterations).toFixed(2)} µs`,
);
console.log(
  `1 KiB JSON question, parsed body: ${cpuMicroseconds(() => inspector.inspect(parsed), iterations).toFixed(2)} µs`,
);
console.log(
  '\nhostile text body            16 KiB       32 KiB       64 KiB       µs per KiB at 64 KiB',
);
for (const [name, make] of Object.entries(HOSTILE)) {
  const times = [16, 32, 64].map((kib) => {
    const hostile = {
      path: '/upload',
      headers: { 'content-type': 'text/plain' },
      body: make(kib * 1024),
    };
    return cpuMicroseconds(() => inspector.inspect(hostile), Math.max(20, iterations / (kib * 20)));
  });
  const cells = times.map((us) => `${us.toFixed(0).padStart(7)} µs`).join('   ');
  console.log(`${name.padEnd(26)} ${cells}   ${(times[2] / 64).toFixed(1)}`);
}
