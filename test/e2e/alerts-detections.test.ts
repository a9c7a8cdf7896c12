import t from 'tap';
import { alertConfig, alertFixture, ENV, eventually, mint, query } from '../alerts/fixture.js';
import { startProxy } from '../helpers/e2e.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedis } from '../helpers/redis.js';
import { startUpstream } from '../helpers/upstream.js';

const POLICY = `version: 1
routes:
  - name: query
    match: { path_prefix: /api/ }
alerts:
  detections:
    token_shared: { max_addresses: 2, max_user_agents: 2, window: 1m }
    many_subjects: { max_subjects: 2, window: 1m }
  rules:
    - name: stolen-token
      match: { types: [token_shared] }
      group_by: [session]
      threshold: 1
      window: 1m
      actions: [{ type: block, duration: 1m, status: 403 }]
`;

interface EventLine {
  type: string;
  client_ip: string;
  subject?: string;
  session?: string;
  detail: Record<string, unknown>;
}

function events(gw: TestGateway, type: string): EventLine[] {
  return gw.logs
    .filter((line) => line['msg'] === 'security event')
    .map((line) => line['event'] as EventLine)
    .filter((event) => event.type === type);
}

t.test('one token from many addresses', async (t) => {
  const fx = await alertFixture(t);
  const { gw, upstream } = await startProxy(t, {
    config: alertConfig(fx),
    policy: POLICY,
    env: ENV,
  });
  const stolen = await mint(fx, { sub: 'alice', sid: 'session-1' });
  const other = await mint(fx, { sub: 'alice', sid: 'session-2' });

  t.equal((await query(gw, '203.0.113.1', stolen)).status, 200);
  t.equal((await query(gw, '203.0.113.2', stolen)).status, 200);
  t.equal((await query(gw, '203.0.113.1', stolen)).status, 200, 'a known address again');
  await gw.gateway.alerting.engine.flush();
  t.same(events(gw, 'token_shared'), [], 'two addresses are within the maximum');

  t.equal((await query(gw, '198.51.100.7', stolen)).status, 200, 'detection does not wait');
  const [event] = await eventually(async () => {
    const found = events(gw, 'token_shared');
    return found.length > 0 ? found : undefined;
  }, 'the token_shared event');
  t.equal(event?.client_ip, '198.51.100.7', 'the event is the request that exceeded');
  t.equal(event?.subject, 'alice');
  t.equal(event?.session, 'session-1');
  t.match(event?.detail, {
    token_hash: /^[0-9a-f]{16}$/,
    counted: 'client_ip',
    distinct: 3,
    max: 2,
    window_ms: 60_000,
  });
  t.notOk(JSON.stringify(gw.logs).includes(stolen), 'the token is never logged');

  const hits = upstream.received.length;
  const blocked = await eventually(async () => {
    const response = await query(gw, '203.0.113.1', stolen);
    return response.status === 403 ? response : undefined;
  }, 'the session block');
  t.equal(blocked.body?.['code'], 'temporarily_blocked');
  t.equal(upstream.received.length, hits, 'the blocked session never reached the upstream');
  t.equal((await query(gw, '203.0.113.1', other)).status, 200, 'another session passes');

  t.equal((await query(gw, '203.0.113.3', stolen)).status, 403);
  await gw.gateway.alerting.engine.flush();
  t.equal(events(gw, 'token_shared').length, 1, 'one event per token and window');
});

t.test('one token with many user agents', async (t) => {
  const fx = await alertFixture(t);
  const { gw } = await startProxy(t, { config: alertConfig(fx), policy: POLICY, env: ENV });
  const token = await mint(fx, { sub: 'bob', jti: 'jti-b' });
  for (const agent of ['curl/8', 'python-requests/2', 'Mozilla/5.0']) {
    t.equal((await query(gw, '203.0.113.1', token, { 'user-agent': agent })).status, 200);
  }
  const [event] = await eventually(async () => {
    const found = events(gw, 'token_shared');
    return found.length > 0 ? found : undefined;
  }, 'the token_shared event');
  t.equal(event?.detail['counted'], 'user_agent');
  t.equal(event?.session, 'jti-b', 'a token without sid is its own session');
});

t.test('one address with many subjects', async (t) => {
  const fx = await alertFixture(t);
  const { gw } = await startProxy(t, { config: alertConfig(fx), policy: POLICY, env: ENV });
  for (const subject of ['u1', 'u2', 'u1', 'u3']) {
    const token = await mint(fx, { sub: subject });
    t.equal((await query(gw, '203.0.113.50', token)).status, 200);
  }
  const [event] = await eventually(async () => {
    const found = events(gw, 'many_subjects');
    return found.length > 0 ? found : undefined;
  }, 'the many_subjects event');
  t.equal(event?.client_ip, '203.0.113.50');
  t.equal(event?.subject, 'u3', 'the subject that exceeded the maximum');
  t.match(event?.detail, { counted: 'subject', distinct: 3, max: 2 });
  const token = await mint(fx, { sub: 'u4' });
  t.equal((await query(gw, '203.0.113.51', token)).status, 200);
  await gw.gateway.alerting.engine.flush();
  t.equal(events(gw, 'many_subjects').length, 1, 'other addresses count on their own');
});

t.test('replicas share detection windows through redis', async (t) => {
  const fx = await alertFixture(t);
  const redis = await startRedis(t);
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const config = alertConfig(
    fx,
    `store:\n  backend: redis\n  redis: { host: 127.0.0.1, port: ${redis.port} }\n`,
  );
  const replicas: TestGateway[] = [];
  for (let index = 0; index < 2; index++) {
    const gw = await startGateway({ upstreamUrl: upstream.url, config, policy: POLICY, env: ENV });
    t.teardown(() => gw.stop());
    await eventually(
      async () => (gw.gateway.alerting.blocks.stale ? undefined : true),
      'the replica to reach Redis',
    );
    replicas.push(gw);
  }
  const [first, second] = replicas as [TestGateway, TestGateway];
  const token = await mint(fx, { sub: 'carol', sid: 'session-c' });
  t.equal((await query(first, '203.0.113.1', token)).status, 200);
  t.equal((await query(second, '203.0.113.2', token)).status, 200);
  await first.gateway.alerting.engine.flush();
  t.equal((await query(second, '203.0.113.3', token)).status, 200);
  await eventually(
    async () => (events(second, 'token_shared').length === 1 ? true : undefined),
    'the event on the replica that saw the third address',
  );
  t.same(events(first, 'token_shared'), [], 'the other replica did not publish it too');
  const blocked = await eventually(async () => {
    const response = await query(first, '203.0.113.1', token);
    return response.status === 403 ? response : undefined;
  }, 'the session block on the other replica');
  t.equal(blocked.body?.['code'], 'temporarily_blocked');
});
