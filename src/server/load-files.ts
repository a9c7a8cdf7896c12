import path from 'node:path';
import { KeyLoadError } from '../auth/key-load-error.js';
import { TokenVerifier } from '../auth/verifier.js';
import { ConfigError } from '../config/config-error.js';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../monitoring/logger.js';
import { loadPolicies } from '../policy/load-policies.js';
import type { PolicySnapshot } from '../policy/snapshot.js';

/** Names of the configured token issuers, for checking what routes refer to. */
export function issuerNamesOf(config: GatewayConfig): ReadonlySet<string> {
  return new Set(config.auth?.issuers.map((issuer) => issuer.name) ?? []);
}

/** Loads the policy files and checks them against the configuration. Raises ConfigError. */
export function loadPolicyFor(config: GatewayConfig, policiesDir: string): Promise<PolicySnapshot> {
  return loadPolicies(policiesDir, {
    issuerNames: issuerNamesOf(config),
    defaultFailMode: config.store.fail_mode,
    webhookNames: new Set(config.alerts.webhooks.map((webhook) => webhook.name)),
  });
}

/**
 * Reads every configured key and secret, without fetching JWKS URLs. A key that cannot be used
 * raises a ConfigError naming the setting, so `validate` and `serve` report it the same way.
 */
export async function createVerifier(
  config: GatewayConfig,
  configFile: string,
  options: { env?: NodeJS.ProcessEnv | undefined; log?: Logger | undefined } = {},
): Promise<TokenVerifier | undefined> {
  if (config.auth === undefined) return undefined;
  try {
    return await TokenVerifier.create(config.auth, {
      baseDir: path.dirname(configFile),
      env: options.env,
      log: options.log,
    });
  } catch (error) {
    if (!(error instanceof KeyLoadError)) throw error;
    throw new ConfigError([
      { file: configFile, line: 0, column: 0, path: 'auth', message: error.message },
    ]);
  }
}
