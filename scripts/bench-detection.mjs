#!/usr/bin/env node
// Measures request inspection on labelled inputs with the default rule sets in
// policies/rulesets/ and default route settings: detection and false-positive rates overall,
// per rule set and per category. Run `npm run build` first: this imports dist/.
//
//   node scripts/bench-detection.mjs --corpus FILE [--corpus FILE…] [--format prompts]
//       [--show-misses] [--json]
//
// Formats:
//   prompts       JSON lines {"text", "label": "injection" | "benign", "category"?}; each text is
//                 sent as the JSON body {"query": text}.
//   libinjection  a file or directory of text files, one URL-encoded attack per line (`#`
//                 starts a comment); each line is sent as the query parameter `q`. Files named
//                 sqli-* expect sql-injection, xss-* expect xss.
//   crs           a file or directory of go-ftw YAML tests; each stage's method, uri, headers
//                 and data are sent as a request. A test with expect_ids is an attack for its
//                 rule family (930 path-traversal, 932 command-injection, 941 xss, 942
//                 sql-injection); one with only no_expect_ids is benign for that family.
//
// A sample is detected when the request's total score reaches the threshold. In the per-rule-set
// table a rule set detects a sample when its own rules reach the threshold. With an expected
// rule set (libinjection, crs) a positive counts as found only when that rule set reaches it.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';

