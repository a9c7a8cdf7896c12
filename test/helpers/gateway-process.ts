import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { PROBE_PATH } from './upstream.js';

/** The compiled CLI; `npm test` builds it, `npx tap` alone uses whatever `npm run build` left. */
export const CLI_PATH = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

// A start takes under a second on an idle machine. With both cores busy and `--liftoff-only`
// (large-bodies.test.ts), it took over 10 s, so the limit only catches a gateway that hangs.
const START_TIMEOUT_MS = 30_000;
const KIB = 1024;

export interface GatewayProcess {
  pid: number;
  url: string;
  adminUrl: string;
  /** Every log line written to standard output so far, parsed. */
  logs: Record<string, unknown>[];
}

/**
 * Starts `node dist/src/cli.js serve` in a child process, on free loopback ports, and returns
 * once its "gateway started" line has been read. The child is stopped with SIGTERM on teardown.
 */
export async function startGatewayProcess(
  t: Test,
  options: {
    upstreamUrl: string;
    config?: string;
    policy: string;
    /** Node options placed before the script, such as `--expose-gc`. */
    nodeOptions?: readonly string[];
  },
): Promise<GatewayProcess> {
  await access(CLI_PATH).catch(() => {
    throw new Error(`${CLI_PATH} not found: run "npm run build" first`);
  });
  const dir = await mkdtemp(path.join(tmpdir(), 'agentflow-gateway-process-'));
  const policiesDir = path.join(dir, 'policies');
  await mkdir(policiesDir);
  await writeFile(path.join(policiesDir, 'routes.yaml'), options.policy);
  const configFile = path.join(dir, 'gateway.yaml');
  await writeFile(
    configFile,
    [
      'listeners:',
      '  public: { host: 127.0.0.1, port: 0 }',
      '  admin: { host: 127.0.0.1, port: 0 }',
      'upstream:',
      `  url: ${options.upstreamUrl}`,
      `  health_path: ${PROBE_PATH}`,
      options.config ?? '',
      '',
    ].join('\n'),
  );

  const child = spawn(
    process.execPath,
    [
      ...(options.nodeOptions ?? []),
      CLI_PATH,
      'serve',
      '--config',
      configFile,
      '--policies',
      policiesDir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } },
  );
  const exited = once(child, 'exit');
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });

  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr += text;
  });
  // Standard output is read to its end, so the child never blocks on a full pipe.
  const logs: Record<string, unknown>[] = [];
  const started = new Promise<Record<string, unknown>>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      logs.push(parsed);
      if (parsed['msg'] === 'gateway started') resolve(parsed);
    });
  });
  const failed = exited.then(([code]) => {
    throw new Error(`gateway process exited with code ${String(code)}: ${stderr}`);
  });
  failed.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`gateway process did not start in ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
  });
  const line = await Promise.race([started, failed, timeout]).finally(() => clearTimeout(timer));
  return {
    pid: child.pid!,
    url: String(line['public']),
    adminUrl: String(line['admin']),
    logs,
  };
}

/** Reads the resident set size and its peak (VmRSS and VmHWM in /proc/PID/status), in bytes. */
export async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kibibytes = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (!match) throw new Error(`${field} not found in /proc/${pid}/status`);
    return Number(match[1]) * KIB;
  };
  return { rss: kibibytes('VmRSS'), peak: kibibytes('VmHWM') };
}

/** Resets the peak that VmHWM reports to the current RSS (Linux proc(5), clear_refs value 5). */
export async function resetPeakMemory(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}
