#!/usr/bin/env node
// Counts the chat completion events whose text the leak scanner cannot release at once, and
// the detectors that hold it. Such an event waits for the next one, so in a stream it arrives
// one event interval late. Run `npm run build` first: this imports dist/.
//
//   node bench/leakage-holdback.mjs [--bytes N]
//
// The text is the prose of the latency benchmark, cut into the `words` and `tokens` pieces of
// bench/leakage/bodies.mjs. For each piece the scanner has received, the event is held when
// the scanner has not released all of it. A detector is named when it alone would hold it too.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { contentPieces, prose } from './leakage/bodies.mjs';

const USAGE = `Usage: node bench/leakage-holdback.mjs [options]

Options:
  --bytes N    Bytes of prose to cut into events (default 65536, as bench/leakage/upstream.mjs)
  -h, --help   Print this help
`;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    bytes: { type: 'string', default: '65536' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const bytes = Number(values.bytes);
if (!Number.isInteger(bytes) || bytes < 1) {
  process.stderr.write(`bench/leakage-holdback: --bytes must be a positive integer\n\n${USAGE}`);
  process.exit(2);
}

const leakage = await import(path.join(root, 'dist/src/leakage/index.js'));
const policy = leakage.compileLeakagePolicy(leakage.leakagePolicySchema.parse({}));

/** Returns, for each piece, whether part of it is still unreleased right after its push. */
function heldPieces(detectors, pieces) {
  const scanner = new leakage.TextScanner(detectors, { maxHoldBack: Number.MAX_SAFE_INTEGER });
  let received = 0;
  return pieces.map((piece) => {
    scanner.push(piece);
    received += piece.length;
    return scanner.released < received;
  });
}

const text = prose(bytes);
for (const style of ['words', 'tokens']) {
  const pieces = contentPieces(text, style);
  const held = heldPieces(policy.detectors, pieces);
  const heldCount = held.filter(Boolean).length;
  const share = ((100 * heldCount) / pieces.length).toFixed(2);
  console.log(`\n${style}: ${heldCount} of ${pieces.length} events held (${share} %)`);
  const rows = policy.detectors
    .map((active) => {
      const alone = heldPieces([active], pieces);
      const count = alone.filter((value, index) => value && held[index]).length;
      const example = pieces.find((_, index) => alone[index] && held[index]);
      return { id: active.detector.id, count, example };
    })
    .filter((row) => row.count > 0)
    .sort((a, b) => b.count - a.count);
  for (const row of rows.slice(0, 10)) {
    console.log(
      `  ${row.id.padEnd(28)} ${String(row.count).padStart(6)}  e.g. ${JSON.stringify(row.example)}`,
    );
  }
  if (rows.length > 10) console.log(`  (${rows.length - 10} more detectors)`);
}
