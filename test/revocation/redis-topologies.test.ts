import t from 'tap';
import { startRedis, startRedisCluster, startRedisSentinel } from '../helpers/redis.js';
import { isRevoked, redisList, waitFor } from './fixtures.js';

t.test('redis cluster propagation', async (t) => {
  const cluster = await startRedisCluster(t);
  const redis = { mode: 'cluster', nodes: cluster.nodes };
  const writer = await redisList(t, undefined, { keyPrefix: 'cluster', redis });
  const reader = await redisList(t, undefined, { keyPrefix: 'cluster', redis });
  t.equal(reader.stats().fresh, 1, 'reader loaded');
  await writer.revoke({ kind: 'sid', value: 's1', reason: 'logout' });
  await waitFor(() => isRevoked(reader.check({ sid: 's1' })), 3_000, 'cluster propagation');
  t.pass('the revocation reached the other replica');
  t.equal(await writer.unrevoke('sid', 's1'), true);
  await waitFor(() => !isRevoked(reader.check({ sid: 's1' })), 3_000, 'cluster unrevoke');
  t.pass('the removal reached the other replica');
  const page = await reader.list();
  t.same(page.records, []);
});

t.test('redis sentinel propagation', async (t) => {
  const master = await startRedis(t);
  const sentinel = await startRedisSentinel(t, master, 'revocations');
  const redis = {
    mode: 'sentinel',
    sentinels: [{ host: sentinel.host, port: sentinel.port }],
    master_name: 'revocations',
  };
  const writer = await redisList(t, undefined, { keyPrefix: 'sentinel', redis });
  const reader = await redisList(t, undefined, { keyPrefix: 'sentinel', redis });
  await writer.revoke({ kind: 'jti', value: 'j1', reason: 'leaked' });
  await waitFor(() => isRevoked(reader.check({ jti: 'j1' })), 3_000, 'sentinel propagation');
  t.pass('the revocation reached the other replica');
  t.equal(reader.stats().subscribed, 1);
});
