import t from 'tap';
import { request } from 'undici';
import {
  admin,
  alertConfig,
  alertFixture,
  ENV,
  eventually,
  metricValue,
  mint,
  query,
} from '../alerts/fixture.js';
import { startProxy } from '../helpers/e2e.js';

const POLICY = `version: 1
routes:
  - name: query
    match: { path_prefix: /api/ }
alerts:
  rules:
    - name: bad-tokens
      match: { codes: [unauthorized] }
      threshold: 2
      window: 1m
      actions: [{ type: log }]
`;

t.test('blocks through the admin API', async (t) => {
  const fx = await alertFixture(t);
  const { gw, upstream } = await startProxy(t, {
    config: alertConfig(fx),
    policy: POLICY,
    env: ENV,
  });
  const alice = await mint(fx, { sub: 'alice', sid: 'session-a' });
  const bob = await mint(fx, { sub: 'bob', jti: 'jti-b' });

  const unauthorized = await request(`${gw.adminUrl}/admin/blocks`);
  await unauthorized.body.dump();
  t.equal(unauthorized.statusCode, 401, 'the admin token is required');
  t.same((await admin(gw, 'GET', '/admin/blocks')).body, { items: [], stale: false });

  const created = await admin(gw, 'POST', '/admin/blocks', {
    kind: 'client_ip',
    key: '203.0.113.9',
    duration: '1m',
  });
  t.equal(created.status, 201);
  t.match(created.body, {
    key: '203.0.113.9',
    kind: 'client_ip',
    rule: 'manual',
    status: 429,
    created_at: String,
    expires_at: String,
  });

  const hits = upstream.received.length;
  const blocked = await query(gw, '203.0.113.9', alice);
  t.equal(blocked.status, 429);
  t.equal(blocked.body?.['code'], 'temporarily_blocked');
  t.ok(Number(blocked.headers['retry-after']) > 55, 'Retry-After is the rest of the block');
  t.equal(upstream.received.length, hits, 'the blocked request did not reach the upstream');
  t.equal((await query(gw, '203.0.113.10', alice)).status, 200, 'another address passes');

  const listed = await admin(gw, 'GET', '/admin/blocks');
  t.same(
    (listed.body?.['items'] as { key: string }[]).map((item) => item.key),
    ['203.0.113.9'],
  );
  t.equal(await metricValue(gw, 'agentflow_gateway_blocks_active{kind="client_ip"}'), 1);

  t.equal((await admin(gw, 'DELETE', '/admin/blocks/203.0.113.9')).status, 204, 'lifted');
  t.equal((await query(gw, '203.0.113.9', alice)).status, 200, 'the address passes again');
  const absent = await admin(gw, 'DELETE', '/admin/blocks/203.0.113.9');
  t.equal(absent.status, 404);
  t.equal(absent.body?.['code'], 'block_not_found');
  t.equal(await metricValue(gw, 'agentflow_gateway_blocks_active{kind="client_ip"}'), 0);

  // Subject and session blocks apply after authentication, with the status they were set with.
  await admin(gw, 'POST', '/admin/blocks', {
    kind: 'subject',
    key: 'alice',
    duration: '1m',
    status: 403,
  });
  await admin(gw, 'POST', '/admin/blocks', { kind: 'session', key: 'jti-b', duration: '1m' });
  const subjectBlocked = await query(gw, '203.0.113.20', alice);
  t.equal(subjectBlocked.status, 403);
  t.equal(subjectBlocked.body?.['code'], 'temporarily_blocked');
  t.equal(subjectBlocked.body?.['status'], 403, 'the problem body has the status sent');
  t.equal(subjectBlocked.headers['retry-after'], undefined, 'no Retry-After with 403');
  const sessionBlocked = await query(gw, '203.0.113.20', bob);
  t.equal(sessionBlocked.status, 429, 'a token without sid is blocked by its jti');
  const carol = await mint(fx, { sub: 'carol' });
  t.equal((await query(gw, '203.0.113.20', carol)).status, 200, 'another subject passes');
  t.equal(upstream.received.length, hits + 3, 'only the three allowed requests were forwarded');

  const both = await admin(gw, 'GET', '/admin/blocks');
  t.same(
    (both.body?.['items'] as { kind: string }[]).map((item) => item.kind),
    ['subject', 'session'],
  );
  t.equal((await admin(gw, 'DELETE', '/admin/blocks/alice?kind=session')).status, 404);
  t.equal((await admin(gw, 'DELETE', '/admin/blocks/alice?kind=subject')).status, 204);
  t.equal((await query(gw, '203.0.113.20', alice)).status, 200);
  t.equal(await metricValue(gw, 'agentflow_gateway_block_rejections_total{kind="subject"}'), 1);
});

