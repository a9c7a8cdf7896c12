import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import t from 'tap';
import { DEMO_AUDIENCE, DEMO_ISSUER } from '../src/auth/demo.js';
import { TOKEN_USAGE } from '../src/cli/token.js';
import { MAIN_USAGE, VALIDATE_USAGE } from '../src/cli/usage.js';
import { runCli } from './cli/run-cli.js';

const UPSTREAM_ONLY = 'upstream: { url: http://127.0.0.1:1 }\n';
/** An issuer whose JWKS is never fetched, because validate reads keys but fetches no URLs. */
const ISSUER_SECTION = [
  'auth:',
  '  issuers:',
  '    - name: main',
  '      issuer: https://id.example.test',
  '      audiences: [agentflow]',
  '      algorithms: [RS256]',
  '      jwks: { url: http://127.0.0.1:1/jwks.json }',
  '',
].join('\n');

/** Returns the line that validate writes to stderr for a configuration trusting the demo issuer. */
function demoIssuerWarning(configFile: string): string {
  return (
    `warning: ${configFile}: auth.issuers[0].issuer: the demo issuer ${DEMO_ISSUER} is accepted ` +
    'only under npm start, so serve will reject this configuration: replace it with your ' +
    "identity provider's issuer, audiences, algorithms and jwks.url\n"
  );
}

t.test('--help exits 0', async (t) => {
  const result = await runCli(['--help']);
  t.equal(result.code, 0);
  t.equal(result.stdout, MAIN_USAGE);
  t.equal(result.stderr, '');
});

t.test('missing command exits 2', async (t) => {
  const result = await runCli([]);
  t.equal(result.code, 2);
  t.equal(result.stdout, '');
  t.equal(result.stderr, `agentflow-gateway: missing command\n\n${MAIN_USAGE}`);
});

t.test('unknown command exits 2', async (t) => {
  const result = await runCli(['frobnicate']);
  t.equal(result.code, 2);
  t.equal(result.stdout, '');
  t.equal(result.stderr, `agentflow-gateway: unknown command "frobnicate"\n\n${MAIN_USAGE}`);
});

t.test('unknown option exits 2', async (t) => {
  const result = await runCli(['validate', '--colour']);
  t.equal(result.code, 2);
  t.equal(result.stdout, '');
  t.equal(
    result.stderr,
    `agentflow-gateway validate: Unknown option '--colour'\n\n${VALIDATE_USAGE}`,
  );
});

t.test('positional argument exits 2', async (t) => {
  const result = await runCli(['validate', 'config/gateway.yaml']);
  t.equal(result.code, 2);
  t.match(
    result.stderr,
    /^agentflow-gateway validate: Unexpected argument 'config\/gateway\.yaml'/,
  );
});

t.test('validate --help exits 0', async (t) => {
  const result = await runCli(['validate', '--help']);
  t.equal(result.code, 0);
  t.equal(result.stdout, VALIDATE_USAGE);
});

t.test('validate shipped files', async (t) => {
  const result = await runCli([
    'validate',
    '--config',
    'config/gateway.yaml',
    '--policies',
    'policies',
  ]);
  t.equal(result.code, 0);
  t.equal(result.stdout, 'valid: config/gateway.yaml and 1 policy file(s), 5 route(s)\n');
  t.equal(result.stderr, demoIssuerWarning('config/gateway.yaml'), 'warns about the demo issuer');
});

t.test('validate warns about demo issuer', async (t) => {
  const dir = t.testdir({
    'demo.yaml': [
      UPSTREAM_ONLY,
      'auth:',
      '  issuers:',
      '    - name: demo',
      `      issuer: ${DEMO_ISSUER}`,
      `      audiences: [${DEMO_AUDIENCE}]`,
      '      algorithms: [EdDSA]',
      '      jwks: { url: http://127.0.0.1:1/jwks.json }',
      '',
    ].join('\n'),
    'own-issuer.yaml': `${UPSTREAM_ONLY}${ISSUER_SECTION}`,
  });
  const demo = path.join(dir, 'demo.yaml');
  const withDemo = await runCli(['validate', '--config', demo, '--policies', 'policies']);
  t.equal(withDemo.code, 0, 'still valid');
  t.equal(withDemo.stdout, `valid: ${demo} and 1 policy file(s), 5 route(s)\n`);
  t.equal(withDemo.stderr, demoIssuerWarning(demo), 'one warning line');

  const own = path.join(dir, 'own-issuer.yaml');
  const withoutDemo = await runCli(['validate', '--config', own, '--policies', 'policies']);
  t.equal(withoutDemo.code, 0);
  t.equal(withoutDemo.stderr, '', 'no warning for another issuer');
});

