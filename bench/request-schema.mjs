#!/usr/bin/env node
// Measures the CPU time of checking the sample rag-query body against the body schema of the
// shipped policies/routes.yaml. Run `npm run build` first: this imports dist/.
//
//   node bench/request-schema.mjs [--iterations N]
//
// Prints microseconds of CPU time (user + system, from process.cpuUsage) per check of an
// already parsed body, for valid bodies and for an invalid one whose errors are rendered.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({
  options: { iterations: { type: 'string', default: '200000' } },
});
const iterations = Number(options.iterations);

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const load = (file) =>
  import(join(root, 'dist', file)).catch((error) => {
    console.error(`cannot load dist/${file} (${error.message}): run npm run build`);
    process.exit(2);
  });
const { loadPolicies } = await load('src/policy/load-policies.js');
const { checkPart } = await load('src/pipeline/stages/validate.js');

const snapshot = await loadPolicies(join(root, 'policies'));
const route = snapshot.routes.find((candidate) => candidate.name === 'rag-query');
const validate = route?.requestSchema?.body;
if (validate === undefined) {
  console.error('the rag-query route of policies/routes.yaml has no body schema');
  process.exit(2);
}

const BODIES = {
  'README question': { query: 'How does AgentFlow handle document uploads?' },
  'question, collection, stream': {
    query: 'What is AgentFlow?',
    collection: 'docs',
    stream: true,
  },
  'invalid (3 errors rendered)': { query: 'x'.repeat(2001), collection: 'a/b', extra: 1 },
};

function cpuMicroseconds(run, count) {
  for (let i = 0; i < Math.min(count, 1000); i += 1) run();
  const start = process.cpuUsage();
  for (let i = 0; i < count; i += 1) run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

console.log(`node ${process.version}, ${iterations} iterations, CPU time per body check`);
for (const [name, body] of Object.entries(BODIES)) {
  const errors = checkPart(validate, 'body', body).length;
  const micros = cpuMicroseconds(() => checkPart(validate, 'body', body), iterations);
  console.log(`${name.padEnd(30)} ${micros.toFixed(3).padStart(8)} µs  (${errors} errors)`);
}
