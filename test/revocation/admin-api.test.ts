import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { AdminToken, loadAdminToken } from '../../src/revocation/admin-token.js';
import { startRedis } from '../helpers/redis.js';
import { ADMIN_TOKEN, startAdminServer } from './admin-fixtures.js';
import { isRevoked, memoryList, redisList } from './fixtures.js';

const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}` };
const JSON_AUTH = { ...AUTH, 'content-type': 'application/json' };

async function call(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  const response = await request(url, {
    method: (options.method ?? 'GET') as 'GET',
    headers: options.headers,
    body: options.body,
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    text,
    json: String(response.headers['content-type']).includes('json')
      ? (JSON.parse(text) as Record<string, unknown>)
      : undefined,
  };
}

t.test('admin token', async (t) => {
  const token = AdminToken.fromText(ADMIN_TOKEN);
  t.equal(token.matches(ADMIN_TOKEN), true);
  t.equal(token.matches(`${ADMIN_TOKEN}x`), false, 'longer token');
  t.equal(token.matches(ADMIN_TOKEN.slice(1)), false, 'shorter token');
  t.equal(token.matches(''), false, 'empty token');
  t.throws(() => AdminToken.fromText('short'), RangeError);
  t.throws(() => AdminToken.fromText(`${ADMIN_TOKEN} ${ADMIN_TOKEN}`), RangeError);
  const dir = await mkdtemp(join(tmpdir(), 'agentflow-token-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'token');
  await writeFile(file, 'too-short\n');
  await t.rejects(loadAdminToken(file), /invalid admin token in .*token: the admin token/);
  try {
    await loadAdminToken(file);
  } catch (error) {
    t.notMatch((error as Error).message, /too-short/, 'the message never shows the token');
  }
  await t.rejects(loadAdminToken(join(dir, 'missing')), { code: 'ENOENT' });
});

t.test('admin api authentication', async (t) => {
  const { url } = await startAdminServer(t);
  const missing = await call(`${url}/admin/revocations`);
  t.equal(missing.status, 401, 'missing token');
  t.equal(missing.json?.['code'], 'admin_unauthorized');
  t.equal(missing.headers['content-type'], 'application/problem+json');
  t.match(missing.headers['www-authenticate'], /^Bearer realm=/);
  const wrong = await call(`${url}/admin/revocations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${'b'.repeat(40)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ jti: 'x', reason: 'y' }),
  });
  t.equal(wrong.status, 401, 'wrong token');
  t.equal(wrong.json?.['code'], 'admin_unauthorized');
  t.match(wrong.headers['www-authenticate'], /error="invalid_token"/);
  const basic = await call(`${url}/admin/revocations`, {
    headers: { authorization: `Basic ${ADMIN_TOKEN}` },
  });
  t.equal(basic.status, 401, 'other scheme');
  const deleteWithout = await call(`${url}/admin/revocations/jti/x`, { method: 'DELETE' });
  t.equal(deleteWithout.status, 401, 'delete needs the token too');
  const other = await call(`${url}/healthz`);
  t.equal(other.status, 404, 'other paths are not handled');
  t.equal(other.text, 'not ours');
  const prefixOnly = await call(`${url}/admin/revocationsX`);
  t.equal(prefixOnly.text, 'not ours', 'a longer path is not handled');
});

