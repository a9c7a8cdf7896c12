// Measures throughput, latency and CPU per request of the gateway and of bare forwarding
// proxies on loopback, and prints Markdown tables. See docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildIfNeeded } from '../bench/build.mjs';
import { runProfile } from '../bench/profile.mjs';
import { formatSummary, summarizeProfile } from '../bench/summarize-profile.mjs';
import {
  BenchContext,
  combineRounds,
  markdownTable,
  QUERY_REQUEST,
  runForwardingGroup,
  runGatewayGroup,
  runRagGroup,
} from '../bench/suite.mjs';

const USAGE = `Usage: npm run bench -- [options]

Options:
  --connections N   Concurrent connections of the load generator (default 50)
  --duration S      Length of each timed run, in seconds (default 10)
  --warmup S        Length of the warm-up before each timed run, in seconds (default 3)
  --rounds N        Run each group N times and report medians (default 1)
  --only LIST       Comma-separated groups to run: gateway, rag, forwarding (default all)
  --profile         Profile the catch-all gateway with --cpu-prof instead of running the groups
  --log-level L     Gateway log level for --profile: warn or info (default info)
  --top N           Rows per table of the profile summary (default 25)
  --skip-build      Use dist/ as it is, without checking whether the sources are newer
  -h, --help        Print this help
`;

const GROUPS = {
  gateway: { title: 'Proxy overhead, minimal upstream', run: runGatewayGroup },
  rag: { title: 'Sample RAG backend', run: runRagGroup },
  forwarding: { title: 'Forwarding libraries alone, minimal upstream', run: runForwardingGroup },
};

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function positiveInteger(text, flag) {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1) {
    throw new Error(`${flag} must be a positive integer, got "${text}"`);
  }
  return value;
}

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      connections: { type: 'string', default: '50' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '1' },
      only: { type: 'string', default: Object.keys(GROUPS).join(',') },
      profile: { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'info' },
      top: { type: 'string', default: '25' },
      'skip-build': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const groups = values.only.split(',').map((name) => name.trim());
  for (const name of groups) {
    if (!(name in GROUPS)) {
      throw new Error(`--only: unknown group "${name}"; use ${Object.keys(GROUPS).join(', ')}`);
    }
  }
  if (!['warn', 'info'].includes(values['log-level'])) {
    throw new Error(`--log-level must be warn or info, got "${values['log-level']}"`);
  }
  return {
    help: values.help,
    connections: positiveInteger(values.connections, '--connections'),
    duration: positiveInteger(values.duration, '--duration'),
    warmup: positiveInteger(values.warmup, '--warmup'),
    rounds: positiveInteger(values.rounds, '--rounds'),
    groups,
    profile: values.profile,
    logLevel: values['log-level'],
    top: positiveInteger(values.top, '--top'),
    skipBuild: values['skip-build'],
  };
}

function machineDescription(options) {
  const model = /^Model name:\s*(.+)$/m.exec(execFileSync('lscpu').toString())?.[1] ?? 'unknown';
  const memoryGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  return [
    `- Machine: ${os.availableParallelism()} CPUs (${model}), ${memoryGiB} GiB RAM`,
    `- Node.js ${process.version}, load average before the run ${os
      .loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
    `- Load: autocannon, ${options.connections} connections, ${options.warmup} s warm-up, ` +
      `${options.duration} s timed, ${QUERY_REQUEST.method} ${QUERY_REQUEST.path} with a ` +
      `${QUERY_REQUEST.body.length}-byte JSON body, and an EdDSA bearer token on the routes ` +
      `of the default policy`,
    `- Rounds: ${options.rounds}; with more than one, each cell is the median over the rounds`,
  ].join('\n');
}

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }

  if (!options.skipBuild) {
    buildIfNeeded(root, [
      path.join(root, 'dist/src/cli.js'),
      path.join(root, 'dist/examples/rag-backend/server.js'),
    ]);
  }
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'agentflow-bench-'));
  const context = new BenchContext({ root, workDir, ...options });
  const stop = () => void context.stopAll().then(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  let failed = false;
  try {
    console.log(machineDescription(options));
    if (options.profile) {
      const profileDir = await mkdtemp(path.join(os.tmpdir(), 'agentflow-profile-'));
      const { row, file } = await runProfile(context, { profileDir, logLevel: options.logLevel });
      console.log(`\n${markdownTable([row])}\n\nProfile: ${file}\n`);
      const requests = row.warmupCompleted + row.completed;
      console.log(formatSummary(summarizeProfile(file), { top: options.top, root, requests }));
    } else {
      for (const name of options.groups) {
        const rounds = [];
        for (let round = 1; round <= options.rounds; round += 1) {
          console.error(`${name}: round ${round} of ${options.rounds}`);
          rounds.push(await GROUPS[name].run(context));
        }
        console.log(`\n### ${GROUPS[name].title}\n\n${markdownTable(combineRounds(rounds))}`);
      }
    }
  } catch (error) {
    failed = true;
    console.error(`bench: ${error.message}`);
    console.error(`bench: process output kept in ${workDir}`);
  } finally {
    await context.stopAll();
  }
  if (!failed) await rm(workDir, { recursive: true, force: true });
  return failed ? 1 : 0;
}

process.exitCode = await main();
