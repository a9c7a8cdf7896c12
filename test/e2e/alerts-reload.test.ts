import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { alertConfig, alertFixture, ENV, query } from '../alerts/fixture.js';
import { startProxy } from '../helpers/e2e.js';
import type { TestGateway } from '../helpers/gateway.js';

function policy(threshold: number, actions: string): string {
  return `version: 1
routes:
  - name: query
    match: { path_prefix: /api/ }
alerts:
  rules:
    - name: bad-tokens
      match: { codes: [unauthorized] }
      threshold: ${threshold}
      window: 1m
      cooldown: 1s
      actions: [${actions}]
`;
}

async function failures(gw: TestGateway, count: number): Promise<number> {
  for (let index = 0; index < count; index++) await query(gw, '203.0.113.7', 'bad');
  await gw.gateway.alerting.engine.flush();
  return gw.logs.filter((line) => line['msg'] === 'alert fired').length;
}

/**
 * Writes the policy and reloads it. Returns `rejected`, or `applied` when the running policy is
 * the new one, whether this reload or the file watcher's applied it.
 */
async function reload(gw: TestGateway, text: string): Promise<string> {
  const before = gw.gateway.policy.hash;
  await writeFile(path.join(gw.dir, 'policies', 'routes.yaml'), text);
  const outcome = await gw.gateway.reloadPolicy('test');
  if (outcome === 'rejected') return outcome;
  return gw.gateway.policy.hash === before ? 'unchanged' : 'applied';
}

t.test('windows across policy reloads', async (t) => {
  const fx = await alertFixture(t);
  const { gw } = await startProxy(t, {
    config: alertConfig(fx),
    policy: policy(3, '{ type: log }'),
    env: ENV,
  });
  t.equal(await failures(gw, 2), 0, 'two of three');

  t.equal(
    await reload(gw, policy(3, '{ type: log }, { type: webhook, webhook: none }')),
    'rejected',
  );
  t.equal(
    await reload(gw, policy(3, '{ type: log }, { type: block, duration: 1s, status: 403 }')),
    'applied',
  );
  t.equal(await failures(gw, 1), 1, 'new actions keep the window: the third failure fires');
  const blocked = await query(gw, '203.0.113.7', 'bad');
  t.equal(blocked.status, 403, 'the new block action ran');

  t.equal(await reload(gw, policy(4, '{ type: log }')), 'applied');
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  t.equal(await failures(gw, 3), 1, 'a new threshold starts a new window');
  t.equal(await failures(gw, 1), 2, 'the fourth failure under the new rule fires');
});
