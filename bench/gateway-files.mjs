// The configuration, policies and token the benchmark's gateways run with, written into the
// benchmark's temporary folder. The shipped config/gateway.yaml trusts the demo issuer of
// `npm start`, which the gateway rejects elsewhere, so every benchmark gateway trusts a key pair
// of its own instead.
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SignJWT } from 'jose';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

const ISSUER = 'urn:agentflow-gateway:bench';
const AUDIENCE = 'agentflow-rag';
/** Below the issuer's default `max_lifetime` of 1 day, and longer than any benchmark run. */
const TOKEN_LIFETIME_SECONDS = 12 * 3600;
/** The schema's maximum `requests`: with it, no benchmark run comes near a limit. */
const UNREACHABLE_REQUESTS = 1_000_000_000;
/** The schema's maximum `max_in_flight`, far above the benchmark's connections. */
const UNREACHABLE_IN_FLIGHT = 1_000_000;

const CATCH_ALL_POLICY = `version: 1
routes:
  - name: catch-all
    match: { path_prefix: / }
    auth: none
    # Passthrough measures forwarding alone: no token, no limits, no response scanning.
    response: { enabled: false }
`;

/**
 * Generates an Ed25519 key pair, writes the public key to `workDir/bench-issuer.pem` and
 * returns the issuer entry for `auth.issuers` and a token it signed: `sub` bench-user, role
 * `user`, which the shipped `rag-query` route requires.
 */
export async function createBenchIssuer(workDir) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const keyFile = path.join(workDir, 'bench-issuer.pem');
  await writeFile(keyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ roles: ['user'] })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('bench-user')
    .setIssuedAt(now)
    .setExpirationTime(now + TOKEN_LIFETIME_SECONDS)
    .sign(privateKey);
  const issuer = {
    name: 'bench',
    issuer: ISSUER,
    audiences: [AUDIENCE],
    algorithms: ['EdDSA'],
    keys: [{ file: keyFile }],
  };
  return { issuer, token };
}

/**
 * Writes `workDir/NAME.yaml`: config/gateway.yaml with `auth.issuers` replaced by `issuer` and,
 * when `redisPort` is given, the rate-limit store on that Redis. Returns the file's path.
 */
export async function writeGatewayConfig(root, workDir, { name, issuer, redisPort }) {
  const config = parseYaml(readFileSync(path.join(root, 'config/gateway.yaml'), 'utf8'));
  config.auth = { ...config.auth, issuers: [issuer] };
  if (redisPort !== undefined) {
    config.store = { backend: 'redis', redis: { host: '127.0.0.1', port: redisPort } };
  }
  const file = path.join(workDir, `${name}.yaml`);
  await writeFile(file, stringifyYaml(config));
  return file;
}

/**
 * Writes a policy folder under `workDir` and returns its path. `catch-all` is one route
 * `path_prefix: /` with `auth: none` and no rate limits. `default` and `default-no-limits` are
 * copies of policies/: the first with every rate limit raised to 10^9 requests per window, so
 * that every request is decided by all its layers and allowed, the second without rate limits.
 */
export async function writePolicies(root, workDir, kind) {
  const dir = path.join(workDir, `policies-${kind}`);
  await mkdir(dir, { recursive: true });
  if (kind === 'catch-all') {
    await writeFile(path.join(dir, 'routes.yaml'), CATCH_ALL_POLICY);
    return dir;
  }
  const shipped = path.join(root, 'policies');
  for (const file of readdirSync(shipped).filter((name) => /\.ya?ml$/.test(name))) {
    const policy = parseYaml(readFileSync(path.join(shipped, file), 'utf8'));
    if (kind === 'default-no-limits') {
      delete policy.rate_limits;
      for (const route of policy.routes ?? []) delete route.rate_limits;
    } else {
      raiseLimits(policy.rate_limits ?? []);
    }
    await writeFile(path.join(dir, file), stringifyYaml(policy));
  }
  return dir;
}

function raiseLimits(layers) {
  const limitSets = [];
  for (const layer of layers) {
    limitSets.push(layer, ...Object.values(layer.tiers?.values ?? {}));
  }
  for (const limitSet of limitSets) {
    if (limitSet.max_in_flight !== undefined) limitSet.max_in_flight = UNREACHABLE_IN_FLIGHT;
  }
  for (const limit of limitSets.flatMap((limitSet) => limitSet.limits ?? [])) {
    limit.requests = UNREACHABLE_REQUESTS;
    if (limit.burst !== undefined) limit.burst = UNREACHABLE_REQUESTS;
  }
}
