import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';

const TOOL_TIMEOUT_MS = 30_000;

/** Returns the path of `name` in a PATH folder where it is executable, or undefined. */
export async function findExecutable(name: string): Promise<string | undefined> {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this folder, or not executable.
    }
  }
  return undefined;
}

/** Returns the skip message for a missing `tool`, which Debian's prometheus package installs. */
export function missingToolMessage(tool: string): string {
  return `${tool} is not installed: install it with "apt-get install -y prometheus" (.ci/run does)`;
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `file` with `args` and, when given, `input` on its standard input, and resolves when it
 * exits. It is killed after 30 seconds, which resolves with a null exit code.
 */
export function runTool(
  file: string,
  args: readonly string[],
  options: { input?: string; cwd?: string } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: TOOL_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
