import t from 'tap';
import { parseKeyPart } from '../../src/ratelimit/key-parts.js';
import { rateLimitsSchema } from '../../src/ratelimit/schema.js';
import { createRedisClient, reconnectDelay } from '../../src/store/redis-client.js';
import { rateLimitStoreSettingsSchema } from '../../src/store/settings.js';

function issues(
  schema: {
    safeParse(input: unknown): {
      success: boolean;
      error?: { issues: { path: PropertyKey[]; message: string }[] };
    };
  },
  input: unknown,
): string[] {
  const result = schema.safeParse(input);
  if (result.success) return [];
  return result.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

const VALID_LAYER = { name: 'per-ip', key: ['client_ip'], limits: [{ requests: 30, per: '1m' }] };

t.test('parseKeyPart', async (t) => {
  const cases: [string, unknown][] = [
    ['client_ip', { kind: 'client_ip', ipv4Prefix: 32, ipv6Prefix: 128 }],
    ['client_ip/24', { kind: 'client_ip', ipv4Prefix: 24, ipv6Prefix: 128 }],
    ['client_ip/64', { kind: 'client_ip', ipv4Prefix: 32, ipv6Prefix: 64 }],
    ['client_ip/24/56', { kind: 'client_ip', ipv4Prefix: 24, ipv6Prefix: 56 }],
    ['route', { kind: 'route' }],
    ['method', { kind: 'method' }],
    ['session', { kind: 'session' }],
    ['user_agent', { kind: 'user_agent' }],
    ['claim:sub', { kind: 'claim', path: 'sub' }],
    ['claim:/https:~1~1example.com~1org', { kind: 'claim', path: '/https:~1~1example.com~1org' }],
    ['header:X-Api-Key', { kind: 'header', name: 'x-api-key' }],
  ];
  for (const [text, expected] of cases) t.same(parseKeyPart(text), expected, text);
  const invalid = [
    'client_ip/0',
    'client_ip/129',
    'client_ip/33/64',
    'client_ip/24/0',
    'claim:',
    'claim:a..b',
    'header:',
    'header:x y',
    'ip',
    'CLIENT_IP',
  ];
  for (const text of invalid) t.type(parseKeyPart(text), 'string', `${text} rejected`);
});

t.test('rate_limits accepts a full layer', async (t) => {
  const [layer] = rateLimitsSchema.parse([
    {
      name: 'api',
      key: ['client_ip/64', 'route'],
      limits: [
        { requests: 10, per: '1s', burst: 20 },
        { requests: 1000, per: '1h' },
      ],
      cost: 2,
      max_in_flight: 4,
      tiers: {
        claim: 'plan',
        values: { pro: { limits: [{ requests: 100, per: '1s' }] }, free: { max_in_flight: 1 } },
      },
      shadow: true,
      exempt: { cidrs: ['private'], roles: ['admin'] },
      routes: ['query'],
      fail_mode: 'deny',
      missing_key: 'shared',
    },
  ]);
  t.equal(layer!.algorithm, 'gcra');
  t.equal(layer!.limits[0]!.per, 1_000);
  t.equal(layer!.limits[1]!.per, 3_600_000);
});

t.test('rate_limits defaults', async (t) => {
  const [layer] = rateLimitsSchema.parse([
    { name: 'global', limits: [{ requests: 5, per: '1s' }] },
  ]);
  t.same(layer!.key, [], 'no key parts: one global bucket');
  t.equal(layer!.cost, 1);
  t.equal(layer!.shadow, false);
  t.equal(layer!.missing_key, 'skip');
  t.equal(layer!.fail_mode, undefined, 'the store default applies');
  t.same(layer!.exempt, { cidrs: [], roles: [] });
});

t.test('rate_limits rejects invalid layers', async (t) => {
  const cases: [unknown, RegExp][] = [
    [[{ ...VALID_LAYER, key: ['ip'] }], /0\.key\.0: "ip" is not a key part/],
    [[{ ...VALID_LAYER, limits: [{ requests: 3, per: '1500ms' }] }], /per: must be whole seconds/],
    [[{ ...VALID_LAYER, limits: [{ requests: 3, per: '60' }] }], /invalid duration "60"/],
    [
      [
        {
          ...VALID_LAYER,
          algorithm: 'sliding_window',
          limits: [{ requests: 3, per: '1s', burst: 5 }],
        },
      ],
      /burst: is only used with algorithm gcra/,
    ],
    [[{ ...VALID_LAYER, cost: 31 }], /cost: is larger than 30/],
    [[{ name: 'empty', key: [] }], /limits: set limits, max_in_flight or both/],
    [[VALID_LAYER, VALID_LAYER], /1\.name: layer name "per-ip" is used twice/],
    [
      [
        {
          ...VALID_LAYER,
          limits: [
            { requests: 1, per: '1m' },
            { requests: 2, per: '60s' },
          ],
        },
      ],
      /two limits with the same per/,
    ],
    [[{ ...VALID_LAYER, exempt: { cidrs: ['10.0.0.1/8'] } }], /host bits are set/],
    [[{ ...VALID_LAYER, tiers: { claim: 'plan', values: { 'a{b}': {} } } }], /tiers\.values/],
    [[{ ...VALID_LAYER, tiers: { claim: 'a..b', values: {} } }], /tiers\.claim/],
    [[{ ...VALID_LAYER, fail_mode: 'open' }], /fail_mode/],
    [[{ ...VALID_LAYER, limit: [] }], /Unrecognized key/],
    [[{ ...VALID_LAYER, name: 'Per IP' }], /name: must be/],
    [
      [{ ...VALID_LAYER, tiers: { claim: 'plan', values: { free: { limits: [] } } } }],
      /tiers\.values\.free\.limits: set limits/,
    ],
  ];
  for (const [input, expected] of cases) {
    const found = issues(rateLimitsSchema, input);
    t.ok(
      found.some((message) => expected.test(message)),
      `${expected} in ${found.join(' | ')}`,
    );
  }
});

t.test('store settings defaults', async (t) => {
  const settings = rateLimitStoreSettingsSchema.parse({});
  t.equal(settings.backend, 'memory');
  t.equal(settings.fail_mode, 'local');
  t.equal(settings.memory.max_keys, 100_000);
  const redis = rateLimitStoreSettingsSchema.parse({
    backend: 'redis',
    redis: { host: '127.0.0.1' },
  }).redis!;
  t.equal(redis.command_timeout, 100);
  t.equal(redis.concurrency_lease, 30_000);
  t.equal(redis.probe_interval, 1_000);
  t.equal(redis.key_prefix, 'agentflow:rl:');
});

t.test('store settings reject invalid input', async (t) => {
  const cases: [unknown, RegExp][] = [
    [{ backend: 'redis' }, /redis: is required when backend is redis/],
    [{ backend: 'redis', redis: {} }, /redis\.host: is required in standalone mode/],
    [{ backend: 'redis', redis: { mode: 'cluster' } }, /redis\.nodes: is required in cluster mode/],
    [
      { backend: 'redis', redis: { mode: 'cluster', nodes: [{ host: 'a', port: 1 }], db: 2 } },
      /db: must be 0/,
    ],
    [{ backend: 'redis', redis: { mode: 'sentinel' } }, /sentinels: is required/],
    [
      { backend: 'redis', redis: { mode: 'sentinel', sentinels: [{ host: 'a', port: 1 }] } },
      /master_name: is required/,
    ],
    [
      { backend: 'redis', redis: { host: 'a', key_prefix: 'rl:{x}:' } },
      /key_prefix: must not contain braces/,
    ],
    [
      { backend: 'redis', redis: { host: 'a', command_timeout: '0ms' } },
      /command_timeout: must be longer than 0ms/,
    ],
    [
      { backend: 'redis', redis: { host: 'a', concurrency_lease: '500ms' } },
      /concurrency_lease: must be at least 1s/,
    ],
    [
      { backend: 'redis', redis: { host: 'a', password_env: '1X' } },
      /password_env: must be an environment variable name/,
    ],
    [{ fail_mode: 'open' }, /fail_mode/],
    [{ memory: { max_keys: 0 } }, /max_keys/],
  ];
  for (const [input, expected] of cases) {
    const found = issues(rateLimitStoreSettingsSchema, input);
    t.ok(
      found.some((message) => expected.test(message)),
      `${expected} in ${found.join(' | ')}`,
    );
  }
});

t.test('createRedisClient requires the password variable', async (t) => {
  const redis = rateLimitStoreSettingsSchema.parse({
    backend: 'redis',
    redis: { host: '127.0.0.1', port: 1, password_env: 'RL_REDIS_PASSWORD' },
  }).redis!;
  t.throws(() => createRedisClient(redis, {}), /RL_REDIS_PASSWORD .* is not set/);
});

t.test('reconnectDelay grows and is capped', async (t) => {
  t.ok(reconnectDelay(1, 2_000) < 100);
  t.ok(reconnectDelay(3, 2_000) >= 200);
  for (const times of [10, 100, 10_000]) {
    const delay = reconnectDelay(times, 2_000);
    t.ok(delay >= 2_000 && delay < 2_050, `attempt ${times}: ${delay}`);
  }
});
