export const MAIN_USAGE = `Usage: agentflow-gateway <command> [options]

Commands:
  serve      Run the gateway
  validate   Check the configuration and policy files without starting
  schema     Write JSON Schemas of the configuration, policy and rule-set files
  token      Mint a JWT for testing, or print a token's claims
  revoke     Revoke tokens by jti, subject or session through the admin API
  keys       Generate, rotate and list the master keys of the encryption API

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
                                  [--format FORMAT]

Checks the configuration and every policy file as serve would, and exits 0 when
valid, 2 when not.

Options:
  --format FORMAT   text (default): each problem on standard error as
                    FILE:LINE:COLUMN: KEY.PATH: MESSAGE
                    json: one JSON object on standard output, for CI, with "ok"
                    and, when false, "errors": a list of objects with file,
                    line, column, path and message
`;
