import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
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
import { startWebhookReceiver } from '../alerts/webhook-receiver.js';
import { waitFor } from '../helpers/e2e.js';
import { startGateway } from '../helpers/gateway.js';
import { startRedis } from '../helpers/redis.js';
import { startUpstream } from '../helpers/upstream.js';

const ATTACKER = '203.0.113.7';
const OTHER_CLIENT = '198.51.100.2';
const THRESHOLD = 5;
const BLOCK_MS = 2_000;

const POLICY = `version: 1
routes:
  - name: query
    match: { path_prefix: /api/ }
alerts:
  rules:
    - name: auth-failure-burst
      match: { types: [request_rejected], codes: [unauthorized] }
      group_by: [client_ip]
      threshold: ${THRESHOLD}
      window: 30s
      cooldown: 30s
      actions:
        - { type: log }
        - { type: webhook, webhook: soc }
        - { type: block, duration: ${BLOCK_MS}ms }
`;

t.test('auth failure burst blocks on a second replica', async (t) => {
  const fx = await alertFixture(t);
  const redis = await startRedis(t);
  const receiver = await startWebhookReceiver(ENV.HOOK_SECRET);
  t.teardown(() => receiver.close());
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const config = alertConfig(
    fx,
    `store:
  backend: redis
  redis: { host: 127.0.0.1, port: ${redis.port} }
alerts:
  webhooks:
    - name: soc
      url: ${receiver.url}
      secret_env: HOOK_SECRET
      timeout: 1s
  blocks: { sync_interval: 100ms }
`,
  );
  const first = await startGateway({ upstreamUrl: upstream.url, config, policy: POLICY, env: ENV });
  t.teardown(() => first.stop());
  const second = await startGateway({
    upstreamUrl: upstream.url,
    config,
    policy: POLICY,
    env: ENV,
  });
  t.teardown(() => second.stop());
  const token = await mint(fx, { sub: 'alice', jti: 'j-1' });
  // Until a replica reaches Redis it counts on its own; a synced block list shows it has.
  for (const replica of [first, second]) {
    await eventually(
      async () => (replica.gateway.alerting.blocks.stale ? undefined : true),
      'the replica to reach Redis',
    );
  }

  // Both replicas count in one window: failures alternate between them.
  for (let attempt = 1; attempt < THRESHOLD; attempt++) {
    const replica = attempt % 2 === 0 ? second : first;
    const rejected = await query(replica, ATTACKER, 'not-a-valid-token');
    t.equal(rejected.status, 401, `failure ${attempt} is 401`);
  }
  await first.gateway.alerting.engine.flush();
  await second.gateway.alerting.engine.flush();
  t.equal(receiver.deliveries.length, 0, 'no webhook below the threshold');
  const before = await admin(first, 'GET', '/admin/alerts');
  t.same(before.body?.['items'], [], 'no firing below the threshold');

  const last = await query(first, ATTACKER, 'not-a-valid-token');
  t.equal(last.status, 401, 'the failure at the threshold is still a 401');
  const delivery = await waitFor(() => receiver.deliveries[0], 'the webhook delivery');
  t.ok(delivery.valid, 'signature and timestamp verify');
  t.equal(delivery.json['type'], 'alert_fired');
  t.equal(delivery.json['rule'], 'auth-failure-burst');
  t.equal(delivery.json['key'], `client_ip=${ATTACKER}`);
  t.equal(delivery.json['count'], THRESHOLD);
  t.same(delivery.json['actions'], ['log', 'webhook:soc', 'block:client_ip']);
  t.equal(delivery.id, delivery.json['delivery_id'], 'delivery header matches the body');
  t.notOk(delivery.body.includes('not-a-valid-token'), 'the token is not in the payload');

  // The block reaches the other replica within about one sync interval.
  const blocked = await eventually(async () => {
    const result = await query(second, ATTACKER, token);
    return result.status === 429 ? result : undefined;
  }, 'the block on the second replica');
  const upstreamHits = upstream.received.length;
  t.equal(blocked.body?.['code'], 'temporarily_blocked');
  const retryAfter = Number(blocked.headers['retry-after']);
  t.ok(retryAfter >= 1 && retryAfter <= BLOCK_MS / 1000, `Retry-After ${retryAfter} s`);
  const again = await query(second, ATTACKER, token);
  t.equal(again.status, 429, 'a valid token does not lift the block');
  t.equal(upstream.received.length, upstreamHits, 'blocked requests never reach the upstream');
  t.equal((await query(second, OTHER_CLIENT, token)).status, 200, 'other clients pass');
  t.ok(
    (await metricValue(second, 'agentflow_gateway_block_rejections_total{kind="client_ip"}')) >= 2,
  );

  // More failures within the cooldown fire nothing more.
  for (let attempt = 0; attempt < THRESHOLD; attempt++) {
    await query(first, OTHER_CLIENT, 'not-a-valid-token');
  }
  await first.gateway.alerting.engine.flush();
  await sleep(200);
  t.equal(receiver.deliveries.length, 2, 'the other client fired once, the attacker not again');
  t.equal(
    await metricValue(first, 'agentflow_gateway_alert_firings_total{rule="auth-failure-burst"}'),
    2,
  );
  const firings = await admin(second, 'GET', '/admin/alerts');
  t.equal(firings.body?.['source'], 'redis');
  const items = firings.body?.['items'] as { key: string; count: number }[];
  t.same(
    items.map((item) => item.key),
    [`client_ip=${OTHER_CLIENT}`, `client_ip=${ATTACKER}`],
    'both replicas see both firings, newest first',
  );

  // The block expires by itself.
  const lifted = await eventually(
    async () => ((await query(second, ATTACKER, token)).status === 200 ? true : undefined),
    'the block to expire',
    BLOCK_MS + 3_000,
  );
  t.ok(lifted, 'the attacker address passes again after the block duration');
  t.equal(upstream.received.length, upstreamHits + 2, 'the request after the block was forwarded');
});