t.test('validate uses the configured policy folder', async (t) => {
  const result = await runCli(['validate']);
  t.equal(result.code, 0, 'config/gateway.yaml names ../policies');
  t.equal(result.stdout, 'valid: config/gateway.yaml and 1 policy file(s), 5 route(s)\n');
});

t.test('validate reads AGENTFLOW_GATEWAY_CONFIG', async (t) => {
  const dir = t.testdir({ 'gateway.yaml': `${UPSTREAM_ONLY}${ISSUER_SECTION}` });
  const config = path.join(dir, 'gateway.yaml');
  const result = await runCli(['validate', '--policies', 'policies'], {
    AGENTFLOW_GATEWAY_CONFIG: config,
  });
  t.equal(result.code, 0);
  t.equal(result.stdout, `valid: ${config} and 1 policy file(s), 5 route(s)\n`);
});

t.test('validate needs an issuer', async (t) => {
  const dir = t.testdir({ 'gateway.yaml': UPSTREAM_ONLY });
  const config = path.join(dir, 'gateway.yaml');
  const result = await runCli(['validate', '--config', config, '--policies', 'policies']);
  t.equal(result.code, 2);
  t.equal(result.stdout, '');
  const lines = result.stderr.trimEnd().split('\n');
  t.equal(lines.length, 4, 'one line per route that verifies tokens');
  t.match(
    lines[0],
    /^policies\/routes\.yaml:\d+:\d+: routes\[0\]\.auth: route "rag-query" verifies tokens \(auth: required\) but the gateway configuration has no auth\.issuers/,
  );
  t.notMatch(result.stderr, 'backend-health', 'auth: none routes need no issuer');
});

t.test('validate broken files exits 2', async (t) => {
  const dir = t.testdir({
    'gateway.yaml': [
      'limits:',
      '  headers_timeout: 30',
      '  max_body_bytes: 64kb',
      'upstream:',
      '  url: backend:8000',
      '  retries: 3',
      '',
    ].join('\n'),
    policies: {
      'a.yaml': [
        'version: 1',
        'routes:',
        '  - name: query',
        "    match: { path: '/q/{a}{b}' }",
        '  - name: both',
        '    match: { path: /a, path_prefix: /b }',
        '',
      ].join('\n'),
      'b.yaml':
        'version: 1\nroutes:\n  - name: b\n    match: { path: /b }\n    match: { path: /c }\n',
    },
  });
  const config = path.join(dir, 'gateway.yaml');
  const policies = path.join(dir, 'policies');
  const result = await runCli(['validate', '--config', config, '--policies', policies]);
  t.equal(result.code, 2);
  t.equal(result.stdout, '');
  const lines = result.stderr.trimEnd().split('\n');
  t.same(lines, [
    `${config}:2:20: limits.headers_timeout: invalid duration 30: write a number with a unit: ms, s, m, h or d (e.g. 30s)`,
    `${config}:3:19: limits.max_body_bytes: invalid size "64kb": write a number with a unit: B, KiB, MiB, GiB, KB, MB or GB (e.g. 64KiB)`,
    `${config}:5:8: upstream.url: must be an http:// or https:// URL`,
    `${config}:6:3: upstream.retries: unknown key`,
    `${policies}/a.yaml:4:20: routes[0].match.path: invalid template segment "{a}{b}": a parameter is a whole segment {name}`,
    `${policies}/a.yaml:6:12: routes[1].match: set exactly one of path or path_prefix`,
    `${policies}/b.yaml:5:5: routes[0].match: duplicate key, first written at line 4`,
  ]);
  for (const line of lines)
    t.match(line, /^[^:]+:\d+:\d+: [\w.[\]]+: \S/, 'FILE:LINE:COLUMN: KEY.PATH: MESSAGE');
});

t.test('validate names an invalid env variable', async (t) => {
  const result = await runCli(['validate'], { AGENTFLOW_GATEWAY_LISTEN_PORT: 'eighty' });
  t.equal(result.code, 2);
  t.equal(
    result.stderr,
    'environment variable AGENTFLOW_GATEWAY_LISTEN_PORT: listeners.public.port: Invalid input: expected number, received string\n',
  );
});