t.test('admin api create list delete', async (t) => {
  const { url, list } = await startAdminServer(t);
  const created = await call(`${url}/admin/revocations`, {
    method: 'POST',
    headers: JSON_AUTH,
    body: JSON.stringify({ jti: 'token/1', reason: 'leaked', ttl: '1h' }),
  });
  t.equal(created.status, 201);
  t.equal(created.headers['location'], '/admin/revocations/jti/token%2F1');
  t.match(created.json, { kind: 'jti', value: 'token/1', reason: 'leaked' });
  const expiresIn = Date.parse(created.json?.['expires_at'] as string) - Date.now();
  t.ok(expiresIn > 3_590_000 && expiresIn <= 3_600_000, 'ttl of 1h');
  t.ok(isRevoked(list.check({ jti: 'token/1' })), 'the list has it');

  const subject = await call(`${url}/admin/revocations`, {
    method: 'POST',
    headers: JSON_AUTH,
    body: JSON.stringify({ sub: 'alice', reason: 'offboarded', issued_before: 1_700_000_000 }),
  });
  t.equal(subject.status, 201);
  t.equal(subject.json?.['issued_before'], new Date(1_700_000_000_000).toISOString());
  t.equal(subject.json?.['expires_at'], null, 'sub without ttl does not expire');
  const session = await call(`${url}/admin/revocations`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ sid: 's-1', reason: 'logout' }),
  });
  t.equal(session.status, 201, 'charset parameter is accepted');
  const exp = Math.floor(Date.now() / 1000) + 600;
  const withExp = await call(`${url}/admin/revocations`, {
    method: 'POST',
    headers: JSON_AUTH,
    body: JSON.stringify({ jti: 'with-exp', reason: 'leaked', exp }),
  });
  t.equal(withExp.status, 201);
  t.ok(Date.parse(withExp.json?.['expires_at'] as string) > exp * 1000, 'kept past exp');

  const page1 = await call(`${url}/admin/revocations?limit=2`, { headers: AUTH });
  t.equal(page1.status, 200);
  const records1 = page1.json?.['revocations'] as { kind: string; value: string }[];
  t.same(
    records1.map((r) => `${r.kind}:${r.value}`),
    ['jti:token/1', 'jti:with-exp'],
  );
  t.type(page1.json?.['next_cursor'], 'string');
  const page2 = await call(
    `${url}/admin/revocations?limit=2&cursor=${page1.json?.['next_cursor'] as string}`,
    { headers: AUTH },
  );
  const records2 = page2.json?.['revocations'] as { kind: string; value: string }[];
  t.same(
    records2.map((r) => `${r.kind}:${r.value}`),
    ['sid:s-1', 'sub:alice'],
  );
  t.equal(page2.json?.['next_cursor'], null, 'last page');

  const deleted = await call(`${url}/admin/revocations/jti/token%2F1`, {
    method: 'DELETE',
    headers: AUTH,
  });
  t.equal(deleted.status, 204);
  t.equal(deleted.text, '');
  t.notOk(isRevoked(list.check({ jti: 'token/1' })), 'the list dropped it');
  const again = await call(`${url}/admin/revocations/jti/token%2F1`, {
    method: 'DELETE',
    headers: AUTH,
  });
  t.equal(again.status, 404);
  t.equal(again.json?.['code'], 'revocation_not_found');
});

