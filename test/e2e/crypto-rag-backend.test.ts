import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { startRagBackend } from '../../examples/rag-backend/server.js';
import { Gateway } from '../../src/server/gateway.js';
import { shortDir } from '../helpers/short-dir.js';
import { AUDIENCE, ISSUER, generateSigningKey, signJwt } from '../auth/helpers/tokens.js';

const CALLER_TOKEN = 'rag-backend-caller-'.repeat(3);
const SHIPPED_POLICIES = fileURLToPath(new URL('../../policies', import.meta.url));
const PLAINTEXT = 'Quarterly plan of alice: the heron project ships in March.\n';

interface Demo {
  /** Every line the gateway logged. */
  logs: string[];
  gatewayUrl: string;
  adminUrl: string;
  storageDir: string;
  tokenOf(subject: string): Promise<string>;
}

/**
 * Starts the sample backend, which reaches the encryption API over the gateway's Unix socket,
 * and a gateway in front of it with the shipped policies and an issuer whose key the test holds.
 */
async function startDemo(t: Test): Promise<Demo> {
  const dir = t.testdir({ 'backend.token': CALLER_TOKEN });
  await writeFile(path.join(dir, 'v1.key'), randomBytes(32).toString('base64'));
  const key = await generateSigningKey('EdDSA', 'rag-key');
  await writeFile(path.join(dir, 'public-key.jwk'), JSON.stringify(key.publicJwk));
  const socket = path.join(await shortDir(t), 'crypto.sock');
  const backend = await startRagBackend({
    port: 0,
    streamDelayMs: 0,
    crypto: { url: `unix:${socket}`, token: CALLER_TOKEN },
  });
  t.teardown(() => backend.close());
  const configFile = path.join(dir, 'gateway.yaml');
  await writeFile(
    configFile,
    `listeners:
  public: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
upstream: { url: ${backend.url}, health_path: /health }
auth:
  issuers:
    - name: test
      issuer: '${ISSUER}'
      audiences: ['${AUDIENCE}']
      algorithms: [EdDSA]
      keys: [{ file: public-key.jwk }]
logging: { level: info }
policies: { dir: '${SHIPPED_POLICIES}' }
crypto:
  enabled: true
  keys: [{ version: 1, file: v1.key }]
  callers: [{ name: rag-backend, token_file: backend.token, context_prefixes: ['file:'] }]
  socket: { path: ${socket} }
`,
  );
  const logs: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString('utf8'));
      callback();
    },
  });
  const gateway = await Gateway.start({ configFile, env: {}, logDestination });
  t.teardown(() => gateway.stop());
  const tokenOf = (subject: string) => {
    const now = Math.floor(Date.now() / 1000);
    return signJwt(key, {
      iss: ISSUER,
      aud: AUDIENCE,
      sub: subject,
      roles: ['user'],
      iat: now,
      exp: now + 600,
    });
  };
  return {
    logs,
    gatewayUrl: gateway.publicUrl,
    adminUrl: gateway.adminUrl,
    storageDir: backend.storageDir,
    tokenOf,
  };
}

