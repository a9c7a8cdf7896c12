#!/usr/bin/env node
// Times the leak scanner on SSE bodies with many parallel chat choices, each of which first
// sends a piece the scanner must hold (it ends inside a word) and then a second piece. This is
// the case where reassembly cost could grow with the number of open streams. Run `npm run build`
// first: this imports dist/.
//
//   node bench/leakage-streams.mjs [--choices 64,128,256,512]
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { choices: { type: 'string', default: '64,128,256,512' } },
});
const counts = values.choices.split(',').map(Number);
if (counts.some((count) => !Number.isInteger(count) || count < 1)) {
  process.stderr.write(
    'bench/leakage-streams: --choices takes positive integers, such as 64,128\n',
  );
  process.exit(2);
}
const leakage = await import(path.join(root, 'dist/src/leakage/index.js'));
const policy = leakage.compileLeakagePolicy(leakage.leakagePolicySchema.parse({}));

/** Returns the `data:` JSON of a chat completion chunk for choice `choice`. */
function choiceChunk(content, choice) {
  return JSON.stringify({
    object: 'chat.completion.chunk',
    choices: [{ index: choice, delta: { content } }],
  });
}

/** Returns the SSE body: one held piece per choice, then one more piece per choice. */
function body(choices) {
  const events = [];
  for (let index = 0; index < choices; index += 1) events.push(choiceChunk(`word${index}`, index));
  for (let index = 0; index < choices; index += 1) events.push(choiceChunk(' next', index));
  return `${events.map((event) => `data: ${event}\n\n`).join('')}data: [DONE]\n\n`;
}

console.log('| Choices | Body KB | Scan s |');
console.log('| ------- | ------- | ------ |');
for (const choices of counts) {
  const bytes = Buffer.from(body(choices));
  const transform = new leakage.LeakageTransform(policy, { 'content-type': 'text/event-stream' });
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const started = process.hrtime.bigint();
  await pipeline(Readable.from([bytes]), transform, sink);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`| ${choices} | ${(bytes.length / 1000).toFixed(0)} | ${seconds.toFixed(3)} |`);
}
