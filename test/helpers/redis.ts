import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Test } from 'tap';

const HOST = '127.0.0.1';
/** The machine's own Redis may listen here; tests never use it. */
const RESERVED_PORT = 6379;
const READY_TIMEOUT_MS = 10_000;
const POLL_MS = 25;
const COMMAND_TIMEOUT_MS = 5_000;
/** Redis Cluster nodes also listen on their port + 10000 for the cluster bus. */
const CLUSTER_BUS_OFFSET = 10_000;
const MAX_PORT_ATTEMPTS = 50;

/** Every redis-server started here, so that a crashed test still kills them on exit. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) {
    try {
      process.kill(child.pid!, 'SIGKILL');
    } catch {
      // It exited between the check and the kill.
    }
  }
});

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** PID of the current process; changes after `restart`. */
  readonly pid: number;
  /** Sends one command over a fresh connection and returns the raw reply text. */
  command(...args: string[]): Promise<string>;
  /** Calls per command from `INFO commandstats`, such as `evalsha` → 3. */
  commandCalls(): Promise<Map<string, number>>;
  /** Ends the process with `signal` and waits until it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Suspends (SIGSTOP) or resumes (SIGCONT) the process, to make Redis hang. */
  pause(): void;
  resume(): void;
  /** Starts a new process with the same port, arguments and data folder. */
  restart(): Promise<void>;
  /** Kills the process and removes its data folder. */
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` on a free loopback port with persistence off, and registers its stop
 * as a teardown of `t`.
 */
export async function startRedis(t: Test, extraArgs: readonly string[] = []): Promise<RedisServer> {
  const server = await launchRedis(await freePort(), extraArgs);
  t.teardown(() => server.stop());
  return server;
}

export interface RedisCluster {
  readonly nodes: readonly { host: string; port: number }[];
  readonly servers: readonly RedisServer[];
}

/** Starts three masters with cluster mode on and joins them with `redis-cli --cluster create`. */
export async function startRedisCluster(t: Test): Promise<RedisCluster> {
  const servers: RedisServer[] = [];
  t.teardown(() => Promise.all(servers.map((server) => server.stop())));
  for (let index = 0; index < 3; index++) {
    const port = await freePort(CLUSTER_BUS_OFFSET);
    servers.push(
      await launchRedis(port, ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000']),
    );
  }
  const addresses = servers.map((server) => `${HOST}:${server.port}`);
  await runRedisCli([
    '--cluster',
    'create',
    ...addresses,
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ]);
  for (const server of servers) {
    await waitUntil(async () =>
      (await server.command('CLUSTER', 'INFO')).includes('cluster_state:ok'),
    );
  }
  return { nodes: servers.map((server) => ({ host: HOST, port: server.port })), servers };
}

/**
 * Starts one Sentinel (`redis-server --sentinel`) that monitors `master` under `masterName`,
 * and registers its stop as a teardown of `t`.
 */
export async function startRedisSentinel(
  t: Test,
  master: RedisServer,
  masterName: string,
): Promise<RedisServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'agentflow-sentinel-'));
  const configFile = join(dir, 'sentinel.conf');
  await writeFile(
    configFile,
    [
      `port ${port}`,
      `bind ${HOST}`,
      `dir ${dir}`,
      `sentinel monitor ${masterName} ${master.host} ${master.port} 1`,
    ].join('\n') + '\n',
  );
  const sentinel = await launchRedis(port, [], [configFile, '--sentinel'], dir);
  t.teardown(() => sentinel.stop());
  return sentinel;
}

async function launchRedis(
  port: number,
  extraArgs: readonly string[],
  leadingArgs: readonly string[] = [],
  existingDir?: string,
): Promise<RedisServer> {
  const dir = existingDir ?? (await mkdtemp(join(tmpdir(), 'agentflow-redis-')));
  const args = [
    ...leadingArgs,
    '--port',
    String(port),
    '--bind',
    HOST,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    ...extraArgs,
  ];
  let child = await spawnReady(args, port);
  const command = (...commandArgs: string[]) => sendCommand(port, commandArgs);
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    // A paused process ignores SIGTERM until it runs again.
    process.kill(child.pid!, 'SIGCONT');
    process.kill(child.pid!, signal);
    await exited;
  };
  return {
    host: HOST,
    port,
    get pid() {
      return child.pid!;
    },
    command,
    commandCalls: async () => parseCommandStats(await command('INFO', 'commandstats')),
    kill,
    pause: () => process.kill(child.pid!, 'SIGSTOP'),
    resume: () => process.kill(child.pid!, 'SIGCONT'),
    restart: async () => {
      await kill();
      child = await spawnReady(args, port);
    },
    stop: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function spawnReady(args: readonly string[], port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    await waitUntil(async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited:\n${output}`);
      return (await sendCommand(port, ['PING'])) === '+PONG';
    });
  } catch (error) {
    if (child.exitCode === null) process.kill(child.pid!, 'SIGKILL');
    throw error;
  }
  return child;
}

/** Returns a loopback port that is free now, other than 6379, and with `port + offset` free too. */
async function freePort(offset = 0): Promise<number> {
  for (let attempt = 0; attempt < MAX_PORT_ATTEMPTS; attempt++) {
    const port = await listenOnce(0);
    if (port === undefined || port === RESERVED_PORT || port + offset > 65_535) continue;
    if (offset === 0 || (await listenOnce(port + offset)) !== undefined) return port;
  }
  throw new Error(`no free port pair found after ${MAX_PORT_ATTEMPTS} attempts`);
}

/** Listens on `port` (0 for any) and closes again; returns the port, or undefined if taken. */
function listenOnce(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, HOST, () => {
      const address = server.address();
      server.close(() =>
        resolve(typeof address === 'object' && address ? address.port : undefined),
      );
    });
  });
}

async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      if (await condition()) return;
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('redis-server exited')) throw error;
    }
    if (Date.now() > deadline) throw new Error(`redis not ready after ${READY_TIMEOUT_MS} ms`);
    await sleep(POLL_MS);
  }
}

/**
 * Sends one RESP command on a new connection and returns the reply: a status or error line as
 * sent (`+PONG`, `-ERR …`), the digits of an integer, or the payload of a bulk string. Of an
 * array, only the header line (`*2`) is returned.
 */
function sendCommand(port: number, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, HOST);
    socket.setTimeout(COMMAND_TIMEOUT_MS, () =>
      socket.destroy(new Error('redis command timed out')),
    );
    let received = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const reply = parseReply(received);
      if (reply === undefined) return;
      socket.end();
      resolve(reply);
    });
    const encoded = args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('');
    socket.write(`*${args.length}\r\n${encoded}`);
  });
}

function parseReply(buffer: Buffer): string | undefined {
  const lineEnd = buffer.indexOf('\r\n');
  if (lineEnd === -1) return undefined;
  const line = buffer.subarray(0, lineEnd).toString();
  if (line.startsWith(':')) return line.slice(1);
  if (!line.startsWith('$')) return line;
  const length = Number(line.slice(1));
  if (length < 0) return '';
  if (buffer.length < lineEnd + 2 + length + 2) return undefined;
  return buffer.subarray(lineEnd + 2, lineEnd + 2 + length).toString();
}

function parseCommandStats(info: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls.set(match[1]!, Number(match[2]));
  }
  return calls;
}

async function runRedisCli(args: readonly string[]): Promise<void> {
  const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`redis-cli ${args.join(' ')} failed with ${code}:\n${output}`);
}
