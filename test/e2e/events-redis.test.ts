import t, { type Test } from 'tap';
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/e2e.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import {
  STREAM_KEY,
  eventsOf,
  getEvents,
  loggedEvents,
  metricValue,
  pollUntil,
  readStream,
  writeAdminToken,
} from '../monitoring/events-fixtures.js';

/** A request slower than this while Redis is down or hangs would show that publishing waits. */
const MAX_LATENCY_MS = 400;

/** Starts a gateway that writes events to `redis`, with `redisYaml` added to `events.redis`. */
async function startStreamingGateway(
  t: Test,
  upstream: TestUpstream,
  redis: RedisServer,
  redisYaml = '',
): Promise<TestGateway> {
  const tokenFile = await writeAdminToken(t);
  const gw = await startGateway({
    upstreamUrl: upstream.url,
    config: [
      `admin: { token_file: '${tokenFile}' }`,
      'events:',
      '  redis:',
      '    enabled: true',
      `    url: redis://${redis.host}:${redis.port}/0`,
      `    stream_key: ${STREAM_KEY}`,
      ...(redisYaml === '' ? [] : [`    ${redisYaml}`]),
    ].join('\n'),
  });
  t.teardown(() => gw.stop());
  return gw;
}

/** Sends a request that no route matches, which is rejected with one event; returns its id. */
async function sendUnrouted(gw: TestGateway, path: string): Promise<{ id: string; ms: number }> {
  const started = performance.now();
  const response = await request(`${gw.url}${path}`);
  const body = (await response.body.json()) as { code: string; request_id: string };
  const ms = performance.now() - started;
  if (response.statusCode !== 404 || body.code !== 'route_not_found') {
    throw new Error(`expected 404 route_not_found, got ${response.statusCode} ${body.code}`);
  }
  return { id: body.request_id, ms };
}

/** Sends a request that is forwarded, and returns its status and latency. */
async function sendForwarded(gw: TestGateway): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await request(`${gw.url}/public/ok`);
  await response.body.text();
  return { status: response.statusCode, ms: performance.now() - started };
}

t.test('two gateways share one stream', async (t) => {
  const redis = await startRedis(t);
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const first = await startStreamingGateway(t, upstream, redis);
  const second = await startStreamingGateway(t, upstream, redis);

  const firstIds: string[] = [];
  const secondIds: string[] = [];
  for (let index = 0; index < 5; index += 1) {
    firstIds.push((await sendUnrouted(first, `/first/${index}`)).id);
    secondIds.push((await sendUnrouted(second, `/second/${index}`)).id);
  }
  const entries = await pollUntil(async () => {
    const stream = await readStream(redis);
    return stream.length >= 10 ? stream : undefined;
  }, 'ten stream entries').catch(() => readStream(redis));
  t.equal(entries.length, 10, 'one entry per event, none twice');
  const requestIds = entries.map((entry) => entry.event.request_id);
  t.same([...requestIds].sort(), [...firstIds, ...secondIds].sort(), 'both gateways wrote');
  for (const { event } of entries) {
    t.equal(event.type, 'request_rejected');
    t.equal(event.action, 'rejected');
    t.equal(event.detail['code'], 'route_not_found');
    t.equal(event.client_ip, '127.0.0.1');
  }
  t.equal(new Set(entries.map((entry) => entry.event.id)).size, 10, 'event ids are unique');
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');

  // Either gateway's admin API reads the shared stream, newest first.
  const reply = await getEvents(first, '?limit=100');
  t.equal(reply.status, 200);
  t.equal(reply.json['source'], 'redis');
  t.same(
    eventsOf(reply).map((event) => event.request_id),
    [...requestIds].reverse(),
    'the API lists the stream newest first',
  );
  t.equal(reply.json['next_cursor'], null);

  const written = await metricValue(first, 'agentflow_gateway_event_sink_writes_total', {
    sink: 'redis',
  });
  t.equal(written, 5, 'the first gateway counted its five writes');
  t.equal(
    await metricValue(first, 'agentflow_gateway_security_events_total', {
      type: 'request_rejected',
      severity: 'low',
    }),
    5,
    'events are counted by type and severity',
  );
});

/** Polls the stream until `wanted` request ids are all in it; returns whether they arrived. */
async function streamHas(redis: RedisServer, wanted: readonly string[]): Promise<boolean> {
  try {
    await pollUntil(async () => {
      const ids = new Set((await readStream(redis)).map((entry) => entry.event.request_id));
      return wanted.every((id) => ids.has(id));
    }, `${wanted.length} request ids in the stream`);
    return true;
  } catch {
    return false;
  }
}

