import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT, type JWK } from 'jose';
import { DEMO_AUDIENCE, DEMO_ISSUER } from '../auth/demo.js';
import { parseDuration } from '../util/units.js';

export const TOKEN_USAGE = `Usage:
  agentflow-gateway token mint --key FILE --sub SUBJECT [options]
  agentflow-gateway token inspect TOKEN

mint signs a JWT for testing with a private key in JWK form (the demo's is
.demo/signing-key.jwk, written by npm start) and prints it.
  --key FILE         Private JWK (OKP, EC, RSA, or oct for HMAC)
  --sub SUBJECT      sub claim
  --roles A,B        roles claim, comma-separated
  --scope "A B"      scope claim
  --sid SESSION      sid claim
  --ttl DURATION     Lifetime, e.g. 5m or 1h (default: 1h)
  --issuer ISS       iss claim (default: ${DEMO_ISSUER})
  --audience AUD     aud claim (default: ${DEMO_AUDIENCE})
  --alg ALG          Signing algorithm (default: from the key type)

inspect prints a token's header and claims WITHOUT verifying its signature.
`;

const DEFAULT_TTL = '1h';
const EXIT_USAGE = 2;

/** Runs `token mint` or `token inspect`; returns the exit status. */
export async function runToken(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action === 'mint') return mint(rest);
  if (action === 'inspect') return inspect(rest);
  const helpRequested = action === '--help' || action === '-h';
  (helpRequested ? process.stdout : process.stderr).write(TOKEN_USAGE);
  return helpRequested ? 0 : EXIT_USAGE;
}

const MINT_OPTIONS = {
  key: { type: 'string' },
  sub: { type: 'string' },
  roles: { type: 'string' },
  scope: { type: 'string' },
  sid: { type: 'string' },
  ttl: { type: 'string', default: DEFAULT_TTL },
  issuer: { type: 'string', default: DEMO_ISSUER },
  audience: { type: 'string', default: DEMO_AUDIENCE },
  alg: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function mint(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parseMintArgs>;
  try {
    values = parseMintArgs(argv);
  } catch (error) {
    return usageError('mint', (error as Error).message);
  }
  if (values.help) {
    process.stdout.write(TOKEN_USAGE);
    return 0;
  }
  if (values.key === undefined || values.sub === undefined) {
    return usageError('mint', '--key and --sub are required');
  }

  const ttlMs = parseDuration(values.ttl);
  if (ttlMs === undefined || ttlMs <= 0) {
    process.stderr.write(`agentflow-gateway token mint: invalid --ttl "${values.ttl}", e.g. 5m\n`);
    return EXIT_USAGE;
  }

  const claims: Record<string, unknown> = {};
  if (values.roles !== undefined) claims['roles'] = values.roles.split(',').filter(Boolean);
  if (values.scope !== undefined) claims['scope'] = values.scope;
  if (values.sid !== undefined) claims['sid'] = values.sid;

  const now = Math.floor(Date.now() / 1_000);
  let token: string;
  try {
    const jwk = await readPrivateJwk(values.key);
    const alg = values.alg ?? defaultAlgorithm(jwk);
    const key = await importJWK(jwk, alg);
    const header = jwk.kid === undefined ? { alg, typ: 'JWT' } : { alg, typ: 'JWT', kid: jwk.kid };
    token = await new SignJWT(claims)
      .setProtectedHeader(header)
      .setIssuer(values.issuer)
      .setAudience(values.audience)
      .setSubject(values.sub)
      .setIssuedAt(now)
      .setExpirationTime(now + Math.ceil(ttlMs / 1_000))
      .setJti(crypto.randomUUID())
      .sign(key);
  } catch (error) {
    process.stderr.write(
      `agentflow-gateway token mint: cannot sign with --key ${values.key}: ${(error as Error).message}\n`,
    );
    return EXIT_USAGE;
  }

  process.stdout.write(`${token}\n`);
  return 0;
}

function parseMintArgs(argv: string[]) {
  return parseArgs({ args: argv, options: MINT_OPTIONS }).values;
}

/** Reads a private JWK. Raises a plain Error for a public key or a file that is not a JWK. */
async function readPrivateJwk(file: string): Promise<JWK> {
  const text = await readFile(file, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('the file is not a JWK (a JSON object); PEM keys are not read here');
  }
  const jwk = value as JWK;
  if (jwk.kty === 'oct' ? jwk.k === undefined : jwk.d === undefined) {
    throw new Error('the JWK has no private part; mint needs the private key');
  }
  return jwk;
}

function usageError(action: string, message: string): number {
  process.stderr.write(`agentflow-gateway token ${action}: ${message}\n\n${TOKEN_USAGE}`);
  return EXIT_USAGE;
}

function inspect(argv: string[]): number {
  const [token] = argv;
  if (token === '--help' || token === '-h') {
    process.stdout.write(TOKEN_USAGE);
    return 0;
  }
  if (token === undefined || argv.length !== 1) {
    return usageError('inspect', 'give exactly one token');
  }
  try {
    const output = {
      verified: false,
      header: decodeProtectedHeader(token),
      claims: decodeJwt(token),
    };
    process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(
      `agentflow-gateway token inspect: invalid token: ${(error as Error).message}\n`,
    );
    return EXIT_USAGE;
  }
}

/** Returns the usual algorithm for a key type; `--alg` overrides it. */
function defaultAlgorithm(jwk: JWK): string {
  switch (jwk.kty) {
    case 'OKP':
      return 'EdDSA';
    case 'EC':
      if (jwk.crv === 'P-384') return 'ES384';
      if (jwk.crv === 'P-521') return 'ES512';
      return 'ES256';
    case 'oct':
      return 'HS256';
    default:
      return 'RS256';
  }
}
