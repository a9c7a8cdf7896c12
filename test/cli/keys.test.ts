import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import { KEYS_USAGE } from '../../src/cli/keys.js';
import { runCli } from './run-cli.js';

const KEY_V1 = randomBytes(32).toString('base64');
const KEY_V2 = randomBytes(32).toString('base64');

/** Writes a configuration with keys v1 (file) and v2 (env) and min_version 2. */
async function configDir(t: Test): Promise<{ dir: string; config: string }> {
  const dir = t.testdir({ 'v1.key': `${KEY_V1}\n` });
  const config = path.join(dir, 'gateway.yaml');
  await writeFile(
    config,
    `upstream: { url: http://127.0.0.1:9 }
crypto:
  keys:
    - { version: 1, file: v1.key }
    - { version: 2, env: KEY_V2 }
  min_version: 2
`,
  );
  return { dir, config };
}

t.test('keys help', async (t) => {
  const result = await runCli(['keys', '--help']);
  t.equal(result.code, 0);
  t.equal(result.stdout, KEYS_USAGE);
  const main = await runCli(['--help']);
  t.match(main.stdout, /^ {2}keys {7}/m, 'listed in the main help');
});

t.test('keys generate to stdout', async (t) => {
  const first = await runCli(['keys', 'generate']);
  const second = await runCli(['keys', 'generate']);
  t.equal(first.code, 0);
  t.match(first.stdout, /^[A-Za-z0-9+/]{43}=\n$/, 'one base64 line');
  t.equal(Buffer.from(first.stdout.trim(), 'base64').length, 32, '32 bytes');
  t.not(first.stdout, second.stdout, 'a new key each time');
});

t.test('keys generate to a file', async (t) => {
  const dir = t.testdir({ existing: 'keep' });
  const file = path.join(dir, 'new.key');
  const result = await runCli(['keys', 'generate', '--out', file]);
  t.equal(result.code, 0);
  t.notMatch(result.stdout, (await readFile(file, 'utf8')).trim(), 'the key is not printed');
  t.equal(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64').length, 32);
  t.equal((await stat(file)).mode & 0o777, 0o600, 'mode 0600');
  const again = await runCli(['keys', 'generate', '--out', path.join(dir, 'existing')]);
  t.equal(again.code, 1, 'an existing file is not overwritten');
  t.match(again.stderr, 'the file exists');
  t.equal(await readFile(path.join(dir, 'existing'), 'utf8'), 'keep');
});

t.test('keys list', async (t) => {
  const { config } = await configDir(t);
  const result = await runCli(['keys', 'list', '--config', config], { KEY_V2 });
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /^2\tactive\tenvironment variable KEY_V2$/m);
  t.match(result.stdout, /^1\tretired\tv1\.key$/m);
  t.match(result.stdout, 'crypto.enabled is false');
  for (const key of [KEY_V1, KEY_V2]) {
    t.notMatch(result.stdout + result.stderr, key.slice(0, 16), 'no key bytes');
  }
});

t.test('keys list with auto rotation', async (t) => {
  const dir = t.testdir({ 'v1.key': `${KEY_V1}\n` });
  const config = path.join(dir, 'gateway.yaml');
  // A 30-day schedule that started 45 days ago has moved from version 1 to version 2.
  const start = new Date(Date.now() - 45 * 24 * 60 * 60 * 1000).toISOString();
  await writeFile(
    config,
    `upstream: { url: http://127.0.0.1:9 }
crypto:
  keys:
    - { version: 1, file: v1.key }
    - { version: 2, env: KEY_V2 }
    - { version: 3, env: KEY_V3 }
  rotation: { encrypt_version: 1, auto: { period: 30d, start: '${start}' } }
`,
  );
  const KEY_V3 = randomBytes(32).toString('base64');
  const result = await runCli(['keys', 'list', '--config', config], { KEY_V2, KEY_V3 });
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /^3\tpending\t/m, 'the next version waits');
  t.match(result.stdout, /^2\tactive\t/m, 'the period made version 2 active');
  t.match(result.stdout, /^1\tdecrypt_only\t/m);
});

t.test('keys list with a missing key', async (t) => {
  const { config } = await configDir(t);
  const result = await runCli(['keys', 'list', '--config', config]);
  t.equal(result.code, 2);
  t.match(result.stderr, 'key version 2: environment variable KEY_V2 is not set');
});

t.test('keys rotate', async (t) => {
  const { dir, config } = await configDir(t);
  const result = await runCli(['keys', 'rotate', '--config', config]);
  t.equal(result.code, 0, result.stderr);
  const file = path.join(dir, 'crypto-key-v3');
  t.match(result.stdout, `wrote key version 3 to ${file}`);
  t.match(result.stdout, '- { version: 3, file: crypto-key-v3 }');
  const key = (await readFile(file, 'utf8')).trim();
  t.equal(Buffer.from(key, 'base64').length, 32);
  t.notMatch(result.stdout, key, 'the key is not printed');
  t.equal((await stat(file)).mode & 0o777, 0o600, 'mode 0600');
  const again = await runCli(['keys', 'rotate', '--config', config]);
  t.equal(again.code, 1, 'the existing version 3 file is not overwritten');
});

t.test('keys usage errors', async (t) => {
  const missing = await runCli(['keys']);
  t.equal(missing.code, 2);
  t.match(missing.stderr, 'missing action');
  const unknown = await runCli(['keys', 'destroy']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, 'unknown action "destroy"');
  const wrongOption = await runCli(['keys', 'generate', '--dir', '/tmp']);
  t.equal(wrongOption.code, 2);
  t.match(wrongOption.stderr, '--dir is not an option of generate');
  const badConfig = await runCli(['keys', 'list', '--config', '/nonexistent/gateway.yaml']);
  t.equal(badConfig.code, 2);
});