t.test('admin api bad input', async (t) => {
  const { url } = await startAdminServer(t);
  const post = (body: string, headers: Record<string, string> = JSON_AUTH) =>
    call(`${url}/admin/revocations`, { method: 'POST', headers, body });
  const cases: [string, string, number, string, RegExp][] = [
    ['not json', '{"jti":', 400, 'invalid_json', /not valid JSON/],
    ['array body', '[]', 400, 'invalid_revocation', /must be a JSON object/],
    ['no kind', '{"reason":"x"}', 400, 'invalid_revocation', /exactly one of jti, sub and sid/],
    ['two kinds', '{"jti":"a","sub":"b","reason":"x"}', 400, 'invalid_revocation', /exactly one/],
    ['no reason', '{"jti":"a"}', 400, 'invalid_revocation', /reason: is required/],
    ['empty value', '{"jti":"","reason":"x"}', 400, 'invalid_revocation', /jti: must not be empty/],
    ['number value', '{"sid":5,"reason":"x"}', 400, 'invalid_revocation', /sid: must be a string/],
    [
      'unknown field',
      '{"jti":"a","reason":"x","tll":"1h"}',
      400,
      'invalid_revocation',
      /unknown field tll/,
    ],
    [
      'ttl without unit',
      '{"jti":"a","reason":"x","ttl":"30"}',
      400,
      'invalid_revocation',
      /ttl: invalid duration "30"/,
    ],
    [
      'zero ttl',
      '{"jti":"a","reason":"x","ttl":"0s"}',
      400,
      'invalid_revocation',
      /ttl: invalid duration/,
    ],
    [
      'exp on sub',
      '{"sub":"a","reason":"x","exp":1}',
      400,
      'invalid_revocation',
      /exp: is only used with jti/,
    ],
    [
      'expired exp',
      '{"jti":"a","reason":"x","exp":1000}',
      400,
      'invalid_revocation',
      /already expired/,
    ],
    [
      'issued_before on sid',
      '{"sid":"a","reason":"x","issued_before":1}',
      400,
      'invalid_revocation',
      /only used with sub/,
    ],
    [
      'long reason',
      JSON.stringify({ jti: 'a', reason: 'r'.repeat(501) }),
      400,
      'invalid_revocation',
      /at most 500/,
    ],
  ];
  for (const [name, body, status, code, detail] of cases) {
    const result = await post(body);
    t.equal(result.status, status, `${name}: status`);
    t.equal(result.json?.['code'], code, `${name}: code`);
    t.match(result.json?.['detail'], detail, `${name}: detail`);
  }
  const text = await post('{"jti":"a","reason":"x"}', { ...AUTH, 'content-type': 'text/plain' });
  t.equal(text.status, 415, 'wrong content type');
  t.equal(text.json?.['code'], 'unsupported_media_type');
  const large = await post(JSON.stringify({ jti: 'a', reason: 'x', pad: 'p'.repeat(20_000) }));
  t.equal(large.status, 413, 'body too large');
  t.equal(large.json?.['code'], 'payload_too_large');

  const get = (query: string) => call(`${url}/admin/revocations${query}`, { headers: AUTH });
  const badLimit = await get('?limit=0');
  t.equal(badLimit.status, 400);
  t.equal(badLimit.json?.['code'], 'invalid_limit');
  t.equal((await get('?limit=1001')).json?.['code'], 'invalid_limit');
  t.equal((await get('?limit=abc')).json?.['code'], 'invalid_limit');
  const badCursor = await get('?cursor=%25%25');
  t.equal(badCursor.status, 400);
  t.equal(badCursor.json?.['code'], 'invalid_cursor');
  const unknown = await get('?page=2');
  t.equal(unknown.json?.['code'], 'invalid_query');
  t.match(unknown.json?.['detail'], /unknown parameter page/);

  const put = await call(`${url}/admin/revocations`, { method: 'PUT', headers: AUTH });
  t.equal(put.status, 405);
  t.equal(put.headers['allow'], 'GET, POST');
  const getItem = await call(`${url}/admin/revocations/jti/a`, { headers: AUTH });
  t.equal(getItem.status, 405);
  t.equal(getItem.headers['allow'], 'DELETE');
  const badKind = await call(`${url}/admin/revocations/kid/a`, { method: 'DELETE', headers: AUTH });
  t.equal(badKind.status, 400);
  t.equal(badKind.json?.['code'], 'invalid_revocation_path');
  const noValue = await call(`${url}/admin/revocations/jti/`, { method: 'DELETE', headers: AUTH });
  t.equal(noValue.json?.['code'], 'invalid_revocation_path');
  const badEscape = await call(`${url}/admin/revocations/jti/%E0%A4%A`, {
    method: 'DELETE',
    headers: AUTH,
  });
  t.equal(badEscape.json?.['code'], 'invalid_revocation_path');
});

t.test('admin api list full', async (t) => {
  const { url } = await startAdminServer(t, memoryList({ maxRecords: 1 }));
  const post = (jti: string) =>
    call(`${url}/admin/revocations`, {
      method: 'POST',
      headers: JSON_AUTH,
      body: JSON.stringify({ jti, reason: 'x' }),
    });
  t.equal((await post('a')).status, 201);
  const full = await post('b');
  t.equal(full.status, 507);
  t.equal(full.json?.['code'], 'revocation_list_full');
  t.match(full.json?.['detail'], /max_records/);
});

t.test('admin api with redis stopped', async (t) => {
  const server = await startRedis(t);
  const list = await redisList(t, server, { keyPrefix: 'admin' });
  const { url } = await startAdminServer(t, list);
  await server.kill();
  const created = await call(`${url}/admin/revocations`, {
    method: 'POST',
    headers: JSON_AUTH,
    body: JSON.stringify({ jti: 'a', reason: 'x' }),
  });
  t.equal(created.status, 503);
  t.equal(created.json?.['code'], 'revocation_unavailable');
  const listed = await call(`${url}/admin/revocations`, { headers: AUTH });
  t.equal(listed.status, 503);
});
