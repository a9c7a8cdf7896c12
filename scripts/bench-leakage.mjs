#!/usr/bin/env node
// Measures the response leakage detectors on labelled JSON lines: recall and false-positive rate
// per kind, with the default policy. Each line is {"text", "kind", "should_detect"}; a "category"
// field, when present, is used as the kind. Run `npm run build` first: this imports dist/.
//
//   node scripts/bench-leakage.mjs --corpus FILE [--corpus FILE…] [--show-misses] [--json]
//
// A positive counts as found when a detector of the same kind fires on its text. A negative
// counts as a false positive when a detector of its own kind fires. The "any" columns count a
// detection by any detector, which is what a client would see as a redaction.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({
  options: {
    corpus: { type: 'string', multiple: true },
    'show-misses': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

if (!options.corpus || options.corpus.length === 0) {
  console.error('missing --corpus FILE: give one or more JSON lines files to measure');
  process.exit(2);
}

const leakage = await import('../dist/src/leakage/index.js').catch((error) => {
  console.error(`cannot load dist/src/leakage/index.js (${error.message}): run npm run build`);
  process.exit(2);
});

const policy = leakage.compileLeakagePolicy(leakage.leakagePolicySchema.parse({}));
const coveredKinds = new Set(policy.detectors.map(({ detector }) => detector.kind));

const samples = options.corpus.flatMap(readSamples);
const stats = new Map();
const misses = [];
const started = process.hrtime.bigint();
for (const sample of samples) {
  const kinds = detectedKinds(sample.text);
  const own = kinds.has(sample.kind);
  const any = kinds.size > 0;
  const entry = statsOf(sample.kind);
  if (sample.shouldDetect) {
    entry.positives += 1;
    entry.found += own ? 1 : 0;
    entry.foundAny += any ? 1 : 0;
    if (!own) misses.push({ type: 'missed', sample, kinds });
  } else {
    entry.negatives += 1;
    entry.falsePositives += own ? 1 : 0;
    entry.falsePositivesAny += any ? 1 : 0;
    if (any) misses.push({ type: 'false positive', sample, kinds });
  }
}
const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;

const report = buildReport();
if (options.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  printReport(report);
  if (options['show-misses']) printMisses();
}

function readSamples(file) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      const record = JSON.parse(line);
      if (typeof record.text !== 'string' || typeof record.should_detect !== 'boolean') {
        throw new Error(`${file}:${index + 1}: a line needs "text" and "should_detect"`);
      }
      return {
        text: record.text,
        kind: String(record.category ?? record.kind),
        shouldDetect: record.should_detect,
      };
    });
}

function detectedKinds(text) {
  const kinds = new Set();
  leakage.scanCompleteText(text, policy.detectors, {
    maxHoldBack: Infinity,
    onDetection: (detection) => kinds.add(detection.kind),
  });
  return kinds;
}

function statsOf(kind) {
  let entry = stats.get(kind);
  if (!entry) {
    entry = {
      positives: 0,
      found: 0,
      foundAny: 0,
      negatives: 0,
      falsePositives: 0,
      falsePositivesAny: 0,
    };
    stats.set(kind, entry);
  }
  return entry;
}

function buildReport() {
  const kinds = [...stats.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, entry]) => ({ kind, covered: coveredKinds.has(kind), ...entry }));
  const covered = kinds.filter((entry) => entry.covered);
  const sum = (list, field) => list.reduce((total, entry) => total + entry[field], 0);
  return {
    samples: samples.length,
    elapsedMs: Math.round(elapsedMs),
    kinds,
    totals: {
      coveredPositives: sum(covered, 'positives'),
      coveredFound: sum(covered, 'found'),
      coveredNegatives: sum(covered, 'negatives'),
      coveredFalsePositives: sum(covered, 'falsePositives'),
      allNegatives: sum(kinds, 'negatives'),
      allFalsePositivesAny: sum(kinds, 'falsePositivesAny'),
      uncoveredPositives: sum(
        kinds.filter((entry) => !entry.covered),
        'positives',
      ),
      uncoveredFoundAny: sum(
        kinds.filter((entry) => !entry.covered),
        'foundAny',
      ),
    },
  };
}

function percent(part, whole) {
  return whole === 0 ? '   -  ' : `${((100 * part) / whole).toFixed(1).padStart(5)}%`;
}

function printReport({ kinds, totals }) {
  console.log(`${samples.length} samples in ${Math.round(elapsedMs)} ms\n`);
  console.log('kind                 covered  pos  recall  (any)   neg  FP rate  (any)');
  for (const entry of kinds) {
    console.log(
      [
        entry.kind.padEnd(20),
        (entry.covered ? 'yes' : 'no').padEnd(7),
        String(entry.positives).padStart(4),
        percent(entry.found, entry.positives),
        percent(entry.foundAny, entry.positives),
        String(entry.negatives).padStart(5),
        percent(entry.falsePositives, entry.negatives),
        percent(entry.falsePositivesAny, entry.negatives),
      ].join(' '),
    );
  }
  console.log('');
  console.log(
    `covered kinds: recall ${percent(totals.coveredFound, totals.coveredPositives)} ` +
      `(${totals.coveredFound}/${totals.coveredPositives}), false positives ` +
      `${percent(totals.coveredFalsePositives, totals.coveredNegatives)} ` +
      `(${totals.coveredFalsePositives}/${totals.coveredNegatives})`,
  );
  console.log(
    `all negatives, any detector: false positives ` +
      `${percent(totals.allFalsePositivesAny, totals.allNegatives)} ` +
      `(${totals.allFalsePositivesAny}/${totals.allNegatives})`,
  );
  console.log(
    `kinds not covered: ${totals.uncoveredFoundAny}/${totals.uncoveredPositives} positives ` +
      `detected by some detector`,
  );
}

function printMisses() {
  console.log('\nmisses and false positives:');
  for (const { type, sample, kinds } of misses) {
    const text = JSON.stringify(sample.text.slice(0, 120));
    console.log(`  ${type} [${sample.kind}] detected=[${[...kinds].join(',')}] ${text}`);
  }
}
