import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import {
  BlockList,
  BlockListFullError,
  BlockStoreUnavailableError,
} from '../../src/alerts/blocks/block-list.js';
import type { BlockRecord } from '../../src/alerts/blocks/block-record.js';
import { RedisBlockStore } from '../../src/alerts/blocks/redis-block-store.js';
import { createLogger } from '../../src/monitoring/logger.js';
import type { FailMode } from '../../src/store/store.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const log = createLogger('silent');
const SYNC_MS = 100;

function block(overrides: Partial<BlockRecord> = {}): BlockRecord {
  const now = Date.now();
  return {
    kind: 'client_ip',
    key: '203.0.113.7',
    rule: 'auth-failure-burst',
    status: 429,
    createdAt: now,
    expiresAt: now + 60_000,
    ...overrides,
  };
}

function redisClient(t: Test, redis: RedisServer): Redis {
  const client = new Redis({
    host: redis.host,
    port: redis.port,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 200,
    retryStrategy: () => 50,
  });
  client.on('error', () => undefined);
  t.teardown(() => client.disconnect());
  return client;
}

async function redisList(
  t: Test,
  redis: RedisServer,
  failMode: FailMode = 'local',
  maxBlocks = 100,
): Promise<BlockList> {
  const client = redisClient(t, redis);
  await new Promise((resolve) => client.once('ready', resolve));
  const list = new BlockList({
    store: new RedisBlockStore(client, 'test:alerts:'),
    failMode,
    syncIntervalMs: SYNC_MS,
    maxBlocks,
    log,
    connected: () => client.status === 'ready',
  });
  list.start();
  t.teardown(() => list.stop());
  await list.sync();
  return list;
}

t.test('memory list blocks until expiry', async (t) => {
  let now = 1_000_000;
  const list = new BlockList({
    failMode: 'local',
    syncIntervalMs: SYNC_MS,
    maxBlocks: 2,
    log,
    now: () => now,
  });
  t.ok(list.empty);
  await list.add(block({ createdAt: now, expiresAt: now + 1_000 }), 'shared');
  t.notOk(list.empty);
  t.equal(list.find('client_ip', '203.0.113.7')?.rule, 'auth-failure-burst');
  t.equal(list.find('subject', '203.0.113.7'), undefined, 'kinds do not collide');
  t.same(list.countByKind(), { client_ip: 1, subject: 0, session: 0 });
  now += 1_000;
  t.equal(list.find('client_ip', '203.0.113.7'), undefined, 'expired at expiresAt');
  t.same((await list.list()).records, []);
});

t.test('memory list keeps the longer block', async (t) => {
  const list = new BlockList({ failMode: 'local', syncIntervalMs: SYNC_MS, maxBlocks: 10, log });
  const long = block({ expiresAt: Date.now() + 60_000 });
  await list.add(long, 'shared');
  const kept = await list.add(block({ expiresAt: Date.now() + 1_000, rule: 'other' }), 'shared');
  t.equal(kept.rule, 'auth-failure-burst', 'a shorter block does not replace a longer one');
  const longer = await list.add(
    block({ expiresAt: Date.now() + 120_000, rule: 'other' }),
    'shared',
  );
  t.equal(longer.rule, 'other', 'a longer block replaces a shorter one');
});

t.test('memory list is bounded', async (t) => {
  const list = new BlockList({ failMode: 'local', syncIntervalMs: SYNC_MS, maxBlocks: 2, log });
  await list.add(block({ key: 'a' }), 'shared');
  await list.add(block({ key: 'b' }), 'shared');
  await t.rejects(list.add(block({ key: 'c' }), 'shared'), BlockListFullError);
  t.equal((await list.remove('a', ['client_ip'])).length, 1, 'a block is lifted');
  await list.add(block({ key: 'c' }), 'shared');
  t.same(await list.remove('nobody', ['client_ip', 'subject', 'session']), []);
});

t.test('redis blocks reach other replicas', async (t) => {
  const redis = await startRedis(t);
  const first = await redisList(t, redis);
  const second = await redisList(t, redis);
  await first.add(block(), 'shared');
  t.ok(first.find('client_ip', '203.0.113.7'), 'the writer enforces at once');
  await second.sync();
  t.equal(second.find('client_ip', '203.0.113.7')?.rule, 'auth-failure-burst', 'synced');
  const listed = await second.list();
  t.equal(listed.records.length, 1);
  t.equal(listed.stale, false);
  const removed = await second.remove('203.0.113.7', ['client_ip', 'subject']);
  t.equal(removed.length, 1, 'lifted on the second replica');
  await first.sync();
  t.equal(first.find('client_ip', '203.0.113.7'), undefined, 'the first replica sees the lift');
  t.same(await second.remove('203.0.113.7', ['client_ip']), [], 'nothing left to lift');
});

t.test('redis blocks expire on every replica', async (t) => {
  const redis = await startRedis(t);
  const first = await redisList(t, redis);
  const second = await redisList(t, redis);
  await first.add(block({ expiresAt: Date.now() + 300 }), 'shared');
  await second.sync();
  t.ok(second.find('client_ip', '203.0.113.7'));
  await sleep(350);
  t.equal(second.find('client_ip', '203.0.113.7'), undefined);
  t.equal(first.find('client_ip', '203.0.113.7'), undefined);
});

t.test('redis list is bounded', async (t) => {
  const redis = await startRedis(t);
  const list = await redisList(t, redis, 'local', 2);
  await list.add(block({ key: 'a' }), 'shared');
  await list.add(block({ key: 'b' }), 'shared');
  await t.rejects(list.add(block({ key: 'c' }), 'shared'), BlockListFullError);
  await list.add(block({ key: 'a', expiresAt: Date.now() + 90_000 }), 'shared');
  t.pass('an existing block can still be extended');
});

t.test('fail modes while redis is down', async (t) => {
  const redis = await startRedis(t);
  const local = await redisList(t, redis, 'local');
  const allow = await redisList(t, redis, 'allow');
  const deny = await redisList(t, redis, 'deny');
  await local.add(block(), 'shared');
  for (const list of [allow, deny]) await list.sync();
  t.notOk(deny.unavailable, 'fresh: deny lets requests through');
  t.ok(allow.find('client_ip', '203.0.113.7'), 'fresh: allow enforces');

  await redis.kill();
  await sleep(SYNC_MS * 4);
  t.ok(local.stale, 'the copy is stale');
  t.ok(local.find('client_ip', '203.0.113.7'), 'local keeps enforcing what it knows');
  t.equal(allow.find('client_ip', '203.0.113.7'), undefined, 'allow enforces nothing');
  t.ok(deny.unavailable, 'deny rejects every request');
  await t.rejects(local.add(block({ key: 'x' }), 'shared'), BlockStoreUnavailableError);
  const kept = await local.add(block({ key: 'y' }), 'shared_or_local');
  t.equal(kept.key, 'y');
  t.ok(local.find('client_ip', 'y'), 'an alert block is kept in this replica');
  await t.rejects(local.remove('203.0.113.7', ['client_ip']), BlockStoreUnavailableError);
  t.equal((await local.list()).stale, true, 'the list says it is stale');

  await redis.restart();
  await sleep(SYNC_MS * 10);
  t.notOk(deny.unavailable, 'fresh again once Redis is back');
  t.equal(deny.find('client_ip', '203.0.113.7'), undefined, 'a restarted Redis lost its blocks');
  t.ok(local.find('client_ip', 'y'), 'the local-only block stays until it expires');
});
