import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { alertSettingsSchema } from '../../src/alerts/settings.js';
import { signWebhook, verifyWebhook } from '../../src/alerts/webhooks/signature.js';
import { WebhookSender, type DeliveryOutcome } from '../../src/alerts/webhooks/sender.js';
import { createLogger } from '../../src/monitoring/logger.js';
import { HOOK_SECRET } from './fixture.js';
import { startWebhookReceiver } from './webhook-receiver.js';

const log = createLogger('silent');

function sender(
  url: string,
  settings: Record<string, unknown> = {},
): { sender: WebhookSender; outcomes: DeliveryOutcome[]; drops: () => number } {
  const parsed = alertSettingsSchema.parse({
    webhooks: [
      {
        name: 'soc',
        url,
        secret_env: 'UNUSED',
        timeout: '1s',
        retry_delay: '20ms',
        max_retry_delay: '80ms',
        ...settings,
      },
    ],
  });
  const outcomes: DeliveryOutcome[] = [];
  let drops = 0;
  const created = new WebhookSender({
    settings: parsed.webhooks[0]!,
    secret: Buffer.from(HOOK_SECRET),
    log,
    onOutcome: (outcome) => outcomes.push(outcome),
    onDrop: () => drops++,
  });
  t.teardown(() => created.close());
  return { sender: created, outcomes, drops: () => drops };
}

t.test('delivery is signed', async (t) => {
  const receiver = await startWebhookReceiver(HOOK_SECRET);
  t.teardown(() => receiver.close());
  const { sender: webhook, outcomes } = sender(receiver.url);
  t.ok(webhook.enqueue({ type: 'alert_fired', rule: 'r1' }, 'r1'), 'queued');
  await webhook.idle();
  t.same(outcomes, ['delivered']);
  t.equal(receiver.deliveries.length, 1);
  const delivery = receiver.deliveries[0]!;
  t.ok(delivery.valid, 'the receiver verified signature and timestamp');
  t.match(delivery.signature, /^sha256=[0-9a-f]{64}$/);
  t.equal(delivery.json['rule'], 'r1');
  t.equal(delivery.json['delivery_id'], delivery.id);
});

t.test('server errors are retried, bounded', async (t) => {
  const receiver = await startWebhookReceiver(HOOK_SECRET);
  t.teardown(() => receiver.close());
  receiver.status = 503;
  const { sender: webhook, outcomes } = sender(receiver.url, { max_attempts: 3 });
  webhook.enqueue({ rule: 'r1' }, 'r1');
  await webhook.idle();
  t.same(outcomes, ['retried', 'retried', 'failed'], 'three attempts, then given up');
  t.equal(receiver.deliveries.length, 3, 'the receiver saw three attempts');
  const ids = new Set(receiver.deliveries.map((delivery) => delivery.id));
  t.equal(ids.size, 1, 'every attempt carries the same delivery id');
  t.ok(
    receiver.deliveries.every((delivery) => delivery.valid),
    'each attempt is signed again',
  );
});

t.test('client errors are not retried', async (t) => {
  const receiver = await startWebhookReceiver(HOOK_SECRET);
  t.teardown(() => receiver.close());
  receiver.status = 400;
  const { sender: webhook, outcomes } = sender(receiver.url, { max_attempts: 5 });
  webhook.enqueue({ rule: 'r1' }, 'r1');
  await webhook.idle();
  t.same(outcomes, ['failed']);
  t.equal(receiver.deliveries.length, 1);
});

t.test('receiver down, then back', async (t) => {
  const receiver = await startWebhookReceiver(HOOK_SECRET);
  t.teardown(() => receiver.close());
  await receiver.down();
  const { sender: webhook, outcomes } = sender(receiver.url, { max_attempts: 20 });
  webhook.enqueue({ rule: 'r1' }, 'r1');
  while (outcomes.length < 3) await new Promise((resolve) => setTimeout(resolve, 10));
  t.ok(
    outcomes.every((outcome) => outcome === 'retried'),
    'refused attempts are retried',
  );
  await receiver.up();
  await webhook.idle();
  t.equal(outcomes.at(-1), 'delivered', 'delivered once the receiver is back');
  t.equal(receiver.deliveries.length, 1);
  t.ok(receiver.deliveries[0]!.valid);
});

t.test('a slow receiver times out', async (t) => {
  const server = createServer(() => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const { sender: webhook, outcomes } = sender(url, { timeout: '100ms', max_attempts: 2 });
  const started = Date.now();
  webhook.enqueue({ rule: 'r1' }, 'r1');
  await webhook.idle();
  t.same(outcomes, ['retried', 'failed']);
  t.ok(Date.now() - started < 1_000, 'two attempts of 100 ms and a backoff');
});

t.test('a full queue drops', async (t) => {
  const server = createServer(() => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const { sender: webhook, drops } = sender(url, { queue_size: 2, timeout: '5s' });
  t.ok(webhook.enqueue({ n: 1 }, 'r1'));
  t.ok(webhook.enqueue({ n: 2 }, 'r1'));
  t.notOk(webhook.enqueue({ n: 3 }, 'r1'), 'the third delivery is dropped');
  t.equal(drops(), 1);
  t.equal(webhook.pending, 2);
  t.equal(await webhook.close(), 2, 'close reports the unfinished deliveries');
});

t.test('backoff uses full jitter within the cap', async (t) => {
  const { sender: low } = sender('http://127.0.0.1:9/hook', {
    retry_delay: '100ms',
    max_retry_delay: '1s',
  });
  for (let attempt = 1; attempt <= 10; attempt++) {
    const delay = low.backoffMs(attempt);
    const ceiling = Math.min(1_000, 100 * 2 ** (attempt - 1));
    t.ok(delay >= 0 && delay < ceiling, `attempt ${attempt}: ${delay} ms below ${ceiling} ms`);
  }
});

t.test('signature checks', async (t) => {
  const secret = Buffer.from(HOOK_SECRET);
  const body = '{"rule":"r1"}';
  const now = 1_800_000_000;
  const timestamp = String(now);
  const signature = signWebhook(secret, timestamp, body);
  const check = (overrides: Partial<Parameters<typeof verifyWebhook>[0]>) =>
    verifyWebhook({
      secret,
      timestamp,
      signature,
      body,
      nowSeconds: now,
      toleranceSeconds: 300,
      ...overrides,
    });
  t.ok(check({}), 'valid');
  t.notOk(check({ body: '{"rule":"r2"}' }), 'changed body');
  t.notOk(check({ nowSeconds: now + 301 }), 'replayed after the tolerance');
  t.notOk(check({ timestamp: String(now + 1) }), 'changed timestamp');
  t.notOk(check({ secret: Buffer.from('another secret of some length, 1234') }), 'other secret');
  t.notOk(check({ signature: undefined }), 'missing signature');
});