const { values: options } = parseArgs({
  options: {
    corpus: { type: 'string', multiple: true },
    format: { type: 'string', default: 'prompts' },
    'show-misses': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

const CRS_FAMILIES = {
  930: 'path-traversal',
  932: 'command-injection',
  941: 'xss',
  942: 'sql-injection',
};

const FORMATS = { prompts: readPrompts, libinjection: readLibinjection, crs: readCrs };
if (!options.corpus || options.corpus.length === 0) {
  console.error('missing --corpus FILE: give one or more corpus files or directories');
  process.exit(2);
}
if (!Object.hasOwn(FORMATS, options.format)) {
  console.error(`invalid --format "${options.format}": use prompts, libinjection or crs`);
  process.exit(2);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const inspection = await import('../dist/src/inspection/index.js').catch((error) => {
  console.error(`cannot load dist/src/inspection/index.js (${error.message}): run npm run build`);
  process.exit(2);
});

const ruleSets = await inspection.loadRuleSets(join(root, 'policies', 'rulesets'));
const settings = inspection.routeInspectionSchema.parse({});
const inspector = inspection.createInspector(ruleSets, settings);

const samples = options.corpus.flatMap((path) => FORMATS[options.format](path));
const started = process.hrtime.bigint();
const outcomes = samples.map((sample) => ({ sample, result: inspector.inspect(sample.request) }));
const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;

const report = buildReport(outcomes);
if (options.json) console.log(JSON.stringify(report, null, 2));
else printReport(report);

function buildReport(outcomes) {
  const overall = newCounts();
  const byRuleSet = new Map(ruleSets.map((ruleSet) => [ruleSet.id, newCounts()]));
  const byCategory = new Map();
  const misses = [];
  for (const { sample, result } of outcomes) {
    const setScores = scoresBySet(result);
    const detected = sample.expectedSet
      ? (setScores.get(sample.expectedSet) ?? 0) >= settings.threshold
      : result.thresholdReached;
    count(overall, sample.positive, detected);
    const category = sample.category ?? 'uncategorised';
    if (!byCategory.has(category)) byCategory.set(category, newCounts());
    count(byCategory.get(category), sample.positive, detected);
    for (const [id, counts] of byRuleSet) {
      if (sample.expectedSet && sample.expectedSet !== id) continue;
      count(counts, sample.positive, (setScores.get(id) ?? 0) >= settings.threshold);
    }
    if (detected !== sample.positive) misses.push(describeMiss(sample, result));
  }
  return {
    format: options.format,
    corpus: options.corpus.map((path) => basename(path)),
    samples: outcomes.length,
    threshold: settings.threshold,
    microsecondsPerSample: outcomes.length ? (elapsedMs * 1000) / outcomes.length : 0,
    overall: rates(overall),
    ruleSets: Object.fromEntries([...byRuleSet].map(([id, counts]) => [id, rates(counts)])),
    categories: Object.fromEntries(
      [...byCategory].sort().map(([name, counts]) => [name, rates(counts)]),
    ),
    misses: options['show-misses'] ? misses : misses.length,
  };
}

function scoresBySet(result) {
  const scores = new Map();
  for (const match of result.matches) {
    scores.set(match.ruleSet, (scores.get(match.ruleSet) ?? 0) + match.score);
  }
  return scores;
}

function newCounts() {
  return { positives: 0, detected: 0, negatives: 0, falsePositives: 0 };
}

function count(counts, positive, detected) {
  if (positive) {
    counts.positives += 1;
    counts.detected += detected ? 1 : 0;
  } else {
    counts.negatives += 1;
    counts.falsePositives += detected ? 1 : 0;
  }
}

function rates(counts) {
  const ratio = (part, whole) => (whole === 0 ? null : part / whole);
  return {
    ...counts,
    detectionRate: ratio(counts.detected, counts.positives),
    falsePositiveRate: ratio(counts.falsePositives, counts.negatives),
  };
}

function describeMiss(sample, result) {
  return {
    type: sample.positive ? 'missed' : 'false positive',
    category: sample.category,
    score: result.score,
    rules: result.matches.map((match) => match.ruleId),
    text: sample.text.length > 300 ? `${sample.text.slice(0, 300)}…` : sample.text,
  };
}

function printReport(report) {
  console.log(
    `${report.samples} samples (${report.format}: ${report.corpus.join(', ')}), ` +
      `threshold ${report.threshold}, ${report.microsecondsPerSample.toFixed(1)} µs per sample`,
  );
  printTable('overall', { all: report.overall });
  printTable('rule set', report.ruleSets);
  printTable('category', report.categories);
  if (Array.isArray(report.misses)) {
    for (const miss of report.misses) {
      const rules = miss.rules.length ? miss.rules.join(',') : '-';
      console.log(
        `${miss.type}\t${miss.category ?? ''}\tscore ${miss.score}\t${rules}\t${JSON.stringify(miss.text)}`,
      );
    }
  } else {
    console.log(`${report.misses} wrong; --show-misses lists them`);
  }
}

function printTable(title, rows) {
  const percent = (value) => (value === null ? '-' : `${(value * 100).toFixed(2)} %`);
  console.log(`\n${title.padEnd(40)} attacks  found  rate      benign  flagged  rate`);
  for (const [name, row] of Object.entries(rows)) {
    if (row.positives === 0 && row.negatives === 0) continue;
    console.log(
      `${name.slice(0, 40).padEnd(40)} ${String(row.positives).padStart(7)}  ` +
        `${String(row.detected).padStart(5)}  ${percent(row.detectionRate).padEnd(8)}  ` +
        `${String(row.negatives).padStart(6)}  ${String(row.falsePositives).padStart(7)}  ` +
        `${percent(row.falsePositiveRate)}`,
    );
  }
}

function readPrompts(path) {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const entry = JSON.parse(line);
      return {
        text: entry.text,
        positive: entry.label === 'injection',
        category: entry.category ?? entry.label,
        request: jsonRequest(entry.text),
      };
    });
}

function jsonRequest(text) {
  const body = JSON.stringify({ query: text });
  return { path: '/api/rag/query', headers: { 'content-type': 'application/json' }, body };
}

function readLibinjection(path) {
  return filesUnder(path, /\.txt$/).flatMap((file) => {
    const name = basename(file);
    const expectedSet = name.startsWith('sqli')
      ? 'sql-injection'
      : name.startsWith('xss')
        ? 'xss'
        : undefined;
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => ({
        text: line,
        positive: true,
        category: name.replace(/\.txt$/, ''),
        expectedSet,
        request: {
          path: '/search',
          query: `q=${line.replaceAll('&', '%26').replaceAll('#', '%23')}`,
        },
      }));
  });
}

function readCrs(path) {
  return filesUnder(path, /\.ya?ml$/).flatMap((file) => {
    const document = parseYaml(readFileSync(file, 'utf8'));
    const family = CRS_FAMILIES[String(document.rule_id).slice(0, 3)];
    return (document.tests ?? []).flatMap((test) =>
      (test.stages ?? []).flatMap((stage) => crsSample(stage, document.rule_id, test, family)),
    );
  });
}

function crsSample(stage, ruleId, test, family) {
  const input = stage.input ?? stage.stage?.input;
  const log = (stage.output ?? stage.stage?.output)?.log ?? {};
  if (!input || family === undefined) return [];
  const positive = (log.expect_ids ?? []).length > 0;
  if (!positive && (log.no_expect_ids ?? []).length === 0) return [];
  const uri = String(input.uri ?? '/');
  const queryAt = uri.indexOf('?');
  const headers = Object.fromEntries(
    Object.entries(input.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]),
  );
  const data = Array.isArray(input.data) ? input.data.join('\r\n') : input.data;
  const contentType =
    headers['content-type'] ?? (data ? 'application/x-www-form-urlencoded' : undefined);
  return [
    {
      text: `${input.method ?? 'GET'} ${uri} ${data ?? ''}`.trim(),
      positive,
      category: `${ruleId} ${family}`,
      expectedSet: family,
      request: {
        path: queryAt < 0 ? uri : uri.slice(0, queryAt),
        query: queryAt < 0 ? '' : uri.slice(queryAt + 1),
        headers,
        body: data === undefined ? undefined : String(data),
        contentType,
      },
    },
  ];
}

function filesUnder(path, pattern) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { recursive: true })
    .map((name) => join(path, name))
    .filter((file) => pattern.test(file) && statSync(file).isFile())
    .sort();
}
