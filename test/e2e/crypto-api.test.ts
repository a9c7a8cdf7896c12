import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream } from '../helpers/upstream.js';

const BACKEND_TOKEN = 'backend-'.repeat(6);
const NOTES_TOKEN = 'notes-token-'.repeat(4);
const KEY_V1 = randomBytes(32);
const KEY_V2 = randomBytes(32);

/** Every response body the tests received, searched for key bytes at the end. */
const responses: string[] = [];

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown>;
}

async function call(
  gateway: TestGateway,
  operation: string,
  body?: unknown,
  options: { token?: string | null; method?: string; contentType?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/json',
  };
  const token = options.token === undefined ? BACKEND_TOKEN : options.token;
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  const response = await request(`${gateway.adminUrl}/v1/crypto/${operation}`, {
    method: (options.method ?? (body === undefined ? 'GET' : 'POST')) as 'POST',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.body.text();
  responses.push(text);
  return { status: response.statusCode, headers: response.headers, json: JSON.parse(text) };
}

/** Starts a gateway with the crypto API, keys v1 (file) and, with `withV2`, v2 (env). */
async function cryptoGateway(t: Test, options: { withV2: boolean; extra?: string }) {
  const dir = t.testdir({});
  const keyFile = path.join(dir, 'v1.key');
  await writeFile(keyFile, `${KEY_V1.toString('base64')}\n`, { mode: 0o600 });
  const tokenFile = path.join(dir, 'backend.token');
  await writeFile(tokenFile, `${BACKEND_TOKEN}\n`, { mode: 0o600 });
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const v2 = options.withV2 ? '\n    - { version: 2, env: CRYPTO_KEY_V2 }' : '';
  const gateway = await startGateway({
    upstreamUrl: upstream.url,
    env: { CRYPTO_KEY_V2: KEY_V2.toString('base64'), NOTES_TOKEN },
    config: `crypto:
  enabled: true
  keys:
    - { version: 1, file: ${keyFile} }${v2}
  callers:
    - { name: backend, token_file: ${tokenFile}, context_prefixes: ['file:', 'doc:'] }
    - { name: notes, token_env: NOTES_TOKEN, context_prefixes: ['note:'] }
${options.extra ?? ''}`,
  });
  t.teardown(() => gateway.stop());
  return gateway;
}

t.test('crypto api', async (t) => {
  const gateway = await cryptoGateway(t, { withV2: true });

  t.test('encrypt and decrypt utf8', async (t) => {
    const sealed = await call(gateway, 'encrypt', {
      context: 'file:user_42',
      plaintext_utf8: 'héllo',
      aad: 'row:1',
    });
    t.equal(sealed.status, 200);
    t.equal(sealed.json['key_version'], 2);
    t.match(sealed.json['ciphertext'], /^agfw:v1:2:/);
    const opened = await call(gateway, 'decrypt', {
      context: 'file:user_42',
      ciphertext: sealed.json['ciphertext'],
      aad: 'row:1',
      encoding: 'utf8',
    });
    t.equal(opened.status, 200);
    t.same(opened.json, { plaintext_utf8: 'héllo' });
  });

  t.test('encrypt and decrypt base64', async (t) => {
    const plaintext = randomBytes(1024 * 1024);
    const sealed = await call(gateway, 'encrypt', {
      context: 'doc:9',
      plaintext: plaintext.toString('base64'),
    });
    t.equal(sealed.status, 200);
    const opened = await call(gateway, 'decrypt', {
      context: 'doc:9',
      ciphertext: sealed.json['ciphertext'],
    });
    t.equal(opened.status, 200);
    t.equal(opened.json['plaintext'], plaintext.toString('base64'));
  });

  t.test('keys lists versions only', async (t) => {
    const keys = await call(gateway, 'keys');
    t.equal(keys.status, 200);
    t.same(keys.json['encrypt_version'], 2);
    t.same(keys.json['min_version'], 1);
    const list = keys.json['keys'] as Record<string, unknown>[];
    t.same(
      list.map((key) => [key['version'], key['state']]),
      [
        [2, 'active'],
        [1, 'decrypt_only'],
      ],
    );
    t.same(Object.keys(list[0]!).sort(), ['messages', 'state', 'version']);
  });

  t.test('batch forms', async (t) => {
    const sealed = await call(gateway, 'encrypt/batch', {
      items: [
        { context: 'file:a', plaintext_utf8: 'one' },
        { context: 'note:x', plaintext_utf8: 'not allowed' },
        { context: 'file:b', plaintext: 'not base64!' },
      ],
    });
    t.equal(sealed.status, 200);
    const results = sealed.json['results'] as Record<string, unknown>[];
    t.match(results[0], { ciphertext: /^agfw:v1:2:/, key_version: 2 });
    t.match(results[1], { error: { code: 'crypto_context_forbidden' } });
    t.match(results[2], { error: { code: 'crypto_invalid_request' } });
    const opened = await call(gateway, 'decrypt/batch', {
      items: [
        { context: 'file:a', ciphertext: results[0]!['ciphertext'], encoding: 'utf8' },
        { context: 'file:b', ciphertext: results[0]!['ciphertext'] },
      ],
    });
    t.equal(opened.status, 200);
    const openedResults = opened.json['results'] as Record<string, unknown>[];
    t.same(openedResults[0], { plaintext_utf8: 'one' });
    t.match(openedResults[1], { error: { code: 'crypto_context_mismatch' } });
    const empty = await call(gateway, 'encrypt/batch', { items: [] });
    t.equal(empty.status, 400, 'an empty batch is rejected');
  });

  t.test('decryption failures have distinct codes', async (t) => {
    const sealed = await call(gateway, 'encrypt', {
      context: 'file:c',
      plaintext_utf8: 'PLAINTEXT-MARKER',
      aad: 'a',
    });
    const ciphertext = sealed.json['ciphertext'] as string;
    const last = ciphertext.at(-2) === 'A' ? 'B' : 'A';
    const tampered = `${ciphertext.slice(0, -2)}${last}${ciphertext.at(-1)}`;
    const cases: [string, Record<string, unknown>, string][] = [
      [
        'tampered',
        { context: 'file:c', ciphertext: tampered, aad: 'a' },
        'crypto_ciphertext_tampered',
      ],
      ['context', { context: 'file:d', ciphertext, aad: 'a' }, 'crypto_context_mismatch'],
      ['aad', { context: 'file:c', ciphertext, aad: 'b' }, 'crypto_aad_mismatch'],
      ['malformed', { context: 'file:c', ciphertext: 'agfw:v1:x' }, 'crypto_ciphertext_malformed'],
      [
        'unknown version',
        { context: 'file:c', ciphertext: ciphertext.replace(':2:', ':9:'), aad: 'a' },
        'crypto_key_version_unknown',
      ],
      ['forbidden', { context: 'note:c', ciphertext, aad: 'a' }, 'crypto_context_forbidden'],
      ['missing field', { context: 'file:c' }, 'crypto_invalid_request'],
    ];
    for (const [name, body, code] of cases) {
      const reply = await call(gateway, 'decrypt', body);
      t.equal(reply.json['code'], code, `${name}: code`);
      t.equal(reply.status, code === 'crypto_context_forbidden' ? 403 : 400, `${name}: status`);
      t.match(reply.headers['content-type'], 'application/problem+json', `${name}: problem`);
      t.notMatch(JSON.stringify(reply.json), 'PLAINTEXT-MARKER', `${name}: no plaintext`);
    }
  });

  t.test('caller authentication', async (t) => {
    const missing = await call(gateway, 'keys', undefined, { token: null });
    t.equal(missing.status, 401);
    t.equal(missing.json['code'], 'crypto_unauthorized');
    t.match(missing.headers['www-authenticate'], /^Bearer realm=/);
    const wrong = await call(gateway, 'keys', undefined, { token: 'x'.repeat(48) });
    t.equal(wrong.status, 401);
    t.match(wrong.headers['www-authenticate'], 'error="invalid_token"');
    const notes = await call(
      gateway,
      'encrypt',
      { context: 'note:1', plaintext_utf8: 'n' },
      {
        token: NOTES_TOKEN,
      },
    );
    t.equal(notes.status, 200, 'the second caller is accepted');
    const crossed = await call(
      gateway,
      'encrypt',
      { context: 'file:1', plaintext_utf8: 'n' },
      {
        token: NOTES_TOKEN,
      },
    );
    t.equal(crossed.status, 403, 'each caller has its own prefixes');
    t.equal(crossed.json['code'], 'crypto_context_forbidden');
  });

  t.test('request checks', async (t) => {
    const method = await call(gateway, 'encrypt', undefined, { method: 'GET' });
    t.equal(method.status, 405);
    t.equal(method.headers['allow'], 'POST');
    const unknown = await call(gateway, 'sign', { context: 'file:1' });
    t.equal(unknown.status, 404);
    t.equal(unknown.json['code'], 'route_not_found');
    const media = await call(
      gateway,
      'encrypt',
      { context: 'file:1', plaintext_utf8: 'x' },
      {
        contentType: 'text/plain',
      },
    );
    t.equal(media.status, 415);
    const both = await call(gateway, 'encrypt', {
      context: 'file:1',
      plaintext_utf8: 'x',
      plaintext: 'eA==',
    });
    t.equal(both.json['code'], 'crypto_invalid_request');
    const tooLarge = await call(gateway, 'encrypt', {
      context: 'file:1',
      plaintext: Buffer.alloc(10 * 1024 * 1024 + 1).toString('base64'),
    });
    t.equal(tooLarge.status, 413);
    t.equal(tooLarge.json['code'], 'crypto_payload_too_large');
  });

  t.test('metrics count messages and failures', async (t) => {
    const response = await request(`${gateway.adminUrl}/metrics`);
    const text = await response.body.text();
    responses.push(text);
    t.match(text, /agentflow_gateway_crypto_messages_total\{key_version="2"\} \d+/);
    t.match(
      text,
      /agentflow_gateway_crypto_failures_total\{operation="decrypt",code="crypto_aad_mismatch"\} 1/,
    );
    t.match(
      text,
      /agentflow_gateway_crypto_failures_total\{operation="encrypt_batch",code="crypto_context_forbidden"\} 1/,
    );
  });

  t.test('failures are logged without data', async (t) => {
    const lines = gateway.logs.map((line) => JSON.stringify(line));
    t.ok(
      lines.some((line) => line.includes('crypto api enabled')),
      'start is logged',
    );
    const rejected = gateway.logs.find(
      (line) => line['msg'] === 'crypto request rejected' && line['code'] === 'crypto_aad_mismatch',
    );
    t.match(
      rejected,
      { operation: 'decrypt', caller: 'backend', level: 'warn' },
      'rejection logged',
    );
    t.notOk(
      lines.some((line) => line.includes('PLAINTEXT-MARKER')),
      'no plaintext in logs',
    );
  });

  t.test('no key bytes anywhere', async (t) => {
    const haystacks = {
      responses: responses.join('\n'),
      logs: gateway.logs.map((line) => JSON.stringify(line)).join('\n'),
    };
    for (const key of [KEY_V1, KEY_V2]) {
      for (const encoding of ['base64', 'base64url', 'hex'] as const) {
        // 16 characters of the encoding are enough to find any copy of the key.
        const needle = key.toString(encoding).slice(0, 16);
        for (const [name, haystack] of Object.entries(haystacks)) {
          t.notOk(haystack.includes(needle), `no ${encoding} key bytes in ${name}`);
        }
      }
    }
  });
});

t.test('old versions after rotation', async (t) => {
  const before = await cryptoGateway(t, { withV2: false });
  const sealed = await call(before, 'encrypt', { context: 'file:r', plaintext_utf8: 'kept' });
  t.equal(sealed.json['key_version'], 1);
  const after = await cryptoGateway(t, { withV2: true });
  const opened = await call(after, 'decrypt', {
    context: 'file:r',
    ciphertext: sealed.json['ciphertext'],
    encoding: 'utf8',
  });
  t.same(opened.json, { plaintext_utf8: 'kept' }, 'version 1 decrypts after rotation');
  const rewrapped = await call(after, 'rewrap', {
    context: 'file:r',
    ciphertext: sealed.json['ciphertext'],
  });
  t.equal(rewrapped.status, 200);
  t.equal(rewrapped.json['key_version'], 2);
  t.notOk('plaintext' in rewrapped.json || 'plaintext_utf8' in rewrapped.json, 'no plaintext');
  const retired = await cryptoGateway(t, { withV2: true, extra: '  min_version: 2' });
  const rejected = await call(retired, 'decrypt', {
    context: 'file:r',
    ciphertext: sealed.json['ciphertext'],
  });
  t.equal(rejected.json['code'], 'crypto_key_version_retired');
  const reopened = await call(retired, 'decrypt', {
    context: 'file:r',
    ciphertext: rewrapped.json['ciphertext'],
    encoding: 'utf8',
  });
  t.same(reopened.json, { plaintext_utf8: 'kept' }, 'the rewrapped text still decrypts');
});

t.test('encrypt version pinned during rollout', async (t) => {
  const gateway = await cryptoGateway(t, {
    withV2: true,
    extra: '  rotation: { encrypt_version: 1 }',
  });
  const sealed = await call(gateway, 'encrypt', { context: 'file:p', plaintext_utf8: 'x' });
  t.equal(sealed.json['key_version'], 1);
});

t.test('disabled api not served', async (t) => {
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const gateway = await startGateway({ upstreamUrl: upstream.url });
  t.teardown(() => gateway.stop());
  const response = await request(`${gateway.adminUrl}/v1/crypto/keys`);
  await response.body.text();
  t.equal(response.statusCode, 404);
});
