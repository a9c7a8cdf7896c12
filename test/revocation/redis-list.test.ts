import t from 'tap';
import { startRedis } from '../helpers/redis.js';
import { isRevoked, recordingLog, redisList, waitFor } from './fixtures.js';
import { testListContract } from './list-contract.js';

t.test('redis list', async (t) => {
  const server = await startRedis(t);
  let prefixes = 0;

  t.test('contract', async (t) => {
    testListContract(t, (t) => redisList(t, server, { keyPrefix: `contract-${++prefixes}` }));
  });

  t.test('revocation propagates to another replica', async (t) => {
    const writer = await redisList(t, server, { keyPrefix: 'propagation' });
    const reader = await redisList(t, server, { keyPrefix: 'propagation' });
    t.equal(reader.stats().fresh, 1, 'reader is fresh after start');

    await writer.revoke({ kind: 'jti', value: 'j1', reason: 'leaked' });
    await waitFor(() => isRevoked(reader.check({ jti: 'j1' })), 10_000, 'jti');
    t.same(reader.check({ jti: 'j1' }), { revoked: true, kind: 'jti', reason: 'leaked' });

    const cutOff = Date.now();
    await writer.revoke({
      kind: 'sub',
      value: 'alice',
      reason: 'offboarded',
      issuedBefore: cutOff,
    });
    await writer.revoke({ kind: 'sid', value: 's1', reason: 'logout' });
    await waitFor(() => reader.stats().records === 3, 10_000, 'three records');
    const iat = Math.floor(cutOff / 1000);
    t.ok(isRevoked(reader.check({ sub: 'alice', iat })), 'sub at cut-off');
    t.same(reader.check({ sub: 'alice', iat: iat + 1 }), { revoked: false }, 'sub newer token');
    t.same(reader.check({ sid: 's1' }), { revoked: true, kind: 'sid', reason: 'logout' });

    await writer.unrevoke('jti', 'j1');
    await waitFor(() => !('kind' in reader.check({ jti: 'j1' })), 10_000, 'unrevoke');
    t.same(reader.check({ jti: 'j1' }), { revoked: false }, 'unrevoke propagates');
    t.equal(reader.stats().version, 4, 'reader reflects four changes');
  });

  t.test('replica started later loads existing records', async (t) => {
    const writer = await redisList(t, server, { keyPrefix: 'late' });
    await writer.revoke({ kind: 'sid', value: 'old-session', reason: 'logout' });
    const late = await redisList(t, server, { keyPrefix: 'late' });
    t.same(late.check({ sid: 'old-session' }), { revoked: true, kind: 'sid', reason: 'logout' });
    t.equal(late.stats().version, 1);
  });

  t.test('resync heals a change made behind its back', async (t) => {
    const list = await redisList(t, server, { keyPrefix: 'heal' });
    // A write that bypasses the script publishes nothing: only the periodic resync finds it.
    await server.command(
      'HSET',
      '{heal}:records',
      'sid:manual',
      JSON.stringify({ kind: 'sid', value: 'manual', reason: 'manual', createdAt: Date.now() }),
    );
    await server.command('INCR', '{heal}:version');
    await waitFor(() => isRevoked(list.check({ sid: 'manual' })), 10_000, 'resync');
    t.pass('the record arrived by resync');
    t.ok(list.stats().fullSyncs >= 2, 'a full sync ran after start');
  });

  t.test('rejects beyond max_records', async (t) => {
    const list = await redisList(t, server, { keyPrefix: 'full', maxRecords: 2 });
    await list.revoke({ kind: 'jti', value: 'a', reason: 'x', ttlMs: 100 });
    await list.revoke({ kind: 'jti', value: 'b', reason: 'x' });
    await t.rejects(list.revoke({ kind: 'jti', value: 'c', reason: 'x' }), {
      name: 'RevocationListFullError',
    });
    t.equal(list.stats().writesRejectedFull, 1);
    await list.revoke({ kind: 'jti', value: 'b', reason: 'replacing is allowed' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    await list.revoke({ kind: 'jti', value: 'c', reason: 'room after expiry' });
    t.equal(
      await server.command('HEXISTS', '{full}:records', 'jti:a'),
      '0',
      'the expired field was removed from Redis',
    );
  });

  t.test('ignores invalid events', async (t) => {
    const list = await redisList(t, server, { keyPrefix: 'garbage' });
    await server.command('PUBLISH', 'garbage:events', 'not an event');
    await server.command('PUBLISH', 'garbage:events', '1 {"op":"revoke","record":{}}');
    await waitFor(() => list.stats().eventsInvalid === 2, 10_000, 'two invalid events');
    t.equal(list.stats().records, 0);
    t.equal(list.stats().version, 0);
  });
});

t.test('fail mode deny with redis stopped', async (t) => {
  const server = await startRedis(t);
  const log = recordingLog();
  const list = await redisList(t, server, { keyPrefix: 'deny', log });
  await list.revoke({ kind: 'jti', value: 'j', reason: 'x' });
  t.ok(isRevoked(list.check({ jti: 'j' })));

  const stoppedAt = Date.now();
  await server.kill();
  await waitFor(() => 'unavailable' in list.check({ jti: 'other' }), 10_000, 'unavailable');
  const staleAfter = Date.now() - stoppedAt;
  // The last sync may have run up to one resync interval (100 ms) before the kill.
  t.ok(staleAfter >= 290, `stale only after the freshness bound (${staleAfter} ms)`);
  t.same(list.check({ jti: 'j' }), { unavailable: true }, 'revoked token: unavailable');
  t.same(list.check({}), { unavailable: true }, 'any token: unavailable');
  t.equal(list.stats().fresh, 0);
  t.equal(list.stats().staleSwitches, 1);
  t.ok(list.stats().checksUnavailable >= 2);
  t.ok(
    log.messages('warn').some((message) => message.startsWith('revocation replica is stale')),
    'the switch is logged',
  );
  await t.rejects(list.revoke({ kind: 'jti', value: 'k', reason: 'x' }), {
    name: 'RevocationUnavailableError',
  });
  await t.rejects(list.list(), { name: 'RevocationUnavailableError' });

  await server.restart();
  await waitFor(() => list.stats().fresh === 1, 10_000, 'fresh after restart');
  t.equal(list.stats().freshSwitches, 2, 'fresh at start and again after restart');
  t.ok(log.messages('info').includes('revocation replica is fresh again'));
  // The restarted server has no persistence, so the replica now mirrors an empty list.
  t.same(list.check({ jti: 'j' }), { revoked: false }, 'replica mirrors the restarted Redis');
  await list.revoke({ kind: 'jti', value: 'after', reason: 'x' });
  t.ok(isRevoked(list.check({ jti: 'after' })), 'writes work again');
  await waitFor(() => list.stats().subscribed === 1, 10_000, 'subscribed again');
});

t.test('fail mode allow answers from the replica', async (t) => {
  const server = await startRedis(t);
  const log = recordingLog();
  const list = await redisList(t, server, { keyPrefix: 'allow', failMode: 'allow', log });
  await list.revoke({ kind: 'sid', value: 's', reason: 'logout' });
  await server.kill();
  await waitFor(() => list.stats().fresh === 0, 10_000, 'stale');
  t.same(list.check({ sid: 's' }), { revoked: true, kind: 'sid', reason: 'logout' });
  t.same(list.check({ sid: 'other' }), { revoked: false });
  t.equal(list.stats().checksStaleAllowed, 2);
  t.equal(list.stats().checksUnavailable, 0);
  t.ok(log.messages('warn').some((message) => message.includes('answered from the stale')));
  await server.restart();
  await waitFor(() => list.stats().fresh === 1, 10_000, 'fresh after restart');
});

t.test('hung redis makes the replica stale', async (t) => {
  const server = await startRedis(t);
  const list = await redisList(t, server, { keyPrefix: 'hung' });
  await waitFor(() => list.stats().subscribed === 1, 10_000, 'subscribed');
  server.pause();
  t.teardown(() => server.resume());
  await waitFor(() => 'unavailable' in list.check({}), 10_000, 'unavailable while paused');
  t.equal(list.stats().subscribed, 0, 'the unanswered PING dropped the subscription');
  server.resume();
  await waitFor(() => list.stats().subscribed === 1, 10_000, 'subscribed after resume');
  t.equal(list.stats().fresh, 1, 'fresh after resume');
});

t.test('redis down at start', async (t) => {
  const server = await startRedis(t);
  await server.kill();
  const log = recordingLog();
  const list = await redisList(t, server, { keyPrefix: 'cold', log });
  t.same(list.check({ jti: 'x' }), { unavailable: true }, 'unavailable before the first load');
  await server.restart();
  await waitFor(() => list.stats().fresh === 1, 10_000, 'fresh once Redis is up');
  t.same(list.check({ jti: 'x' }), { revoked: false });
});
