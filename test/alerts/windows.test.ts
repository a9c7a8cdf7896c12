import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { MemoryWindowStore } from '../../src/alerts/windows/memory-window-store.js';
import { RedisWindowStore } from '../../src/alerts/windows/redis-window-store.js';
import type { WindowSpec, WindowStore } from '../../src/alerts/windows/window-store.js';
import { startRedis } from '../helpers/redis.js';

const SPEC: WindowSpec = {
  key: 'rule:abc:client_ip=203.0.113.7',
  windowMs: 60_000,
  threshold: 3,
  cooldownMs: 60_000,
};

async function redisStores(t: Test, count: number): Promise<RedisWindowStore[]> {
  const redis = await startRedis(t);
  const stores: RedisWindowStore[] = [];
  for (let index = 0; index < count; index++) {
    const client = new Redis({ host: redis.host, port: redis.port, lazyConnect: true });
    await client.connect();
    t.teardown(() => client.quit());
    stores.push(new RedisWindowStore(client, 'test:alerts:'));
  }
  return stores;
}

/** Hits `store` once per member and returns which hits fired. */
async function hits(store: WindowStore, spec: WindowSpec, members: string[]): Promise<boolean[]> {
  const fired: boolean[] = [];
  for (const member of members) fired.push((await store.hit(spec, member)).fired);
  return fired;
}

t.test('memory window fires at the threshold once', async (t) => {
  let now = 1_000_000;
  const store = new MemoryWindowStore({ now: () => now });
  const spec = { ...SPEC, cooldownMs: 10_000 };
  t.same(await hits(store, spec, ['e1', 'e2']), [false, false], 'below the threshold');
  const third = await store.hit(spec, 'e3');
  t.equal(third.fired, true, 'the third event fires');
  t.equal(third.count, 3);
  t.same(await hits(store, spec, ['e4', 'e5', 'e6']), [false, false, false], 'cooldown holds');
  now += spec.cooldownMs - 1;
  t.equal((await store.hit(spec, 'e7')).fired, false, 'the cooldown lasts its whole length');
  now += 1;
  t.equal((await store.hit(spec, 'e8')).fired, true, 'fires again once the cooldown ends');
});

t.test('memory window slides', async (t) => {
  let now = 0;
  const store = new MemoryWindowStore({ now: () => now });
  await store.hit(SPEC, 'e1');
  now += 40_000;
  await store.hit(SPEC, 'e2');
  now += 30_000;
  const third = await store.hit(SPEC, 'e3');
  t.equal(third.count, 2, 'the first event left the window');
  t.equal(third.fired, false);
  t.equal((await store.hit(SPEC, 'e4')).fired, true, 'three within one window fire');
});

t.test('memory window counts distinct members', async (t) => {
  const store = new MemoryWindowStore();
  t.same(await hits(store, SPEC, ['a', 'a', 'b', 'b', 'a']), [false, false, false, false, false]);
  t.equal((await store.hit(SPEC, 'c')).fired, true, 'a third distinct member fires');
});

t.test('memory window keeps at most threshold members', async (t) => {
  const store = new MemoryWindowStore();
  const spec = { ...SPEC, threshold: 2, cooldownMs: 1 };
  for (let index = 0; index < 50; index++) await store.hit(spec, `e${index}`);
  t.equal((await store.hit(spec, 'last')).count, 2);
});

t.test('redis window fires at the threshold once', async (t) => {
  const [store] = await redisStores(t, 1);
  const spec = { ...SPEC, cooldownMs: 1_000 };
  t.same(await hits(store!, spec, ['e1', 'e2']), [false, false], 'below the threshold');
  const third = await store!.hit(spec, 'e3');
  t.equal(third.fired, true, 'the third event fires');
  t.equal(third.count, 3);
  const during = await store!.hit(spec, 'e4');
  t.equal(during.fired, false, 'cooldown holds');
  t.ok(during.cooldownRemainingMs > 0 && during.cooldownRemainingMs <= 1_000, 'remaining ms');
  await sleep(1_100);
  t.equal((await store!.hit(spec, 'e5')).fired, true, 'fires again once the cooldown ends');
});

t.test('redis window slides', async (t) => {
  const [store] = await redisStores(t, 1);
  const spec = { ...SPEC, windowMs: 500 };
  await hits(store!, spec, ['e1', 'e2']);
  await sleep(600);
  const third = await store!.hit(spec, 'e3');
  t.equal(third.count, 1, 'the earlier events left the window');
  t.equal(third.fired, false);
});

t.test('redis window shared by replicas fires once', async (t) => {
  const stores = await redisStores(t, 3);
  const spec = { ...SPEC, threshold: 10 };
  const results = await Promise.all(
    Array.from({ length: 30 }, (_, index) => stores[index % 3]!.hit(spec, `e${index}`)),
  );
  t.equal(results.filter((result) => result.fired).length, 1, 'exactly one hit fired');
  t.equal(Math.max(...results.map((result) => result.count)), 10, 'counted up to the threshold');
});

t.test('redis window counts distinct members', async (t) => {
  const [store] = await redisStores(t, 1);
  t.same(await hits(store!, SPEC, ['a', 'a', 'b', 'b', 'a']), [false, false, false, false, false]);
  t.equal((await store!.hit(SPEC, 'c')).fired, true, 'a third distinct member fires');
});
