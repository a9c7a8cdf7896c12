#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { DEMO_ISSUER } from './auth/demo.js';
import { runRevoke } from './cli/revoke.js';
import { runToken } from './cli/token.js';
import { MAIN_USAGE, SERVE_USAGE, VALIDATE_USAGE } from './cli/usage.js';
import { ConfigError } from './config/config-error.js';
import { loadConfig } from './config/load-config.js';
import type { GatewayConfig } from './config/schema.js';
import { loadPolicies } from './policy/load-policies.js';
import { createVerifier, loadPolicyFor } from './server/load-files.js';
import { Gateway } from './server/gateway.js';

const EXIT_RUNTIME_FAILURE = 1;
const EXIT_USAGE = 2;

const OPTIONS = {
  config: { type: 'string' },
  policies: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

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
  if (command !== 'serve' && command !== 'validate') {
    process.stderr.write(`agentflow-gateway: unknown command "${command}"\n\n${MAIN_USAGE}`);
    return EXIT_USAGE;
  }
  let values: { config?: string; policies?: string; help?: boolean };
  try {
    values = parseArgs({ args: rest, options: OPTIONS, allowPositionals: false }).values;
  } catch (error) {
    const usage = command === 'serve' ? SERVE_USAGE : VALIDATE_USAGE;
    process.stderr.write(`agentflow-gateway ${command}: ${(error as Error).message}\n\n${usage}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    process.stdout.write(command === 'serve' ? SERVE_USAGE : VALIDATE_USAGE);
    return 0;
  }
  const configFile =
    values.config ?? process.env['AGENTFLOW_GATEWAY_CONFIG'] ?? 'config/gateway.yaml';
  try {
    return command === 'serve'
      ? await serve(configFile, values.policies)
      : await validate(configFile, values.policies);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

async function validate(configFile: string, policiesOverride: string | undefined): Promise<number> {
  const issues: string[] = [];
  // The configuration is checked even when --policies names the folder.
  let policiesDir = policiesOverride;
  let config: GatewayConfig | undefined;
  try {
    const loaded = await loadConfig(configFile);
    config = loaded.config;
    policiesDir ??= loaded.policiesDir;
    const warning = demoIssuerWarning(config, configFile);
    if (warning !== undefined) process.stderr.write(`${warning}\n`);
    await createVerifier(config, configFile);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(error.message);
  }
  if (policiesDir !== undefined) {
    try {
      // Without a valid configuration, routes cannot be checked against its issuers.
      const snapshot = config
        ? await loadPolicyFor(config, policiesDir)
        : await loadPolicies(policiesDir);
      if (issues.length === 0) {
        process.stdout.write(
          `valid: ${configFile} and ${snapshot.files.length} policy file(s), ${snapshot.routes.length} route(s)\n`,
        );
        return 0;
      }
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(error.message);
    }
  }
  process.stderr.write(`${issues.join('\n')}\n`);
  return EXIT_USAGE;
}

/**
 * Returns a warning when the configuration trusts the demo issuer. `validate` still passes,
 * because the shipped configuration trusts it, but `serve` rejects it outside `npm start`.
 */
function demoIssuerWarning(config: GatewayConfig, configFile: string): string | undefined {
  const index = config.auth?.issuers.findIndex((issuer) => issuer.issuer === DEMO_ISSUER) ?? -1;
  if (index === -1) return undefined;
  return (
    `warning: ${configFile}: auth.issuers[${index}].issuer: the demo issuer ${DEMO_ISSUER} is ` +
    'accepted only under npm start, so serve will reject this configuration: replace it with ' +
    "your identity provider's issuer, audiences, algorithms and jwks.url"
  );
}

async function serve(configFile: string, policiesDir: string | undefined): Promise<number> {
  const gateway = await Gateway.start({ configFile, policiesDir });
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      gateway.log.info(
        { signal },
        stopping ? 'signal received; already stopping' : 'signal received',
      );
      if (stopping) return;
      stopping = true;
      gateway.stop().then(resolve, (error: unknown) => {
        gateway.log.error({ err: error }, 'shutdown failed');
        resolve();
      });
    };
    // `on`, not `once`: a second signal during the drain must not get Node's default action,
    // which would end the process at once and cut the requests still finishing.
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGHUP', () => {
      gateway.log.info({ signal: 'SIGHUP' }, 'signal received');
      void gateway.reloadPolicy('sighup');
    });
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
