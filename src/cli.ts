#!/usr/bin/env node
import { constants } from 'node:os';
import { parseArgs } from 'node:util';
import { runKeys } from './cli/keys.js';
import { runRevoke } from './cli/revoke.js';
import { runSchema } from './cli/schema.js';
import { runToken } from './cli/token.js';
import { MAIN_USAGE, SERVE_USAGE, VALIDATE_USAGE } from './cli/usage.js';
import { validateFiles } from './cli/validate.js';
import {
  isValidateFormat,
  VALIDATE_FORMATS,
  writeValidationResult,
  type ValidateFormat,
} from './cli/validate-output.js';
import { ConfigError } from './config/config-error.js';
import { Gateway } from './server/gateway.js';

const EXIT_RUNTIME_FAILURE = 1;
const EXIT_USAGE = 2;

const SERVE_OPTIONS = {
  config: { type: 'string' },
  policies: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const VALIDATE_OPTIONS = { ...SERVE_OPTIONS, format: { type: 'string' } } as const;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(`agentflow-gateway: missing command\n\n${MAIN_USAGE}`);
    return EXIT_USAGE;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(MAIN_USAGE);
    return 0;
  }
  if (command === 'token') return runToken(rest);
  if (command === 'revoke') return runRevoke(rest);
  if (command === 'keys') return runKeys(rest);
  if (command === 'schema') return runSchema(rest);
  if (command !== 'serve' && command !== 'validate') {
    process.stderr.write(`agentflow-gateway: unknown command "${command}"\n\n${MAIN_USAGE}`);
    return EXIT_USAGE;
  }
  const usage = command === 'serve' ? SERVE_USAGE : VALIDATE_USAGE;
  const usageError = (message: string) => {
    process.stderr.write(`agentflow-gateway ${command}: ${message}\n\n${usage}`);
    return EXIT_USAGE;
  };
  let values: { config?: string; policies?: string; format?: string; help?: boolean };
  try {
    const options = command === 'serve' ? SERVE_OPTIONS : VALIDATE_OPTIONS;
    values = parseArgs({ args: rest, options, allowPositionals: false }).values;
  } catch (error) {
    return usageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const format = values.format ?? 'text';
  if (!isValidateFormat(format)) {
    return usageError(`invalid --format "${format}": use ${VALIDATE_FORMATS.join(' or ')}`);
  }
  const configFile =
    values.config ?? process.env['AGENTFLOW_GATEWAY_CONFIG'] ?? 'config/gateway.yaml';
  try {
    return command === 'serve'
      ? await serve(configFile, values.policies)
      : await validate(configFile, values.policies, format);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

async function validate(
  configFile: string,
  policiesOverride: string | undefined,
  format: ValidateFormat,
): Promise<number> {
  const result = await validateFiles(configFile, policiesOverride);
  return writeValidationResult(result, format, process);
}

async function serve(configFile: string, policiesDir: string | undefined): Promise<number> {
  // Handlers go in before the gateway starts. As PID 1 in a container, a process without a
  // handler ignores SIGTERM, and a stop during start-up would wait for the kill timeout. Until
  // the listeners are open there is nothing to drain, so a stop signal ends the process at once,
  // with the exit code of Node's default action.
  let requestStop = (signal: NodeJS.Signals): void => {
    process.exit(128 + constants.signals[signal]);
  };
  // Before the gateway has started, the files it is loading are already the newest.
  let requestReload = (): void => undefined;
  // `on`, not `once`: a second signal during the drain must not get Node's default action,
  // which would end the process at once and cut the requests still finishing.
  process.on('SIGTERM', (signal) => requestStop(signal));
  process.on('SIGINT', (signal) => requestStop(signal));
  process.on('SIGHUP', () => requestReload());
  const started = await Gateway.start({ configFile, policiesDir });
  requestReload = () => {
    started.log.info({ signal: 'SIGHUP' }, 'signal received');
    void started.reload('sighup');
  };
  await new Promise<void>((resolve) => {
    let stopping = false;
    requestStop = (signal) => {
      started.log.info(
        { signal },
        stopping ? 'signal received; already stopping' : 'signal received',
      );
      if (stopping) return;
      stopping = true;
      started.stop().then(resolve, (error: unknown) => {
        started.log.error({ err: error }, 'shutdown failed');
        resolve();
      });
    };
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`agentflow-gateway: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = EXIT_RUNTIME_FAILURE;
  },
);
