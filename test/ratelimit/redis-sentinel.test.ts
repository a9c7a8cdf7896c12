import t from 'tap';
import { startRedis, startRedisSentinel } from '../helpers/redis.js';
import { clientCommands, gcra, redisStore } from './redis-fixtures.js';

const HOUR = 3_600_000;

t.test('redis through sentinel', async (t) => {
  const master = await startRedis(t);
  const sentinel = await startRedisSentinel(t, master, 'ratelimit');
  const { store } = await redisStore(t, {
    mode: 'sentinel',
    sentinels: [{ host: sentinel.host, port: sentinel.port }],
    master_name: 'ratelimit',
  });
  const decisions = await Promise.all(
    Array.from({ length: 40 }, () => store.decide([gcra('sentinel', 10, HOUR)])),
  );
  t.equal(decisions.filter((decision) => decision.committed).length, 10, 'limit holds');
  await master.command('CONFIG', 'RESETSTAT');
  await store.decide([gcra('sentinel', 10, HOUR)]);
  t.same(
    [...clientCommands(await master.commandCalls())],
    [['evalsha', 1]],
    'decided on the master',
  );
});
