// Starting and stopping the processes under test, and reading their CPU time from /proc.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;
const POLL_MS = 50;

/** Clock ticks per second, the unit of utime and stime in /proc/PID/stat. */
export const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString());

/** Returns the user plus system CPU time of a process, in seconds, from /proc/PID/stat. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name in field 2 may contain spaces, so count fields from its closing bracket:
  // utime and stime are fields 14 and 15 of the file.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Returns the CPU time the whole machine has spent outside the idle and iowait states since boot,
 * in seconds, from the first line of /proc/stat.
 */
export function machineBusySeconds() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const [user, nice, system, , , irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS_PER_SECOND;
}

/** Returns the CPU time of this process (the load generator), in seconds. */
export function ownCpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** The default Redis port, left alone because a Redis server of someone else may use it. */
const DEFAULT_REDIS_PORT = 6379;

/** Returns a TCP port on 127.0.0.1, never 6379, that was free a moment ago. */
export async function freePort() {
  for (;;) {
    const server = createServer();
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const { port } = server.address();
    await new Promise((resolve) => server.close(resolve));
    if (port !== DEFAULT_REDIS_PORT) return port;
  }
}

/**
 * A child process, `node` unless told otherwise, whose standard output and error go to a file,
 * so that log lines cost the child a write to a file and cost the load generator nothing.
 */
export class BenchProcess {
  constructor(name, child, logFile) {
    this.name = name;
    this.child = child;
    this.logFile = logFile;
  }

  /** Spawns `COMMAND ARGS` with its output in `LOGDIR/NAME.log`. */
  static spawn({ name, command = process.execPath, args, env = {}, logDir, cwd }) {
    const logFile = path.join(logDir, `${name}.log`);
    const fd = openSync(logFile, 'w');
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    return new BenchProcess(name, child, logFile);
  }

  get pid() {
    return this.child.pid;
  }

  get exited() {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  cpuSeconds() {
    return cpuSeconds(this.pid);
  }

  /** Waits for a JSON log line whose `msg` is `message` and returns it. */
  async waitForLogLine(message) {
    return this.#poll(`log "${message}"`, () => {
      for (const text of readFileSync(this.logFile, 'utf8').split('\n')) {
        if (!text.startsWith('{')) continue;
        const entry = JSON.parse(text);
        if (entry.msg === message) return entry;
      }
      return undefined;
    });
  }

  /** Waits until a GET of `url` returns a 2xx status. */
  async waitForOk(url) {
    return this.#poll(`return 2xx at ${url}`, async () => {
      try {
        const response = await fetch(url);
        await response.arrayBuffer();
        return response.ok ? true : undefined;
      } catch {
        return undefined;
      }
    });
  }

  /**
   * Calls `check` every 50 ms until it returns something other than undefined, and returns that.
   * Raises when the process exits first or after 15 s.
   */
  async waitFor(what, check) {
    return this.#poll(what, check);
  }

  async #poll(what, check) {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exited) {
        throw new Error(
          `${this.name} exited with code ${this.child.exitCode} before it could ${what}; ` +
            `its output is in ${this.logFile}`,
        );
      }
      const result = await check();
      if (result !== undefined) return result;
      await sleep(POLL_MS);
    }
    throw new Error(`${this.name} did not ${what} within ${READY_TIMEOUT_MS} ms`);
  }

  /** Sends SIGTERM and waits for the exit; sends SIGKILL when the process outlives the timeout. */
  async stop() {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timedOut = await Promise.race([
      exited.then(() => false),
      sleep(STOP_TIMEOUT_MS, true, { ref: false }),
    ]);
    if (timedOut) {
      console.error(
        `${this.name} (pid ${this.pid}) outlived SIGTERM by ${STOP_TIMEOUT_MS} ms; sending SIGKILL`,
      );
      this.child.kill('SIGKILL');
      await exited;
    }
  }
}
