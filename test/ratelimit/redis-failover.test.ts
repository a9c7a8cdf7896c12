import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { RateLimiter } from '../../src/ratelimit/limiter.js';
import type { RateLimitDecision } from '../../src/ratelimit/decision.js';
import { createRateLimitStore } from '../../src/store/create-store.js';
import { rateLimitStoreSettingsSchema } from '../../src/store/settings.js';
import { startRedis } from '../helpers/redis.js';
import { layers, recordingLogger, request } from './limiter-fixtures.js';

const COMMAND_TIMEOUT_MS = 200;
/** Slack on top of the command timeout for a machine busy with other test files. */
const MARGIN_MS = 150;
const RECOVERY_TIMEOUT_MS = 10_000;

const LAYERS = layers([
  {
    name: 'local-layer',
    key: ['client_ip'],
    limits: [{ requests: 2, per: '1h' }],
    routes: ['local'],
  },
  {
    name: 'allow-layer',
    key: ['client_ip'],
    limits: [{ requests: 1, per: '1h' }],
    routes: ['allow'],
    fail_mode: 'allow',
  },
  {
    name: 'deny-layer',
    key: ['client_ip'],
    limits: [{ requests: 100, per: '1h' }],
    routes: ['deny'],
    fail_mode: 'deny',
  },
  {
    name: 'shadow-deny-layer',
    key: ['client_ip'],
    limits: [{ requests: 100, per: '1h' }],
    routes: ['shadow'],
    fail_mode: 'deny',
    shadow: true,
  },
]);

t.test('redis failure and recovery', async (t) => {
  const server = await startRedis(t);
  const logger = recordingLogger();
  const switches: string[] = [];
  const settings = rateLimitStoreSettingsSchema.parse({
    backend: 'redis',
    redis: {
      host: server.host,
      port: server.port,
      command_timeout: `${COMMAND_TIMEOUT_MS}ms`,
      connect_timeout: '500ms',
      reconnect_max_delay: '100ms',
      probe_interval: '100ms',
    },
  });
  const store = createRateLimitStore(settings, {
    logger,
    onSwitch: (state) => switches.push(state),
  });
  t.teardown(() => store.close());
  const limiter = new RateLimiter({ layers: LAYERS, store });

  /** Decides and checks that the call returned within the command timeout plus the margin. */
  const timedDecide = async (route: string, clientIp: string): Promise<RateLimitDecision> => {
    const started = performance.now();
    const decision = await limiter.decide(request({ route, clientIp }));
    const elapsed = performance.now() - started;
    t.ok(elapsed <= COMMAND_TIMEOUT_MS + MARGIN_MS, `${route} decided in ${elapsed.toFixed(0)} ms`);
    return decision;
  };

  // Decisions made before the client has connected follow the fail modes.
  const warm = await waitForPrimary(() =>
    limiter.decide(request({ route: 'allow', clientIp: '198.51.100.9' })),
  );
  t.equal(warm.outcome, 'allowed', 'Redis decides while it is up');
  t.same(switches, ['primary'], 'connecting is no outage');
  t.notOk(
    logger.records.some((record) => record.level === 'warn'),
    'no warning while connecting',
  );

  t.test('redis killed: fail modes apply', async (t) => {
    await server.kill('SIGKILL');
    const local = [];
    for (let i = 0; i < 3; i++) local.push(await timedDecide('local', '198.51.100.1'));
    t.same(
      local.map((decision) => decision.outcome),
      ['allowed', 'allowed', 'limited'],
      'local: enforced in memory',
    );
    t.equal(local[0]!.outcome === 'allowed' && local[0]!.source, 'fallback');
    t.equal(local[2]!.outcome === 'limited' && local[2]!.layer, 'local-layer');

    for (let i = 0; i < 3; i++) {
      const decision = await timedDecide('allow', '198.51.100.9');
      t.equal(decision.outcome, 'allowed', `allow: admitted ${i + 1}`);
    }
    const denied = await timedDecide('deny', '198.51.100.1');
    t.equal(denied.outcome, 'unavailable', 'deny: unavailable');
    t.equal(denied.outcome === 'unavailable' && denied.code, 'rate_limit_unavailable');
    const shadow = await timedDecide('shadow', '198.51.100.1');
    t.equal(shadow.outcome, 'allowed', 'a shadow layer never denies');

    const stats = store.stats();
    t.equal(stats.state, 'fallback');
    t.equal(stats.switchesToFallback, 1, 'one switch for the whole outage');
    t.equal(stats.unavailableDecisions, 1);
    t.ok(stats.fallbackDecisions >= 8, `fallback decisions ${stats.fallbackDecisions}`);
    t.same(switches, ['primary', 'fallback']);
    const warning = logger.records.find((record) => record.level === 'warn');
    t.match(warning?.message, /rate limit store unavailable/);
  });

  t.test('redis restarted: used again', async (t) => {
    await server.restart();
    await waitForState(store, 'primary');
    const decision = await timedDecide('local', '198.51.100.2');
    t.equal(decision.outcome === 'allowed' && decision.source, 'primary', 'decided by Redis');
    const calls = await server.commandCalls();
    t.equal(calls.get('script|load'), 1, 'script loaded into the new Redis');
    t.equal(calls.get('time'), 1, `the script ran once: ${JSON.stringify([...calls])}`);
    t.same(switches, ['primary', 'fallback', 'primary']);
    t.ok(
      logger.records.some(
        (record) => record.level === 'info' && /responds again/.test(record.message),
      ),
    );
  });

  t.test('redis hangs: only first call waits', async (t) => {
    server.pause();
    try {
      const started = performance.now();
      const first = await timedDecide('local', '198.51.100.3');
      t.ok(performance.now() - started >= COMMAND_TIMEOUT_MS - 10, 'first call waited for Redis');
      t.equal(first.outcome === 'allowed' && first.source, 'fallback');
      const second = performance.now();
      await timedDecide('local', '198.51.100.3');
      t.ok(performance.now() - second < 50, 'later calls do not wait');
      t.equal(store.stats().switchesToFallback, 2);
    } finally {
      server.resume();
    }
    await waitForState(store, 'primary');
    const back = await timedDecide('local', '198.51.100.4');
    t.equal(
      back.outcome === 'allowed' && back.source,
      'primary',
      'Redis used again after the hang',
    );
  });
});

async function waitForPrimary(
  decide: () => Promise<RateLimitDecision>,
): Promise<RateLimitDecision> {
  const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
  for (;;) {
    const decision = await decide();
    if (decision.outcome !== 'unavailable' && decision.source === 'primary') return decision;
    if (Date.now() > deadline)
      throw new Error(`no decision by Redis after ${RECOVERY_TIMEOUT_MS} ms`);
    await sleep(25);
  }
}

async function waitForState(
  store: ReturnType<typeof createRateLimitStore>,
  state: 'primary' | 'fallback',
): Promise<void> {
  const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
  // Only the probe, which runs in the fallback state, detects that Redis is back.
  while (store.stats().state !== state) {
    if (Date.now() > deadline)
      throw new Error(`store not ${state} after ${RECOVERY_TIMEOUT_MS} ms`);
    await sleep(25);
  }
}
