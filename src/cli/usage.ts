export const MAIN_USAGE = `Usage: agentflow-gateway <command> [options]

Commands:
  serve      Run the gateway
  validate   Check the configuration and policy files without starting
  token      Mint a JWT for testing, or print a token's claims
  revoke     Revoke tokens by jti, subject or session through the admin API

Options of serve and validate:
  --config FILE     Gateway configuration (default: config/gateway.yaml, or
                    AGENTFLOW_GATEWAY_CONFIG)
  --policies DIR    Policy folder (default: the configuration's policies.dir)
  -h, --help        Show help

Exit status: 0 success, 1 runtime failure, 2 invalid usage or configuration.
`;

export const SERVE_USAGE = `Usage: agentflow-gateway serve [--config FILE] [--policies DIR]

Runs the gateway until SIGTERM or SIGINT, then drains in-flight requests for
shutdown.grace_period and exits 0.
`;

export const VALIDATE_USAGE = `Usage: agentflow-gateway validate [--config FILE] [--policies DIR]

Checks the configuration and every policy file as serve would, prints each
problem as FILE:LINE:COLUMN: KEY.PATH: MESSAGE and exits 0 when valid, 2 when not.
`;
