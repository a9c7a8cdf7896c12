import { ConfigError } from '../config/config-error.js';
import type { GatewayConfig } from '../config/schema.js';

/** The `iss` of the throwaway issuer that `npm start` runs for trying the gateway out. */
export const DEMO_ISSUER = 'urn:agentflow-gateway:demo';
export const DEMO_AUDIENCE = 'agentflow-rag';
/** Set by `npm start` only. */
export const DEMO_MODE_VARIABLE = 'AGENTFLOW_GATEWAY_DEMO';

/**
 * Refuses a configuration that trusts the demo issuer outside demo mode. Its keys are generated
 * on a developer's machine and published on an unauthenticated loopback port, so anyone who can
 * run `npm start` could mint tokens that such a gateway accepts.
 */
export function assertNoDemoIssuer(
  config: GatewayConfig,
  configFile: string,
  env: NodeJS.ProcessEnv,
): void {
  if (env[DEMO_MODE_VARIABLE] === '1') return;
  const index = config.auth?.issuers.findIndex((issuer) => issuer.issuer === DEMO_ISSUER) ?? -1;
  if (index === -1) return;
  throw new ConfigError([
    {
      file: configFile,
      line: 0,
      column: 0,
      path: `auth.issuers[${index}].issuer`,
      message:
        `the demo issuer ${DEMO_ISSUER} is accepted only under npm start: replace it with ` +
        "your identity provider's issuer, audiences, algorithms and jwks.url",
    },
  ]);
}
