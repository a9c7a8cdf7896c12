import t from 'tap';
import { revocationSettingsSchema } from '../../src/revocation/settings.js';

function issues(input: unknown): string[] {
  const result = revocationSettingsSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

t.test('revocation settings defaults', async (t) => {
  const settings = revocationSettingsSchema.parse({});
  t.equal(settings.store, 'memory');
  t.equal(settings.fail_mode, 'deny');
  t.equal(settings.max_records, 100_000);
  t.equal(settings.default_jti_ttl, 86_400_000);
  t.equal(settings.retention_margin, 60_000);
  t.equal(settings.redis, undefined);
  const redis = revocationSettingsSchema.parse({ store: 'redis', redis: { host: 'redis' } }).redis!;
  t.equal(redis.mode, 'standalone');
  t.equal(redis.key_prefix, 'agentflow:revocation');
  t.equal(redis.command_timeout, 500);
  t.equal(redis.resync_interval, 5_000);
  t.equal(redis.freshness_bound, 15_000);
});

t.test('revocation settings accept each mode', async (t) => {
  const valid = [
    { url: 'redis://127.0.0.1:6380/2' },
    { url: 'rediss://cache.internal' },
    { host: 'redis', port: 6380, db: 3, password_env: 'REDIS_PASSWORD' },
    {
      mode: 'sentinel',
      sentinels: [{ host: 's1', port: 26379 }],
      master_name: 'main',
    },
    { mode: 'cluster', nodes: [{ host: 'n1', port: 7000 }] },
  ];
  for (const redis of valid) {
    t.same(issues({ store: 'redis', fail_mode: 'allow', redis }), [], JSON.stringify(redis));
  }
});

t.test('revocation settings reject', async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ['redis store without redis', { store: 'redis' }, /^redis: is required when store is redis/],
    ['unknown fail mode', { fail_mode: 'local' }, /^fail_mode: /],
    ['unknown key', { stores: 'redis' }, /stores/],
    ['bare number duration', { default_jti_ttl: '30' }, /invalid duration "30"/],
    ['zero max_records', { max_records: 0 }, /^max_records: /],
    ['no address', { store: 'redis', redis: {} }, /^redis.url: url or host is required/],
    [
      'url and host',
      { store: 'redis', redis: { url: 'redis://a', host: 'b' } },
      /^redis.url: give either url or host/,
    ],
    [
      'password in url',
      { store: 'redis', redis: { url: 'redis://:secret@a' } },
      /must not contain a password/,
    ],
    ['http url', { store: 'redis', redis: { url: 'http://a' } }, /redis:\/\/ or rediss:\/\//],
    ['url with path', { store: 'redis', redis: { url: 'redis://a/x' } }, /database number/],
    [
      'db twice',
      { store: 'redis', redis: { url: 'redis://a/1', db: 1 } },
      /^redis.db: give the database in url or in db/,
    ],
    [
      'sentinel without master',
      { store: 'redis', redis: { mode: 'sentinel', sentinels: [{ host: 's', port: 1 }] } },
      /^redis.master_name: is required/,
    ],
    [
      'cluster with db',
      { store: 'redis', redis: { mode: 'cluster', nodes: [{ host: 'n', port: 1 }], db: 1 } },
      /^redis.db: must be 0/,
    ],
    [
      'bound below twice the interval',
      { store: 'redis', redis: { host: 'a', resync_interval: '10s', freshness_bound: '15s' } },
      /^redis.freshness_bound: must be at least twice resync_interval/,
    ],
    [
      'braces in prefix',
      { store: 'redis', redis: { host: 'a', key_prefix: '{x}' } },
      /^redis.key_prefix: must be non-empty, without braces/,
    ],
    [
      'bad env name',
      { store: 'redis', redis: { host: 'a', password_env: 'A-B' } },
      /^redis.password_env: must be an environment variable name/,
    ],
  ];
  for (const [name, input, expected] of cases) {
    const found = issues(input);
    t.ok(
      found.some((issue) => expected.test(issue)),
      `${name}: ${found.join(' | ') || 'no issue'}`,
    );
  }
});
