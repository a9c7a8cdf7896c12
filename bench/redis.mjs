// A redis-server of the benchmark's own, for the rate-limit store, and its command counts.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './processes.mjs';

/** The command the benchmark sends to read the counts, left out of them. */
const BENCH_COMMAND = 'info';

/**
 * Commands that the rate-limit script runs with `redis.call`. INFO commandstats counts them
 * like commands that clients send, so they are counted apart.
 */
function scriptCommandNames(root) {
  const script = readFileSync(path.join(root, 'dist/src/store/redis-script.js'), 'utf8');
  const names = new Set();
  for (const match of script.matchAll(/redis\.call\('([A-Za-z]+)'/g)) {
    names.add(match[1].toLowerCase());
  }
  return names;
}

function redisCli(port, args) {
  return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    encoding: 'utf8',
  });
}

/**
 * Starts `redis-server` on a free loopback port (never 6379), without persistence, and waits
 * until it answers PING. Returns the process, its port and the names of the commands that the
 * rate-limit script runs.
 */
export async function startRedis(context) {
  const port = await freePort();
  const started = context.spawn({
    name: `redis-${port}`,
    command: 'redis-server',
    args: ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
  });
  await started.waitFor(`answer PING on port ${port}`, () => {
    try {
      return redisCli(port, ['ping']).trim() === 'PONG' ? true : undefined;
    } catch {
      return undefined;
    }
  });
  return { process: started, port, scriptCommands: scriptCommandNames(context.root) };
}

/**
 * Returns the calls per command since the server started, from `INFO commandstats`, without
 * the INFO that the benchmark sends itself: `sent` for commands that clients sent, `inScripts`
 * for those that the rate-limit script ran.
 */
export function commandCounts(redis) {
  const counts = { sent: {}, inScripts: {} };
  const stats = redisCli(redis.port, ['info', 'commandstats']);
  for (const [, name, calls] of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (name === BENCH_COMMAND) continue;
    const kind = redis.scriptCommands.has(name) ? 'inScripts' : 'sent';
    counts[kind][name] = Number(calls);
  }
  return counts;
}

/** Returns the calls per command between two results of commandCounts(). */
export function commandDelta(before, after) {
  const delta = { sent: {}, inScripts: {} };
  for (const kind of ['sent', 'inScripts']) {
    for (const [name, calls] of Object.entries(after[kind])) {
      const difference = calls - (before[kind][name] ?? 0);
      if (difference > 0) delta[kind][name] = difference;
    }
  }
  return delta;
}
