// Summarises a V8 .cpuprofile (as written by `node --cpu-prof`): the functions with the most
// self time, the gateway's own functions by inclusive time, and time per package. With
// --callers NAME it prints the call stacks under which the function NAME was sampled instead.
// Usage: node bench/summarize-profile.mjs FILE [--top N] [--requests N] [--callers NAME]
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const CALLER_DEPTH = 7;

function frameKey(callFrame) {
  return `${callFrame.functionName || '(anonymous)'}\t${callFrame.url}\t${callFrame.lineNumber}`;
}

function functionName(callFrame) {
  return callFrame.functionName || '(anonymous)';
}

/** Names where a frame's code lives: a package, the gateway's dist/src, node internals or V8. */
function category({ functionName: name, url }) {
  if (name.startsWith('(')) return name;
  if (url === '') return 'native functions';
  if (url.startsWith('node:')) return 'node internals';
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (packageMatch) return packageMatch[1];
  if (url.includes('/dist/src/')) return 'gateway (dist/src)';
  return url;
}

function location(callFrame, root) {
  if (callFrame.url === '') return '';
  let file = callFrame.url;
  if (file.startsWith('file://')) file = path.relative(root, fileURLToPath(file));
  // Packages reached through a symlinked node_modules resolve outside the root.
  const packageStart = file.indexOf('node_modules/');
  if (packageStart > 0) file = file.slice(packageStart);
  // V8 line numbers are 0-based.
  return `${file}:${callFrame.lineNumber + 1}`;
}

/** Reads a profile; returns its nodes by id, each node's parent id, and the busy samples. */
function readProfile(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parents.set(child, node.id);
  }
  // Each sample lasts until the next one; timeDeltas[i] is the gap before sample i, in µs.
  const samples = [];
  profile.samples.forEach((id, index) => {
    const node = nodes.get(id);
    if (node.callFrame.functionName === '(idle)') return;
    const next = profile.timeDeltas[index + 1] ?? 0;
    samples.push({ id, ms: next / 1000 });
  });
  return { nodes, parents, samples };
}

/** Returns, per node id, a value derived from the node's stack, computed once per node. */
function stackCache(nodes, parents, derive) {
  const cache = new Map();
  const lookup = (id) => {
    let value = cache.get(id);
    if (value === undefined) {
      const parent = parents.get(id);
      value = derive(nodes.get(id), parent === undefined ? undefined : lookup(parent));
      cache.set(id, value);
    }
    return value;
  };
  return lookup;
}

/**
 * Reads a profile and returns self and inclusive time per function and per category, in
 * milliseconds, leaving out idle time. A function or category counts once per sample even when
 * it appears several times on the stack.
 */
export function summarizeProfile(file) {
  const { nodes, parents, samples } = readProfile(file);
  const addTo = (parentSet, value) =>
    new Set(parentSet === undefined ? [value] : [...parentSet, value]);
  const keysOnStack = stackCache(nodes, parents, (node, parentKeys) =>
    addTo(parentKeys, frameKey(node.callFrame)),
  );
  const categoriesOnStack = stackCache(nodes, parents, (node, parentCategories) =>
    addTo(parentCategories, category(node.callFrame)),
  );

  const functions = new Map();
  const categories = new Map();
  const entryFor = (map, key, fields) => {
    let entry = map.get(key);
    if (entry === undefined) {
      entry = { ...fields, selfMs: 0, totalMs: 0 };
      map.set(key, entry);
    }
    return entry;
  };
  for (const node of nodes.values())
    entryFor(functions, frameKey(node.callFrame), { callFrame: node.callFrame });

  let busyMs = 0;
  for (const { id, ms } of samples) {
    const { callFrame } = nodes.get(id);
    busyMs += ms;
    for (const key of keysOnStack(id)) functions.get(key).totalMs += ms;
    functions.get(frameKey(callFrame)).selfMs += ms;
    for (const name of categoriesOnStack(id)) {
      if (name !== '(root)') entryFor(categories, name, { name }).totalMs += ms;
    }
    entryFor(categories, category(callFrame), { name: category(callFrame) }).selfMs += ms;
  }
  return { busyMs, functions: [...functions.values()], categories: [...categories.values()] };
}

