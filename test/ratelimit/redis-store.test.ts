import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { FailoverStore } from '../../src/store/failover-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { StorePermanentError } from '../../src/store/redis-errors.js';
import { startRedis } from '../helpers/redis.js';
import { clientCommands, gcra, redisStore, sliding, slot } from './redis-fixtures.js';

const HOUR = 3_600_000;

t.test('redis standalone', async (t) => {
  const server = await startRedis(t);
  const redis = { host: server.host, port: server.port };

  t.test('parallel decisions admit limit', async (t) => {
    const { store } = await redisStore(t, redis);
    const gcraDecisions = await Promise.all(
      Array.from({ length: 200 }, () => store.decide([gcra('parallel-g', 50, HOUR)])),
    );
    t.equal(gcraDecisions.filter((decision) => decision.committed).length, 50, 'gcra');
    const windowDecisions = await Promise.all(
      Array.from({ length: 200 }, () => store.decide([sliding('parallel-s', 50, HOUR)])),
    );
    t.equal(windowDecisions.filter((decision) => decision.committed).length, 50, 'sliding window');
  });

  t.test('no double burst at edge', async (t) => {
    // The script reads the clock with TIME, so the test aligns itself with the Redis clock:
    // a burst at .900 of a second, and another just after the next second begins.
    const { store, client } = await redisStore(t, redis);
    for (const [name, check] of [
      ['gcra', gcra('edge-g', 5, 1_000)],
      ['sliding window', sliding('edge-s', 5, 1_000)],
    ] as const) {
      await sleepUntilMillisecond(client, 900);
      const before = await Promise.all(Array.from({ length: 5 }, () => store.decide([check])));
      await sleep(120);
      const after = await Promise.all(Array.from({ length: 5 }, () => store.decide([check])));
      t.equal(before.filter((decision) => decision.committed).length, 5, `${name}: first burst`);
      t.ok(
        after.filter((decision) => decision.committed).length <= 1,
        `${name}: at most one admitted across the edge`,
      );
    }
  });

  t.test('rejection consumes no other check', async (t) => {
    const { store } = await redisStore(t, redis);
    const loose = gcra('consume-loose', 10, HOUR);
    t.equal((await store.decide([gcra('consume-tight', 1, HOUR), loose])).committed, true);
    for (let i = 0; i < 5; i++) {
      const decision = await store.decide([gcra('consume-tight', 1, HOUR), loose]);
      t.equal(decision.committed, false, `rejection ${i + 1}`);
    }
    const probe = await store.decide([gcra('consume-other', 1, HOUR), loose]);
    t.equal(probe.outcomes[1]!.remaining, 8, 'loose consumed by admitted requests only');
  });

  t.test('outcome values match the memory backend', async (t) => {
    const { store } = await redisStore(t, redis);
    const first = (await store.decide([gcra('values', 5, 5 * HOUR)])).outcomes[0]!;
    t.equal(first.allowed, true);
    t.equal(first.remaining, 4);
    t.ok(Math.abs(first.resetMs - HOUR) <= 5, `reset ${first.resetMs}`);
    for (let i = 0; i < 4; i++) await store.decide([gcra('values', 5, 5 * HOUR)]);
    const rejected = (await store.decide([gcra('values', 5, 5 * HOUR)])).outcomes[0]!;
    t.equal(rejected.allowed, false);
    t.equal(rejected.remaining, 0);
    t.ok(Math.abs(rejected.retryAfterMs - HOUR) <= 50, `retry-after ${rejected.retryAfterMs}`);
  });

  t.test('exactly one Redis command per decision', async (t) => {
    const { store } = await redisStore(t, redis);
    const checks = [gcra('one-a', 1_000, HOUR), sliding('one-b', 1_000, HOUR), slot('one-c', 100)];
    const warmUp = await store.decide(checks);
    await warmUp.lease?.release();
    await server.command('CONFIG', 'RESETSTAT');
    const decisions = [];
    for (let i = 0; i < 10; i++) decisions.push(await store.decide(checks));
    decisions.push(...(await Promise.all(Array.from({ length: 10 }, () => store.decide(checks)))));
    const calls = await server.commandCalls();
    t.same([...clientCommands(calls)], [['evalsha', 20]], 'one EVALSHA per decision, nothing else');
    t.equal(calls.get('time'), 20, 'each EVALSHA ran the script once');
    await Promise.all(decisions.map((decision) => decision.lease?.release()));
  });

  t.test('script is loaded again after NOSCRIPT', async (t) => {
    const { store } = await redisStore(t, redis);
    await store.decide([gcra('noscript', 10, HOUR)]);
    await server.command('SCRIPT', 'FLUSH');
    await server.command('CONFIG', 'RESETSTAT');
    const decision = await store.decide([gcra('noscript', 10, HOUR)]);
    t.equal(decision.committed, true);
    t.equal(decision.outcomes[0]!.remaining, 8);
    const calls = await server.commandCalls();
    t.equal(calls.get('script|load'), 1, 'SCRIPT LOAD once');
  });

  t.test('concurrency slots are released', async (t) => {
    const { store } = await redisStore(t, redis);
    const first = await store.decide([slot('release', 2)]);
    const second = await store.decide([slot('release', 2)]);
    t.equal(first.committed && second.committed, true);
    t.equal((await store.decide([slot('release', 2)])).committed, false, 'third rejected');
    await first.lease!.release();
    await first.lease!.release();
    const third = await store.decide([slot('release', 2)]);
    t.equal(third.committed, true, 'admitted after a release');
    t.equal((await store.decide([slot('release', 2)])).committed, false, 'one release, one slot');
    await second.lease!.release();
    await third.lease!.release();
    t.equal(store.heldLeases, 0, 'no lease renewed after release');
  });

  t.test('crashed replica slots expire', async (t) => {
    const crashed = await redisStore(t, redis, { leaseMs: 1_000 });
    const survivor = await redisStore(t, redis, { leaseMs: 1_000 });
    t.equal((await crashed.store.decide([slot('crash', 1)])).committed, true);
    await crashed.store.close();
    t.equal((await survivor.store.decide([slot('crash', 1)])).committed, false, 'held right after');
    await sleep(1_200);
    const later = await survivor.store.decide([slot('crash', 1)]);
    t.equal(later.committed, true, 'free after the lease time');
    await later.lease!.release();
  });

  t.test('leases of live requests are renewed', async (t) => {
    const holder = await redisStore(t, redis, { leaseMs: 1_000 });
    const other = await redisStore(t, redis, { leaseMs: 1_000 });
    const holding = await holder.store.decide([slot('renew', 1)]);
    await sleep(2_500);
    t.equal((await other.store.decide([slot('renew', 1)])).committed, false, 'still held');
    await holding.lease!.release();
    const after = await other.store.decide([slot('renew', 1)]);
    t.equal(after.committed, true, 'free after release');
    await after.lease!.release();
  });

  t.test('wrong key type is permanent', async (t) => {
    const { store } = await redisStore(t, redis);
    await server.command('LPUSH', 'test:rl:wrongtype', 'x');
    await t.rejects(store.decide([gcra('wrongtype', 10, HOUR)]), StorePermanentError);
    const failover = new FailoverStore({
      primary: store,
      fallback: new MemoryStore(),
      probeIntervalMs: 100,
    });
    const decision = await failover.decide([gcra('wrongtype', 10, HOUR, { failMode: 'allow' })]);
    t.equal(decision.status, 'unavailable');
    t.equal(failover.stats().state, 'primary', 'no switch to the fail mode');
    t.equal(failover.stats().permanentErrors, 1);
  });
});

/** Sleeps until the Redis clock is at `millisecond` within a second. */
async function sleepUntilMillisecond(
  client: { time(): Promise<(string | number)[]> },
  millisecond: number,
): Promise<void> {
  const [, micros] = await client.time();
  const current = Math.floor(Number(micros) / 1_000);
  await sleep((millisecond - current + 1_000) % 1_000);
}
