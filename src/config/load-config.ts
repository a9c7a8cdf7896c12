import path from 'node:path';
import { ConfigError } from './config-error.js';
import { applyEnvOverrides } from './env-overrides.js';
import { gatewayConfigSchema, type GatewayConfig } from './schema.js';
import { YamlSource } from './yaml-source.js';

export interface LoadedConfig {
  config: GatewayConfig;
  /** Absolute folder of the policy files. */
  policiesDir: string;
}

/**
 * Reads, overrides from the environment and validates `gateway.yaml`. An invalid file raises a
 * ConfigError listing every issue; issues in overridden keys name the environment variable.
 */
export async function loadConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedConfig> {
  const source = await YamlSource.read(file);
  const { value, applied } = applyEnvOverrides(source.toValue(), env);
  let config: GatewayConfig;
  try {
    config = source.validate(gatewayConfigSchema, value);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(
      error.issues.map((issue) => {
        const variable = applied.get(issue.path);
        return variable
          ? { ...issue, file: `environment variable ${variable}`, line: 0, column: 0 }
          : issue;
      }),
    );
  }
  return { config, policiesDir: path.resolve(path.dirname(file), config.policies.dir) };
}