async function upload(demo: Demo, token: string, text: string, name: string): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([text], { type: 'text/plain' }), name);
  const response = await fetch(`${demo.gatewayUrl}/api/documents/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const body = (await response.json()) as { documents: { id: string }[] };
  if (response.status !== 201) throw new Error(`upload failed with ${response.status}`);
  return body.documents[0]!.id;
}

async function read(demo: Demo, id: string, token?: string) {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const response = await request(`${demo.gatewayUrl}/api/documents/${id}`, { headers });
  return {
    status: response.statusCode,
    headers: response.headers,
    text: await response.body.text(),
  };
}

/** Reads every byte the backend stored, one string per file. */
async function storedFiles(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const name of await readdir(dir))
    files.set(name, await readFile(path.join(dir, name), 'latin1'));
  return files;
}

t.test('uploads stored encrypted per owner', async (t) => {
  const demo = await startDemo(t);
  const alice = await demo.tokenOf('alice');
  const bob = await demo.tokenOf('bob');
  const id = await upload(demo, alice, PLAINTEXT, 'plan.txt');

  const files = await storedFiles(demo.storageDir);
  t.equal(files.size, 1, 'one stored file');
  const stored = files.get(`${id}.json`) ?? '';
  t.match(stored, /"content":"agfw:v1:1:[A-Za-z0-9_-]+"/, 'the content is a ciphertext');
  for (const [encoding, needle] of [
    ['text', 'heron project'],
    ['base64', Buffer.from(PLAINTEXT).toString('base64').slice(0, 24)],
    ['hex', Buffer.from(PLAINTEXT).toString('hex').slice(0, 24)],
  ]) {
    t.notOk(stored.includes(needle!), `no plaintext in the stored file (${encoding})`);
  }

  const own = await read(demo, id, alice);
  t.equal(own.status, 200, 'the owner reads the document');
  t.equal(own.text, PLAINTEXT, 'and gets the uploaded bytes back');
  t.match(own.headers['content-type'], 'text/plain');

  const other = await read(demo, id, bob);
  t.equal(other.status, 404, 'another user gets 404');
  t.equal(JSON.parse(other.text).error, 'document_not_found');
  t.notMatch(other.text, 'heron', 'nothing of the document leaks');
  const metrics = await (await request(`${demo.adminUrl}/metrics`)).body.text();
  t.match(
    metrics,
    /crypto_failures_total\{operation="decrypt",code="crypto_context_mismatch"\} 1/,
    'the decryption under the wrong context is what failed',
  );
  t.notOk(demo.logs.join('').includes('heron'), 'no plaintext in the gateway log');

  const anonymous = await read(demo, id);
  t.equal(anonymous.status, 401, 'no token, no read');
  const invalid = await read(demo, 'not-an-id', alice);
  t.equal(invalid.status, 400, 'the route schema rejects other ids');
  t.equal(JSON.parse(invalid.text).code, 'invalid_request');
});

t.test('queries see own uploads only', async (t) => {
  const demo = await startDemo(t);
  const alice = await demo.tokenOf('alice');
  const bob = await demo.tokenOf('bob');
  await upload(demo, alice, PLAINTEXT, 'plan.txt');
  const ask = async (token: string) => {
    const response = await request(`${demo.gatewayUrl}/api/rag/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'When does the heron project ship?', collection: 'uploads' }),
    });
    return (await response.body.json()) as { answer: string; sources: unknown[] };
  };
  t.match((await ask(alice)).answer, 'heron project ships in March', 'the owner finds it');
  const other = await ask(bob);
  t.same(other.sources, [], 'another user does not');
  t.notMatch(other.answer, 'heron');
});

t.test('moved ciphertext fails its check', async (t) => {
  const demo = await startDemo(t);
  const alice = await demo.tokenOf('alice');
  const first = await upload(demo, alice, 'first document\n', 'first.txt');
  const second = await upload(demo, alice, 'second document\n', 'second.txt');
  const firstFile = path.join(demo.storageDir, `${first}.json`);
  const secondFile = path.join(demo.storageDir, `${second}.json`);
  const secondRecord = JSON.parse(await readFile(secondFile, 'utf8')) as { content: string };
  const firstRecord = JSON.parse(await readFile(firstFile, 'utf8')) as { content: string };
  // The ciphertext of the first document in the file of the second: same owner, other id.
  await writeFile(secondFile, JSON.stringify({ ...secondRecord, content: firstRecord.content }));
  const moved = await read(demo, second, alice);
  t.equal(moved.status, 500, 'the backend refuses the moved ciphertext');
  t.equal(JSON.parse(moved.text).error, 'document_corrupt');
  t.notMatch(moved.text, 'first document', 'and sends none of it');
  const metrics = await (await request(`${demo.adminUrl}/metrics`)).body.text();
  t.match(metrics, /crypto_failures_total\{operation="decrypt",code="crypto_aad_mismatch"\} 1/);
});
