import t from 'tap';
import { ReplyError, type Cluster } from 'ioredis';
import { FailoverStore } from '../../src/store/failover-store.js';
import { keySlot } from '../../src/store/key-slot.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { classifyRedisError, toStoreError } from '../../src/store/redis-errors.js';
import { startRedisCluster, type RedisServer } from '../helpers/redis.js';
import { clientCommands, gcra, redisStore, slot } from './redis-fixtures.js';

const HOUR = 3_600_000;
const PREFIX = 'test:rl:';

t.test('redis cluster', async (t) => {
  const cluster = await startRedisCluster(t);
  const redis = { mode: 'cluster', nodes: cluster.nodes };

  t.test('keySlot agrees with CLUSTER KEYSLOT', async (t) => {
    const keys = [
      'plain',
      `${PREFIX}{per-ip:default:abc}:g60`,
      '{user1000}.following',
      'foo{}{bar}',
      'foo{{bar}}zap',
      'foo{bar}{zap}',
      'ключ',
      '{',
      '}{x}',
    ];
    for (const key of keys) {
      const expected = Number(await cluster.servers[0]!.command('CLUSTER', 'KEYSLOT', key));
      t.equal(keySlot(key), expected, key);
    }
  });

  t.test('parallel decisions admit limit', async (t) => {
    const { store } = await redisStore(t, redis);
    const decisions = await Promise.all(
      Array.from({ length: 200 }, () => store.decide([gcra('{parallel}:g', 50, HOUR)])),
    );
    t.equal(decisions.filter((decision) => decision.committed).length, 50);
  });

  // Two hash tags in different slots, so one request spans two script calls.
  const tight = '{alpha}:tight';
  const loose = '{beta}:loose';

  t.test('test keys are in different slots', async (t) => {
    t.not(keySlot(PREFIX + tight), keySlot(PREFIX + loose));
  });

  t.test('rejection consumes no other slot', async (t) => {
    const { store } = await redisStore(t, redis);
    const looseCheck = gcra(loose, 10, HOUR);
    t.equal((await store.decide([gcra(tight, 1, HOUR), looseCheck])).committed, true);
    for (let i = 0; i < 5; i++) {
      const decision = await store.decide([gcra(tight, 1, HOUR), looseCheck]);
      t.equal(decision.committed, false, `rejection ${i + 1}`);
    }
    const probe = await store.decide([gcra('{gamma}:other', 1, HOUR), looseCheck]);
    t.equal(probe.outcomes[1]!.remaining, 8, 'refunds undid the rejected requests');
  });

  t.test('parallel multi-slot decisions admit limit', async (t) => {
    const { store } = await redisStore(t, redis);
    const perKey = gcra('{delta}:per-key', 20, HOUR);
    const global = gcra('{epsilon}:global', 1_000, HOUR);
    const concurrency = slot('{zeta}:slots', 1_000);
    const decisions = await Promise.all(
      Array.from({ length: 100 }, () => store.decide([perKey, global, concurrency])),
    );
    const admitted = decisions.filter((decision) => decision.committed);
    t.equal(admitted.length, 20, 'per-key limit holds across slots');
    t.equal(
      decisions.filter((decision) => decision.lease !== undefined).length,
      20,
      'only admitted requests hold a slot',
    );
    const probe = await store.decide([
      gcra('{eta}:other', 1, HOUR),
      global,
      slot('{zeta}:slots', 21),
    ]);
    t.equal(probe.outcomes[1]!.remaining, 1_000 - 21, 'global consumed by admitted requests only');
    t.equal(probe.outcomes[2]!.allowed, true, 'rejected requests left no slot behind');
    t.equal(probe.outcomes[2]!.remaining, 0, 'twenty slots held, one taken now');
    await Promise.all([...admitted, probe].map((decision) => decision.lease?.release()));
  });

  t.test('one EVALSHA per slot and decision', async (t) => {
    const { store } = await redisStore(t, redis);
    const checks = [gcra('{theta}:a', 1_000, HOUR), gcra('{iota}:b', 1_000, HOUR)];
    await store.decide(checks);
    await resetStats(cluster.servers);
    for (let i = 0; i < 10; i++) await store.decide(checks);
    const sent = await clientCommandsOf(cluster.servers);
    t.same([...sent], [['evalsha', 20]], 'two slots, two EVALSHA per decision');
  });

  t.test('cross-slot errors never admit', async (t) => {
    const { client } = await redisStore(t, redis);
    const clientSide = await crossSlotError(client as Cluster);
    t.match(clientSide.message, /should belong to the same slot/, 'ioredis checks before sending');
    const reply = await cluster.servers[0]!.command('EVAL', 'return 1', '2', '{alpha}', '{beta}');
    t.match(reply, /^-CROSSSLOT /, 'the server answers CROSSSLOT');
    const serverSide: Error = new ReplyError(reply.slice(1));
    for (const [name, error] of [
      ['client-side', clientSide],
      ['CROSSSLOT reply', serverSide],
    ] as const) {
      t.equal(classifyRedisError(error), 'permanent', `${name} is permanent`);
      const failover = new FailoverStore({
        primary: {
          decide: async () => {
            throw toStoreError(error, 'rate limit decision');
          },
          ping: async () => {},
          close: async () => {},
        },
        fallback: new MemoryStore(),
        probeIntervalMs: 100,
      });
      const decision = await failover.decide([gcra('{x}:allow', 10, HOUR, { failMode: 'allow' })]);
      t.equal(decision.status, 'unavailable', `${name}: fail mode allow does not hide it`);
    }
  });
});

async function crossSlotError(client: Cluster): Promise<Error> {
  try {
    await client.eval('return 1', 2, '{alpha}', '{beta}');
  } catch (error) {
    return error as Error;
  }
  throw new Error('EVAL over two slots succeeded');
}

async function resetStats(servers: readonly RedisServer[]): Promise<void> {
  await Promise.all(servers.map((server) => server.command('CONFIG', 'RESETSTAT')));
}

/** Adds up the commands clients sent to every node, leaving out cluster housekeeping. */
async function clientCommandsOf(servers: readonly RedisServer[]): Promise<Map<string, number>> {
  const total = new Map<string, number>();
  for (const server of servers) {
    for (const [name, count] of clientCommands(await server.commandCalls())) {
      if (name.startsWith('cluster')) continue;
      total.set(name, (total.get(name) ?? 0) + count);
    }
  }
  return total;
}
