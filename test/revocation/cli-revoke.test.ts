import { once } from 'node:events';
import { createServer } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { REVOKE_USAGE, runRevoke } from '../../src/cli/revoke.js';
import { startAdminServer } from './admin-fixtures.js';
import { isRevoked } from './fixtures.js';

/** Runs the CLI with captured output and an environment of its own. */
async function revoke(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runRevoke(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
  });
  return { code, stdout, stderr };
}

t.test('revoke cli against the admin api', async (t) => {
  const { url, tokenFile, list } = await startAdminServer(t);
  const common = ['--admin-url', url, '--token-file', tokenFile];

  const jti = await revoke(['--jti', 'abc', '--reason', 'leaked', '--ttl', '2h', ...common]);
  t.equal(jti.code, 0, 'jti exit status');
  t.match(jti.stdout, /^revoked jti "abc" until \d{4}-\d\d-\d\dT/);
  t.equal(jti.stderr, '');
  t.same(list.check({ jti: 'abc' }), { revoked: true, kind: 'jti', reason: 'leaked' });

  const sub = await revoke(['--sub', 'alice', ...common]);
  t.equal(sub.code, 0, 'sub exit status');
  t.equal(sub.stdout, 'revoked sub "alice" until removed\n');
  t.ok(isRevoked(list.check({ sub: 'alice', iat: 0 })));
  t.same(
    (await list.list()).records.find((r) => r.kind === 'sub')?.reason,
    'revoked with agentflow-gateway revoke',
  );

  const sid = await revoke(['--sid', 'session-1', '--admin-url', url], {
    AGENTFLOW_GATEWAY_ADMIN_TOKEN_FILE: tokenFile,
  });
  t.equal(sid.code, 0, 'token file from the environment');
  t.ok(isRevoked(list.check({ sid: 'session-1' })));
});

t.test('revoke cli failures', async (t) => {
  const { url, tokenFile } = await startAdminServer(t);
  const badTtl = await revoke([
    '--jti',
    'a',
    '--ttl',
    '30',
    '--admin-url',
    url,
    '--token-file',
    tokenFile,
  ]);
  t.equal(badTtl.code, 1, 'rejected by the gateway');
  t.match(
    badTtl.stderr,
    /rejected the revocation with 400 invalid_revocation: ttl: invalid duration "30"/,
  );

  const wrongFile = join(dirname(tokenFile), 'wrong-token');
  await writeFile(wrongFile, 'b'.repeat(40));
  const wrongToken = await revoke(['--jti', 'a', '--admin-url', url, '--token-file', wrongFile]);
  t.equal(wrongToken.code, 1, 'wrong token');
  t.match(wrongToken.stderr, /401 admin_unauthorized: the admin token is invalid/);

  const sourceFile = fileURLToPath(import.meta.url);
  const twoLines = await revoke(['--jti', 'a', '--admin-url', url, '--token-file', sourceFile]);
  t.equal(twoLines.code, 1, 'token file with several lines');
  t.match(twoLines.stderr, /must contain the admin token alone, on one line/);
  t.notMatch(twoLines.stderr, /import/, 'the file content is not shown');

  const missingFile = await revoke([
    '--jti',
    'a',
    '--admin-url',
    url,
    '--token-file',
    join(tokenFile, 'nope'),
  ]);
  t.equal(missingFile.code, 1, 'unreadable token file');
  t.match(missingFile.stderr, /reading the token file .* failed/);

  const closedUrl = await closedPortUrl();
  const refused = await revoke(['--jti', 'a', '--admin-url', closedUrl, '--token-file', tokenFile]);
  t.equal(refused.code, 1, 'connection refused');
  t.match(refused.stderr, /the request to http:\/\/127\.0\.0\.1:\d+\/admin\/revocations failed/);
});

t.test('revoke cli usage', async (t) => {
  const help = await revoke(['--help']);
  t.equal(help.code, 0);
  t.equal(help.stdout, REVOKE_USAGE);
  const cases: [string, string[], RegExp][] = [
    ['no kind', ['--token-file', 'f'], /exactly one of --jti, --sub and --sid/],
    ['two kinds', ['--jti', 'a', '--sid', 'b', '--token-file', 'f'], /exactly one/],
    ['empty value', ['--jti', '', '--token-file', 'f'], /--jti must not be empty/],
    ['unknown option', ['--jti', 'a', '--exp', '5'], /Unknown option '--exp'/],
    ['positional', ['a'], /Unexpected argument 'a'/],
    [
      'bad url',
      ['--jti', 'a', '--admin-url', 'ftp://x', '--token-file', 'f'],
      /--admin-url must be/,
    ],
    ['no token file', ['--jti', 'a'], /--token-file is required/],
  ];
  for (const [name, argv, message] of cases) {
    const result = await revoke(argv);
    t.equal(result.code, 2, `${name}: exit status`);
    t.match(result.stderr, message, `${name}: message`);
    t.match(result.stderr, /Usage: agentflow-gateway revoke/, `${name}: usage`);
  }
});

/** Returns the URL of a loopback port that was free a moment ago, so connecting is refused. */
async function closedPortUrl(): Promise<string> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
