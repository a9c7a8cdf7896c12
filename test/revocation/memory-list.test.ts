import t from 'tap';
import { isRevoked, memoryList } from './fixtures.js';
import { testListContract } from './list-contract.js';

t.test('memory list', async (t) => {
  testListContract(t, async (t) => {
    const list = memoryList();
    await list.start();
    t.teardown(() => list.stop());
    return list;
  });
});

t.test('memory list rejects beyond max_records', async (t) => {
  let now = 1_000_000;
  const list = memoryList({ maxRecords: 2, clock: () => now });
  await list.revoke({ kind: 'jti', value: 'a', reason: 'x', ttlMs: 1_000 });
  await list.revoke({ kind: 'sid', value: 'b', reason: 'x' });
  await t.rejects(list.revoke({ kind: 'sub', value: 'c', reason: 'x' }), {
    name: 'RevocationListFullError',
  });
  await list.revoke({ kind: 'sid', value: 'b', reason: 'replacing is allowed' });
  t.equal(list.stats().writesRejectedFull, 1);
  now += 1_000;
  await list.revoke({ kind: 'sub', value: 'c', reason: 'room after expiry' });
  t.ok(isRevoked(list.check({ sub: 'c' })));
  t.notOk(isRevoked(list.check({ jti: 'a' })), 'expired record is gone');
});

t.test('memory list counts checks', async (t) => {
  const list = memoryList();
  await list.revoke({ kind: 'jti', value: 'a', reason: 'x' });
  list.check({ jti: 'a' });
  list.check({ jti: 'b' });
  const stats = list.stats();
  t.equal(stats.checks, 2);
  t.equal(stats.checksRevoked, 1);
  t.equal(stats.records, 1);
  t.equal(stats.fresh, 1);
});
