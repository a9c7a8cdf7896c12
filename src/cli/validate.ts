import { DEMO_ISSUER } from '../auth/demo.js';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import { loadConfig } from '../config/load-config.js';
import type { GatewayConfig } from '../config/schema.js';
import { loadPolicies } from '../policy/load-policies.js';
import { createVerifier, loadPolicyFor } from '../server/load-files.js';

/** The outcome of checking the configuration file and the policy folder. */
export interface ValidationResult {
  readonly configFile: string;
  /** Every problem, in file order and then line order; empty when the files are valid. */
  readonly errors: readonly ConfigIssue[];
  /** Problems that `validate` accepts but `serve` rejects, such as the demo issuer. */
  readonly warnings: readonly ConfigIssue[];
  /** The policy files and route count; set only when every file is valid. */
  readonly policies?: { readonly files: readonly string[]; readonly routes: number };
}

/**
 * Checks the configuration file and every policy file as `serve` would, collecting every
 * problem instead of stopping at the first file. Errors other than ConfigError are raised.
 */
export async function validateFiles(
  configFile: string,
  policiesOverride: string | undefined,
): Promise<ValidationResult> {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  // The configuration is checked even when --policies names the folder.
  let policiesDir = policiesOverride;
  let config: GatewayConfig | undefined;
  try {
    const loaded = await loadConfig(configFile);
    config = loaded.config;
    policiesDir ??= loaded.policiesDir;
    const warning = demoIssuerWarning(config, configFile);
    if (warning !== undefined) warnings.push(warning);
    await createVerifier(config, configFile);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    errors.push(...error.issues);
  }
  if (policiesDir === undefined) return { configFile, errors, warnings };
  try {
    // Without a valid configuration, routes cannot be checked against its issuers.
    const snapshot = config
      ? await loadPolicyFor(config, policiesDir)
      : await loadPolicies(policiesDir);
    if (errors.length === 0) {
      const policies = { files: snapshot.files, routes: snapshot.routes.length };
      return { configFile, errors, warnings, policies };
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    errors.push(...error.issues);
  }
  return { configFile, errors, warnings };
}

/**
 * Returns a warning when the configuration trusts the demo issuer. `validate` still passes,
 * because the shipped configuration trusts it, but `serve` rejects it outside `npm start`.
 */
function demoIssuerWarning(config: GatewayConfig, configFile: string): ConfigIssue | undefined {
  const index = config.auth?.issuers.findIndex((issuer) => issuer.issuer === DEMO_ISSUER) ?? -1;
  if (index === -1) return undefined;
  return {
    file: configFile,
    line: 0,
    column: 0,
    path: `auth.issuers[${index}].issuer`,
    message:
      `the demo issuer ${DEMO_ISSUER} is accepted only under npm start, so serve will reject ` +
      "this configuration: replace it with your identity provider's issuer, audiences, " +
      'algorithms and jwks.url',
  };
}
