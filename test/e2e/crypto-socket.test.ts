import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { lstat, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import t, { type Test } from 'tap';
import { Agent, request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { shortDir } from '../helpers/short-dir.js';
import { startUpstream } from '../helpers/upstream.js';

const TOKEN = 'socket-caller-'.repeat(4);
const CONTEXT = 'file:user_42';

/** Creates a folder with a key and a token, and returns it with the path of a socket in it. */
async function socketDir(t: Test): Promise<{ dir: string; socket: string }> {
  const dir = await shortDir(t, { 'backend.token': TOKEN });
  await writeFile(path.join(dir, 'v1.key'), randomBytes(32).toString('base64'));
  return { dir, socket: path.join(dir, 'crypto.sock') };
}

function cryptoConfig(dir: string, socket: string, mode?: string): string {
  const modeField = mode === undefined ? '' : `, mode: '${mode}'`;
  return `crypto:
  enabled: true
  keys: [{ version: 1, file: ${path.join(dir, 'v1.key')} }]
  callers:
    - { name: backend, token_file: ${path.join(dir, 'backend.token')}, context_prefixes: ['file:'] }
  socket: { path: ${socket}${modeField} }
`;
}

async function startWithSocket(
  t: Test,
  dir: string,
  socket: string,
  mode?: string,
): Promise<TestGateway> {
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const gw = await startGateway({
    upstreamUrl: upstream.url,
    config: cryptoConfig(dir, socket, mode),
  });
  t.teardown(() => gw.stop());
  return gw;
}

/** Sends a request over the Unix socket with undici, a real HTTP client. */
async function overSocket(
  socket: string,
  urlPath: string,
  options: { body?: object; token?: string | null } = {},
): Promise<{ status: number; headers: Record<string, unknown>; json: Record<string, unknown> }> {
  const dispatcher = new Agent({ connect: { socketPath: socket } });
  try {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const token = options.token === undefined ? TOKEN : options.token;
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    const response = await request(`http://localhost${urlPath}`, {
      dispatcher,
      method: options.body === undefined ? 'GET' : 'POST',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const json = (await response.body.json()) as Record<string, unknown>;
    return { status: response.statusCode, headers: response.headers, json };
  } finally {
    await dispatcher.close();
  }
}

t.test('api served on the socket', async (t) => {
  const { dir, socket } = await socketDir(t);
  const gw = await startWithSocket(t, dir, socket);
  const info = await lstat(socket);
  t.ok(info.isSocket(), 'the path is a socket');
  t.equal(info.mode & 0o777, 0o600, 'mode 0600 by default');

  const sealed = await overSocket(socket, '/v1/crypto/encrypt', {
    body: { context: CONTEXT, plaintext_utf8: 'over the socket', aad: 'doc:1' },
  });
  t.equal(sealed.status, 200);
  t.equal(sealed.json['key_version'], 1);
  const opened = await overSocket(socket, '/v1/crypto/decrypt', {
    body: {
      context: CONTEXT,
      ciphertext: sealed.json['ciphertext'],
      aad: 'doc:1',
      encoding: 'utf8',
    },
  });
  t.same(opened.json, { plaintext_utf8: 'over the socket' }, 'round trip over the socket');
  const viaHttp = await request(`${gw.adminUrl}/v1/crypto/decrypt`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      context: CONTEXT,
      ciphertext: sealed.json['ciphertext'],
      aad: 'doc:1',
      encoding: 'utf8',
    }),
  });
  t.same(
    await viaHttp.body.json(),
    { plaintext_utf8: 'over the socket' },
    'the same keys as the admin listener',
  );

  const missing = await overSocket(socket, '/v1/crypto/keys', { token: null });
  t.equal(missing.status, 401, 'the caller token is required');
  t.equal(missing.json['code'], 'crypto_unauthorized');
  t.match(missing.headers['www-authenticate'], /^Bearer realm=/);
  const wrong = await overSocket(socket, '/v1/crypto/keys', { token: 'x'.repeat(48) });
  t.equal(wrong.status, 401, 'a wrong token is rejected');
  t.equal(wrong.json['code'], 'crypto_unauthorized');
  const metrics = await overSocket(socket, '/metrics');
  t.equal(metrics.status, 404, 'only the crypto api is served');
  t.equal(metrics.json['code'], 'route_not_found');
  t.notMatch(JSON.stringify(metrics.json), 'agentflow_gateway_', 'no metrics over the socket');

  await gw.stop();
  await t.rejects(lstat(socket), { code: 'ENOENT' }, 'the socket file is removed at stop');
});

t.test('socket mode configurable', async (t) => {
  const { dir, socket } = await socketDir(t);
  await startWithSocket(t, dir, socket, '0660');
  t.equal((await lstat(socket)).mode & 0o777, 0o660);
});

t.test('stale socket file replaced', async (t) => {
  const { dir, socket } = await socketDir(t);
  // A process that listens and is killed leaves its socket file behind, as a crash would.
  const child = spawn(process.execPath, [
    '-e',
    `require('node:net').createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, 'SIGKILL'))`,
  ]);
  await once(child, 'exit');
  t.ok((await lstat(socket)).isSocket(), 'the stale socket file exists');
  await startWithSocket(t, dir, socket);
  const keys = await overSocket(socket, '/v1/crypto/keys');
  t.equal(keys.status, 200, 'the gateway listens on the path');
});

t.test('socket in use stops the start', async (t) => {
  const { dir, socket } = await socketDir(t);
  const other = createServer((connection) => connection.end());
  other.listen(socket);
  await once(other, 'listening');
  t.teardown(() => new Promise((resolve) => other.close(resolve)));
  await t.rejects(startWithSocket(t, dir, socket), /is in use by another process/);
  t.ok((await lstat(socket)).isSocket(), 'the other socket is left alone');
});

t.test('file at socket path stops the start', async (t) => {
  const { dir, socket } = await socketDir(t);
  await writeFile(socket, 'not a socket');
  await t.rejects(startWithSocket(t, dir, socket), /exists and is not a socket/);
  t.equal(await readFile(socket, 'utf8'), 'not a socket', 'the file is left alone');
});

t.test('socket path too long', async (t) => {
  const { dir } = await socketDir(t);
  const socket = path.join(dir, 's'.repeat(110));
  await t.rejects(startWithSocket(t, dir, socket), /Unix sockets allow at most 107/);
});
