import t from 'tap';
import {
  alertConfig,
  alertFixture,
  ENV,
  eventually,
  metricValue,
  mint,
  query,
} from '../alerts/fixture.js';
import { startWebhookReceiver } from '../alerts/webhook-receiver.js';
import { startProxy } from '../helpers/e2e.js';

const POLICY = `version: 1
routes:
  - name: query
    match: { path_prefix: /api/ }
alerts:
  rules:
    - name: every-bad-token
      match: { codes: [unauthorized] }
      threshold: 1
      window: 1m
      actions: [{ type: webhook, webhook: soc }]
`;

function webhookConfig(url: string, extra: string): string {
  return `alerts:
  webhooks:
    - name: soc
      url: ${url}
      secret_env: HOOK_SECRET
      timeout: 500ms
      ${extra}
`;
}

const sample = (outcome: string) =>
  `agentflow_gateway_alert_webhook_deliveries_total{webhook="soc",outcome="${outcome}"}`;

t.test('receiver down, then back', async (t) => {
  const fx = await alertFixture(t);
  const receiver = await startWebhookReceiver(ENV.HOOK_SECRET);
  t.teardown(() => receiver.close());
  await receiver.down();
  const { gw, upstream } = await startProxy(t, {
    config: alertConfig(
      fx,
      webhookConfig(
        receiver.url,
        'max_attempts: 20\n      retry_delay: 200ms\n      max_retry_delay: 400ms',
      ),
    ),
    policy: POLICY,
    env: ENV,
  });
  const token = await mint(fx, { sub: 'alice' });

  const addresses = ['203.0.113.1', '203.0.113.2', '203.0.113.3'];
  for (const address of addresses) t.equal((await query(gw, address, 'bad')).status, 401);
  await eventually(
    async () => ((await metricValue(gw, sample('retried'))) >= 6 ? true : undefined),
    'failed attempts',
  );

  // Requests go on while every delivery fails.
  const hits = upstream.received.length;
  for (let index = 0; index < 20; index++) {
    const started = performance.now();
    const response = await query(gw, '198.51.100.2', token);
    t.equal(response.status, 200, `request ${index} passes while the receiver is down`);
    t.ok(performance.now() - started < 1_000, `request ${index} is not held up`);
  }
  t.equal(upstream.received.length, hits + 20);
  t.equal(receiver.deliveries.length, 0, 'nothing was delivered yet');
  t.equal(await metricValue(gw, sample('delivered')), 0);
  t.equal(await metricValue(gw, sample('failed')), 0, 'no delivery was given up yet');

  await receiver.up();
  await eventually(
    async () => (receiver.deliveries.length === 3 ? true : undefined),
    'the three deliveries once the receiver is back',
  );
  t.ok(
    receiver.deliveries.every((delivery) => delivery.valid),
    'every delivery verifies',
  );
  t.same(
    receiver.deliveries.map((delivery) => delivery.json['key']).sort(),
    addresses.map((address) => `client_ip=${address}`),
  );
  t.equal(await metricValue(gw, sample('delivered')), 3);
});

t.test('retries are bounded and the queue too', async (t) => {
  const fx = await alertFixture(t);
  const receiver = await startWebhookReceiver(ENV.HOOK_SECRET);
  t.teardown(() => receiver.close());
  await receiver.down();
  const { gw } = await startProxy(t, {
    config: alertConfig(
      fx,
      webhookConfig(receiver.url, 'max_attempts: 2\n      retry_delay: 1s\n      queue_size: 5'),
    ),
    policy: POLICY,
    env: ENV,
  });
  for (let index = 0; index < 8; index++) {
    t.equal((await query(gw, `203.0.113.${index + 1}`, 'bad')).status, 401);
  }
  await gw.gateway.alerting.engine.flush();
  t.equal(
    await metricValue(gw, 'agentflow_gateway_alert_webhook_queue_drops_total{webhook="soc"}'),
    3,
    'three of eight firings did not fit the queue of five',
  );
  await eventually(
    async () => ((await metricValue(gw, sample('failed'))) === 5 ? true : undefined),
    'the five queued deliveries to be given up',
  );
  t.equal(await metricValue(gw, sample('retried')), 5, 'one retry each, then given up');
  t.equal(
    await metricValue(gw, 'agentflow_gateway_alert_firings_total{rule="every-bad-token"}'),
    8,
    'every firing is counted, delivered or not',
  );
});