t.test('Redis down: requests go on, drops counted', async (t) => {
  const redis = await startRedis(t);
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const gw = await startStreamingGateway(t, upstream, redis, 'queue_size: 5');

  const before = await sendUnrouted(gw, '/before-outage');
  t.ok(await streamHas(redis, [before.id]), 'written while Redis is up');

  await redis.kill();
  // Once the client has seen the connection close, every event waits in the queue.
  await waitFor(
    () => gw.logs.some((line) => String(line['msg']).startsWith('security event stream lost')),
    'the sink to notice the outage',
  );
  const outage: { id: string; ms: number }[] = [];
  const forwarded: { status: number; ms: number }[] = [];
  for (let index = 0; index < 20; index += 1) {
    outage.push(await sendUnrouted(gw, `/outage/${index}`));
    forwarded.push(await sendForwarded(gw));
  }
  t.ok(
    forwarded.every((reply) => reply.status === 200),
    'forwarded requests succeed while Redis is down',
  );
  const slowest = Math.max(...outage.map((reply) => reply.ms), ...forwarded.map((r) => r.ms));
  t.ok(slowest < MAX_LATENCY_MS, `no request waited for Redis (slowest ${slowest.toFixed(0)} ms)`);
  t.equal(loggedEvents(gw).length, 21, 'the log sink has every event');
  const dropped = await metricValue(gw, 'agentflow_gateway_event_sink_drops_total', {
    sink: 'redis',
    reason: 'queue_full',
  });
  t.equal(dropped, 15, 'events beyond the queue of 5 are dropped and counted');
  t.equal(
    await metricValue(gw, 'agentflow_gateway_event_sink_queue_depth', { sink: 'redis' }),
    5,
    'the queue holds five events',
  );
  const dropLines = gw.logs.filter((line) =>
    String(line['msg']).startsWith('security event sink dropped events'),
  );
  t.equal(dropLines.length, 1, 'the drops are logged once per interval, not once per event');

  await redis.restart();
  const queued = outage.slice(0, 5).map((reply) => reply.id);
  t.ok(await streamHas(redis, queued), 'the queued events are written once Redis is back');
  const after = await sendUnrouted(gw, '/after-outage');
  t.ok(await streamHas(redis, [after.id]), 'new events are written again');
  const stream = await readStream(redis);
  t.equal(stream.length, 6, 'the restarted Redis has the five queued events and the new one');
  t.equal(upstream.received.length, 20, 'only the forwarded requests reached the upstream');
});

t.test('Redis hangs: requests go on', async (t) => {
  const redis = await startRedis(t);
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const gw = await startStreamingGateway(t, upstream, redis, 'command_timeout: 200ms');
  const before = await sendUnrouted(gw, '/before-hang');
  t.ok(await streamHas(redis, [before.id]), 'written while Redis answers');

  redis.pause();
  t.teardown(() => redis.resume());
  const during: { id: string; ms: number }[] = [];
  for (let index = 0; index < 10; index += 1) {
    during.push(await sendUnrouted(gw, `/hang/${index}`));
    const forwarded = await sendForwarded(gw);
    t.equal(forwarded.status, 200, `forwarded request ${index} succeeds`);
    t.ok(forwarded.ms < MAX_LATENCY_MS, `forwarded request ${index} did not wait`);
  }
  const slowest = Math.max(...during.map((reply) => reply.ms));
  t.ok(
    slowest < MAX_LATENCY_MS,
    `no rejection waited for Redis (slowest ${slowest.toFixed(0)} ms)`,
  );
  await pollUntil(
    async () =>
      (await metricValue(gw, 'agentflow_gateway_event_sink_drops_total', {
        sink: 'redis',
        reason: 'write_failed',
      })) > 0,
    'a failed batch',
  );
  t.pass('a batch that timed out is counted as write_failed');

  redis.resume();
  const after = await sendUnrouted(gw, '/after-hang');
  t.ok(await streamHas(redis, [after.id]), 'writes resume once Redis answers');
});

t.test('stream borrows the store server', async (t) => {
  const redis = await startRedis(t);
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const gw = await startGateway({
    upstreamUrl: upstream.url,
    config: [
      `store: { backend: redis, redis: { host: 127.0.0.1, port: ${redis.port} } }`,
      `events: { redis: { enabled: true, stream_key: ${STREAM_KEY} } }`,
    ].join('\n'),
  });
  t.teardown(() => gw.stop());
  const { id } = await sendUnrouted(gw, '/borrowed');
  t.ok(await streamHas(redis, [id]), "the event is in the rate limiter's Redis");
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
});

t.test('stream needs a server', async (t) => {
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  await t.rejects(
    startGateway({ upstreamUrl: upstream.url, config: 'events: { redis: { enabled: true } }' }),
    /events\.redis\.url: is required when store\.backend and revocation\.store are not redis/,
  );
});