/** Returns the call stacks, up to CALLER_DEPTH frames, under which `name` ran, with their time. */
export function callersOf(file, name) {
  const { nodes, parents, samples } = readProfile(file);
  const stacks = new Map();
  for (const { id, ms } of samples) {
    if (functionName(nodes.get(id).callFrame) !== name) continue;
    const frames = [];
    for (let parent = parents.get(id); parent !== undefined && frames.length < CALLER_DEPTH;) {
      const { callFrame } = nodes.get(parent);
      const file = callFrame.url.split('/').slice(-2).join('/');
      frames.push(`${functionName(callFrame)} (${file}:${callFrame.lineNumber + 1})`);
      parent = parents.get(parent);
    }
    const stack = frames.join(' < ');
    stacks.set(stack, (stacks.get(stack) ?? 0) + ms);
  }
  return [...stacks].map(([stack, ms]) => ({ stack, ms })).sort((a, b) => b.ms - a.ms);
}

function percent(part, whole) {
  return `${((100 * part) / whole).toFixed(1)}%`;
}

/**
 * Formats the summary as three Markdown tables of at most `top` rows each. With `requests`, the
 * number of requests the profiled process served, each time also gets a µs-per-request column.
 */
export function formatSummary({ busyMs, functions, categories }, { top, root, requests }) {
  const lines = [`Busy (non-idle) time in the profile: ${busyMs.toFixed(0)} ms`];
  if (requests !== undefined) lines.push(`Requests served while profiled: ${requests}`);
  lines.push('');
  const timeHeaders = (label) =>
    requests === undefined
      ? [`${label} ms`, `${label} %`]
      : [`${label} ms`, `${label} %`, `${label} µs/req`];
  const timeCells = (ms) => {
    const cells = [ms.toFixed(0), percent(ms, busyMs)];
    if (requests !== undefined) cells.push(((ms * 1000) / requests).toFixed(1));
    return cells;
  };
  const table = (title, headers, rows) => {
    lines.push(
      title,
      '',
      `| ${headers.join(' | ')} |`,
      `|${headers.map(() => ' --- ').join('|')}|`,
    );
    for (const cells of rows) lines.push(`| ${cells.join(' | ')} |`);
    lines.push('');
  };

  const bySelf = [...functions].sort((a, b) => b.selfMs - a.selfMs).slice(0, top);
  table(
    'Top functions by self time:',
    [...timeHeaders('Self'), 'Function', 'Location'],
    bySelf.map((entry) => [
      ...timeCells(entry.selfMs),
      functionName(entry.callFrame),
      location(entry.callFrame, root),
    ]),
  );

  const own = functions.filter((entry) => entry.callFrame.url.includes('/dist/src/'));
  table(
    'Gateway functions (dist/src) by inclusive time:',
    [...timeHeaders('Total'), 'Self ms', 'Function', 'Location'],
    own
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, top)
      .map((entry) => [
        ...timeCells(entry.totalMs),
        entry.selfMs.toFixed(0),
        functionName(entry.callFrame),
        location(entry.callFrame, root),
      ]),
  );

  table(
    'Time by where the code lives (inclusive: the code is anywhere on the stack):',
    [...timeHeaders('Self'), ...timeHeaders('Inclusive'), 'Code'],
    [...categories]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map((entry) => [...timeCells(entry.selfMs), ...timeCells(entry.totalMs), entry.name]),
  );
  return lines.join('\n').trimEnd();
}

function isEntryPoint() {
  const entry = process.argv[1];
  return entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href;
}

if (isEntryPoint()) {
  const { values, positionals } = parseArgs({
    options: {
      top: { type: 'string', default: '25' },
      callers: { type: 'string' },
      requests: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (positionals.length !== 1) {
    console.error(
      'Usage: node bench/summarize-profile.mjs FILE.cpuprofile [--top N] [--requests N] ' +
        '[--callers NAME]',
    );
    process.exit(2);
  }
  const [file] = positionals;
  const top = Number(values.top);
  if (values.callers !== undefined) {
    for (const { stack, ms } of callersOf(file, values.callers).slice(0, top)) {
      console.log(`${ms.toFixed(0).padStart(7)} ms  ${stack}`);
    }
  } else {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    const requests = values.requests === undefined ? undefined : Number(values.requests);
    console.log(formatSummary(summarizeProfile(file), { top, root, requests }));
  }
}
