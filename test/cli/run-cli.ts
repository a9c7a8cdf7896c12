import { execFile } from 'node:child_process';
import path from 'node:path';

/** The built CLI; tests that run it need `npm run build` first. */
export const CLI = path.resolve('dist/src/cli.js');

/** The parent's environment without AGENTFLOW_GATEWAY_* variables, which would change results. */
const BASE_ENV = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith('AGENTFLOW_GATEWAY_')),
);

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI to completion, in `cwd` (the test's working directory by default); exit
 * codes other than 0 are results, not errors.
 */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  { cwd }: { cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...BASE_ENV, ...env }, cwd, timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(error);
          return;
        }
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}