t.test('validate missing config file', async (t) => {
  const config = path.join(t.testdir({}), 'absent.yaml');
  const result = await runCli(['validate', '--config', config, '--policies', 'policies']);
  t.equal(result.code, 2);
  t.equal(result.stderr, `${config}: (root): cannot read file (ENOENT)\n`);
});

t.test('serve exits 2 on invalid config', async (t) => {
  const dir = t.testdir({ 'gateway.yaml': 'upstream: { url: http://127.0.0.1:1, pool: 2 }\n' });
  const config = path.join(dir, 'gateway.yaml');
  const result = await runCli(['serve', '--config', config, '--policies', 'policies']);
  t.equal(result.code, 2);
  t.equal(result.stdout, '');
  t.equal(result.stderr, `${config}:1:38: upstream.pool: unknown key\n`);
});

t.test('serve refuses the demo issuer', async (t) => {
  const demoIssuer = [
    'listeners:',
    '  public: { host: 127.0.0.1, port: 0 }',
    '  admin: { host: 127.0.0.1, port: 0 }',
    UPSTREAM_ONLY,
    'auth:',
    '  issuers:',
    '    - name: demo',
    `      issuer: ${DEMO_ISSUER}`,
    `      audiences: [${DEMO_AUDIENCE}]`,
    '      algorithms: [EdDSA]',
    '      jwks: { url: http://127.0.0.1:1/jwks.json }',
    '',
  ].join('\n');
  const dir = t.testdir({ 'gateway.yaml': demoIssuer });
  const config = path.join(dir, 'gateway.yaml');
  const result = await runCli(['serve', '--config', config, '--policies', 'policies']);
  t.equal(result.code, 2);
  t.match(result.stderr, `${config}: auth.issuers[0].issuer: the demo issuer ${DEMO_ISSUER}`);
});

t.test('token --help exits 0', async (t) => {
  const result = await runCli(['token', '--help']);
  t.equal(result.code, 0);
  t.equal(result.stdout, TOKEN_USAGE);
});

t.test('token mint unknown option exits 2', async (t) => {
  const result = await runCli(['token', 'mint', '--colour']);
  t.equal(result.code, 2);
  t.equal(result.stdout, '');
  t.equal(
    result.stderr,
    `agentflow-gateway token mint: Unknown option '--colour'\n\n${TOKEN_USAGE}`,
  );
});

t.test('token mint without --sub exits 2', async (t) => {
  const result = await runCli(['token', 'mint', '--key', 'absent.jwk']);
  t.equal(result.code, 2);
  t.equal(
    result.stderr,
    `agentflow-gateway token mint: --key and --sub are required\n\n${TOKEN_USAGE}`,
  );
});

t.test('token mint unusable key exits 2', async (t) => {
  const { publicKey } = await generateKeyPair('EdDSA', { extractable: true });
  const dir = t.testdir({
    'public.jwk': JSON.stringify(await exportJWK(publicKey)),
    'private.pem': '-----BEGIN PRIVATE KEY-----\n',
  });
  const cases = [
    { file: path.join(dir, 'absent.jwk'), message: 'ENOENT' },
    { file: path.join(dir, 'public.jwk'), message: 'the JWK has no private part' },
    { file: path.join(dir, 'private.pem'), message: 'the file is not a JWK' },
  ];
  for (const { file, message } of cases) {
    const result = await runCli(['token', 'mint', '--key', file, '--sub', 'alice']);
    t.equal(result.code, 2, `${message}: exit code`);
    t.equal(result.stdout, '', `${message}: no token`);
    t.match(
      result.stderr,
      `agentflow-gateway token mint: cannot sign with --key ${file}: `,
      `${message}: names the key file`,
    );
    t.match(result.stderr, message, `${message}: says why`);
    t.notMatch(result.stderr, /\n\s+at /, `${message}: no stack trace`);
  }
});

t.test('token inspect invalid token exits 2', async (t) => {
  const result = await runCli(['token', 'inspect', 'not-a-token']);
  t.equal(result.code, 2);
  t.equal(result.stdout, '');
  t.match(result.stderr, /^agentflow-gateway token inspect: invalid token: /);
});
