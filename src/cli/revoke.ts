import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { request } from 'undici';

const EXIT_OK = 0;
const EXIT_RUNTIME_FAILURE = 1;
const EXIT_USAGE = 2;

const DEFAULT_ADMIN_URL = 'http://127.0.0.1:9090';
const DEFAULT_REASON = 'revoked with agentflow-gateway revoke';
/** Environment variable read when --token-file is not given. */
const TOKEN_FILE_ENV = 'AGENTFLOW_GATEWAY_ADMIN_TOKEN_FILE';
/** Time allowed for the whole request, in ms. */
const REQUEST_TIMEOUT_MS = 10_000;

export const REVOKE_USAGE = `Usage: agentflow-gateway revoke (--jti ID | --sub SUBJECT | --sid SESSION)
                               [--reason TEXT] [--ttl DURATION]
                               [--admin-url URL] [--token-file FILE]

Revokes one token (--jti), every token of a subject issued until now (--sub),
or every token of a session (--sid), through the admin API of a running gateway.

Options:
  --jti ID           Token id (the jti claim) to revoke
  --sub SUBJECT      Subject (the sub claim) whose tokens issued until now are revoked
  --sid SESSION      Session id (the sid claim) whose tokens are revoked
  --reason TEXT      Why, kept with the record (default: "${DEFAULT_REASON}")
  --ttl DURATION     Lifetime of the record, with unit: ms, s, m, h or d (e.g. 1h).
                     Default: jti records live for revocation.default_jti_ttl;
                     sub and sid records live until removed
  --admin-url URL    Admin listener of the gateway (default: ${DEFAULT_ADMIN_URL})
  --token-file FILE  File that contains the admin token (default: the file named
                     by ${TOKEN_FILE_ENV})
  -h, --help         Show this help

Exit status: 0 revoked, 1 the request failed, 2 invalid usage.
`;

const OPTIONS = {
  jti: { type: 'string' },
  sub: { type: 'string' },
  sid: { type: 'string' },
  reason: { type: 'string' },
  ttl: { type: 'string' },
  'admin-url': { type: 'string' },
  'token-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type RevokeValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

/** Output streams and environment of the CLI; those of the process by default. */
export interface RevokeOutput {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
}

const PROCESS_OUTPUT: RevokeOutput = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
};

/**
 * Runs `agentflow-gateway revoke` with the arguments after the command name and returns the
 * exit status: 0 revoked, 1 the request failed, 2 invalid usage.
 */
export async function runRevoke(
  argv: string[],
  output: RevokeOutput = PROCESS_OUTPUT,
): Promise<number> {
  const usageError = (message: string) => {
    output.stderr.write(`agentflow-gateway revoke: ${message}\n\n${REVOKE_USAGE}`);
    return EXIT_USAGE;
  };
  let values: RevokeValues;
  try {
    values = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false }).values;
  } catch (error) {
    return usageError((error as Error).message);
  }
  if (values.help) {
    output.stdout.write(REVOKE_USAGE);
    return EXIT_OK;
  }
  const body = requestBody(values);
  if (typeof body === 'string') return usageError(body);
  const target = revocationsUrl(values['admin-url'] ?? DEFAULT_ADMIN_URL);
  if (target === undefined) return usageError('--admin-url must be an http:// or https:// URL');
  const tokenFile = values['token-file'] ?? output.env[TOKEN_FILE_ENV];
  if (tokenFile === undefined || tokenFile === '') {
    return usageError(`--token-file is required when ${TOKEN_FILE_ENV} is not set`);
  }
  return sendRevocation(target, tokenFile, body, output);
}

/** Returns the JSON body, or a usage error message. */
function requestBody(values: RevokeValues): Record<string, string> | string {
  const given = (['jti', 'sub', 'sid'] as const).filter((kind) => values[kind] !== undefined);
  if (given.length !== 1) return 'give exactly one of --jti, --sub and --sid';
  const kind = given[0]!;
  if (values[kind] === '') return `--${kind} must not be empty`;
  const body: Record<string, string> = {
    [kind]: values[kind]!,
    reason: values.reason ?? DEFAULT_REASON,
  };
  if (values.ttl !== undefined) body['ttl'] = values.ttl;
  return body;
}

function revocationsUrl(adminUrl: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(adminUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  return new URL('/admin/revocations', url);
}

async function sendRevocation(
  target: URL,
  tokenFile: string,
  body: Record<string, string>,
  output: RevokeOutput,
): Promise<number> {
  const fail = (message: string) => {
    output.stderr.write(`agentflow-gateway revoke: ${message}\n`);
    return EXIT_RUNTIME_FAILURE;
  };
  let token: string;
  try {
    token = (await readFile(tokenFile, 'utf8')).trim();
  } catch (error) {
    return fail(`reading the token file ${tokenFile} failed: ${(error as Error).message}`);
  }
  if (token === '' || /\s/.test(token)) {
    return fail(`the token file ${tokenFile} must contain the admin token alone, on one line`);
  }
  let response;
  try {
    response = await request(target, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    return fail(`the request to ${target.href} failed: ${(error as Error).message}`);
  }
  const text = await response.body.text();
  if (response.statusCode !== 201) return fail(describeFailure(response.statusCode, text));
  output.stdout.write(describeSuccess(text));
  return EXIT_OK;
}

/** Returns the problem's code and detail, or the status and body when it is not a problem. */
function describeFailure(status: number, text: string): string {
  const problem = parseObject(text);
  if (typeof problem?.['code'] === 'string') {
    const detail = typeof problem['detail'] === 'string' ? `: ${problem['detail']}` : '';
    return `the gateway rejected the revocation with ${status} ${problem['code']}${detail}`;
  }
  return `the gateway answered ${status}: ${text.slice(0, 200)}`;
}

function describeSuccess(text: string): string {
  const record = parseObject(text) ?? {};
  const until = typeof record['expires_at'] === 'string' ? record['expires_at'] : 'removed';
  return `revoked ${String(record['kind'])} ${JSON.stringify(record['value'])} until ${until}\n`;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