t.test('admin API rejects invalid requests', async (t) => {
  const fx = await alertFixture(t);
  const { gw } = await startProxy(t, { config: alertConfig(fx), policy: POLICY, env: ENV });
  const cases: [string, object][] = [
    ['unknown kind', { kind: 'email', key: 'a', duration: '1m' }],
    ['missing duration', { kind: 'subject', key: 'a' }],
    ['duration without unit', { kind: 'subject', key: 'a', duration: '60' }],
    ['duration too long', { kind: 'subject', key: 'a', duration: '31d' }],
    ['unknown field', { kind: 'subject', key: 'a', duration: '1m', reason: 'x' }],
    ['bad status', { kind: 'subject', key: 'a', duration: '1m', status: 500 }],
    ['address that does not parse', { kind: 'client_ip', key: 'localhost', duration: '1m' }],
  ];
  for (const [name, body] of cases) {
    const response = await admin(gw, 'POST', '/admin/blocks', body);
    t.equal(response.status, 400, name);
    t.equal(response.body?.['code'], 'alerts_invalid_request', name);
  }
  t.equal((await admin(gw, 'GET', '/admin/alerts?limit=0')).status, 400, 'limit 0');
  t.equal((await admin(gw, 'GET', '/admin/alerts?page=2')).status, 400, 'unknown parameter');
  const repeated = await admin(gw, 'GET', '/admin/alerts?limit=1&limit=2000');
  t.equal(repeated.status, 400, 'limit given twice');
  t.match(repeated.body?.['detail'], /give limit at most once/);
  const kinds = await admin(gw, 'DELETE', '/admin/blocks/a?kind=subject&kind=session');
  t.equal(kinds.status, 400, 'kind given twice');
  t.equal((await admin(gw, 'DELETE', '/admin/blocks/a?kind=email')).status, 400, 'bad kind');
  const deleteAll = await admin(gw, 'DELETE', '/admin/blocks');
  t.equal(deleteAll.status, 405, 'DELETE on the list');
  t.equal(deleteAll.body?.['code'], 'method_not_allowed');
  const postAlerts = await admin(gw, 'POST', '/admin/alerts', {});
  t.equal(postAlerts.status, 405, 'POST on the alerts');
  t.equal(postAlerts.body?.['code'], 'method_not_allowed');
  for (const path of ['/admin/blocks', '/admin/alerts']) {
    const head = await admin(gw, 'HEAD', path);
    t.equal(head.status, 200, `HEAD ${path}`);
    t.equal(head.body, undefined, `HEAD ${path} has no body`);
  }
});

t.test('firings are listed', async (t) => {
  const fx = await alertFixture(t);
  const { gw } = await startProxy(t, { config: alertConfig(fx), policy: POLICY, env: ENV });
  for (const address of ['203.0.113.1', '203.0.113.1', '203.0.113.2', '203.0.113.2']) {
    t.equal((await query(gw, address, 'bad')).status, 401);
  }
  const firings = await eventually(async () => {
    const response = await admin(gw, 'GET', '/admin/alerts?limit=10');
    const items = response.body?.['items'] as unknown[];
    return items.length === 2 ? response.body : undefined;
  }, 'two firings');
  t.equal(firings['source'], 'local', 'without Redis, the firings of this replica');
  t.match(firings['items'], [
    { rule: 'bad-tokens', key: 'client_ip=203.0.113.2', count: 2, actions: ['log'] },
    { rule: 'bad-tokens', key: 'client_ip=203.0.113.1', count: 2, actions: ['log'] },
  ]);
  const limited = await admin(gw, 'GET', '/admin/alerts?limit=1');
  t.equal((limited.body?.['items'] as unknown[]).length, 1);
  const fired = gw.logs.filter((line) => line['msg'] === 'alert fired');
  t.equal(fired.length, 2, 'one log line per firing');
});

t.test('blocks follow the event privacy settings', async (t) => {
  const fx = await alertFixture(t);
  const { gw } = await startProxy(t, {
    config: alertConfig(fx, 'events: { privacy: { client_ip: truncate, ipv4_prefix: 24 } }\n'),
    policy: POLICY,
    env: ENV,
  });
  const token = await mint(fx, { sub: 'alice' });
  const created = await admin(gw, 'POST', '/admin/blocks', {
    kind: 'client_ip',
    key: '203.0.113.9',
    duration: '1m',
  });
  t.equal(created.body?.['key'], '203.0.113.0/24', 'the key is stored as events write it');
  t.equal((await query(gw, '203.0.113.200', token)).status, 429, 'the whole network is blocked');
  t.equal((await query(gw, '203.0.114.1', token)).status, 200, 'another network passes');
  t.equal((await admin(gw, 'DELETE', '/admin/blocks/203.0.113.77')).status, 204, 'clear text');
  t.equal((await query(gw, '203.0.113.200', token)).status, 200, 'lifted');
});

t.test('exempt addresses hold under event privacy', async (t) => {
  const fx = await alertFixture(t);
  const policy = `version: 1
routes:
  - name: query
    match: { path_prefix: /api/ }
alerts:
  rules:
    - name: bad-tokens
      match: { codes: [unauthorized] }
      exempt: { cidrs: [private] }
      threshold: 2
      window: 1m
      actions: [{ type: block, duration: 1m }]
`;
  const privacySettings: Record<string, string> = {
    truncate: '{ client_ip: truncate }',
    hash: '{ client_ip: hash, hash_key_env: HASH_KEY }',
  };
  for (const [mode, settings] of Object.entries(privacySettings)) {
    const { gw } = await startProxy(t, {
      config: alertConfig(fx, `events: { privacy: ${settings} }\n`),
      policy,
      env: { ...ENV, HASH_KEY: 'k'.repeat(40) },
    });
    // The exempt address fails first, so that its block, if any, is set before the other one.
    for (let attempt = 0; attempt < 2; attempt += 1) {
      t.equal((await query(gw, '10.1.2.3', 'not-a-token')).status, 401, `${mode}: exempt`);
    }
    for (let attempt = 0; attempt < 2; attempt += 1) {
      t.equal((await query(gw, '203.0.113.5', 'not-a-token')).status, 401, `${mode}: counted`);
    }
    await eventually(async () => {
      const blocked = (await query(gw, '203.0.113.5')).status === 429;
      return blocked ? true : undefined;
    }, `${mode}: the block of 203.0.113.5`);
    const listed = await admin(gw, 'GET', '/admin/blocks');
    t.equal((listed.body?.['items'] as unknown[]).length, 1, `${mode}: one block`);
    t.equal((await query(gw, '10.1.2.3')).status, 401, `${mode}: the exempt address passes`);
  }
});
