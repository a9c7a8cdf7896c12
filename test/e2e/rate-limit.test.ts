import t from 'tap';
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedis } from '../helpers/redis.js';
import { startUpstream } from '../helpers/upstream.js';

const LIMIT = 5;
const ATTEMPTS = 12;

const POLICY = `version: 1
routes:
  - name: limited
    match: { path_prefix: /limited }
    auth: none
    rate_limits: [per-ip]
  - name: open
    match: { path_prefix: /open }
    auth: none
rate_limits:
  - name: per-ip
    key: [client_ip]
    limits: [{ requests: ${LIMIT}, per: 1m }]
  - name: trusted-exempt
    key: [client_ip]
    limits: [{ requests: 1, per: 1m }]
    routes: [limited]
    exempt: { cidrs: [127.0.0.0/8] }
`;

async function send(gw: TestGateway, path: string) {
  const response = await request(`${gw.url}${path}`);
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text };
}

t.test('memory limit lets exactly L through', async (t) => {
  const upstream = await startUpstream();
  const gw = await startGateway({ upstreamUrl: upstream.url, policy: POLICY });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });

  const results = await Promise.all(Array.from({ length: ATTEMPTS }, () => send(gw, '/limited/x')));
  const allowed = results.filter((result) => result.status === 200);
  const limited = results.filter((result) => result.status === 429);
  t.equal(allowed.length, LIMIT, 'allowed');
  t.equal(limited.length, ATTEMPTS - LIMIT, 'limited');
  t.equal(upstream.received.length, LIMIT, 'only allowed requests reached the upstream');

  const rejection = limited[0]!;
  t.equal(JSON.parse(rejection.text).code, 'rate_limited');
  t.ok(Number(rejection.headers['retry-after']) >= 1, 'Retry-After');
  t.match(String(rejection.headers['ratelimit-policy']), /"per-ip"/);
  t.match(String(rejection.headers['ratelimit']), /"per-ip"/);
  t.match(
    String(allowed[0]!.headers['ratelimit']),
    /"per-ip"/,
    'allowed responses carry RateLimit',
  );

  const metrics = await request(`${gw.adminUrl}/metrics`).then((r) => r.body.text());
  const count = (layer: string, outcome: string) =>
    Number(
      new RegExp(
        `agentflow_gateway_rate_limit_decisions_total\\{route="limited",layer="${layer}",outcome="${outcome}"\\} (\\d+)`,
      ).exec(metrics)?.[1] ?? 0,
    );
  t.equal(count('per-ip', 'allowed'), LIMIT, 'allowed by per-ip');
  t.equal(count('per-ip', 'limited'), ATTEMPTS - LIMIT, 'limited by per-ip');
  t.equal(count('trusted-exempt', 'exempt'), ATTEMPTS, 'loopback is exempt from the other layer');

  const open = await send(gw, '/open/x');
  t.equal(open.status, 200, 'a route without the layer is not limited');
  t.equal(open.headers['ratelimit'], undefined);
});

t.test('two gateways share one Redis limit', async (t) => {
  const redis = await startRedis(t);
  const upstream = await startUpstream();
  // A decision past command_timeout is refunded by a second EVALSHA, which would break the
  // count below on a loaded machine: this test is about sharing, not timeouts.
  const config = `store:
  backend: redis
  redis: { host: 127.0.0.1, port: ${redis.port}, command_timeout: 10s }`;
  const first = await startGateway({ upstreamUrl: upstream.url, policy: POLICY, config });
  const second = await startGateway({ upstreamUrl: upstream.url, policy: POLICY, config });
  t.teardown(async () => {
    await first.stop();
    await second.stop();
    await upstream.close();
  });
  // The store starts in its fail mode and switches to Redis after its first PING succeeds.
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const ready = (await request(`${first.adminUrl}/metrics`).then((r) => r.body.text())).includes(
      'agentflow_gateway_rate_limit_store_switches_total{state="primary"} 1',
    );
    const readySecond = (
      await request(`${second.adminUrl}/metrics`).then((r) => r.body.text())
    ).includes('agentflow_gateway_rate_limit_store_switches_total{state="primary"} 1');
    if (ready && readySecond) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  // One request through each gateway loads the script into Redis (SCRIPT LOAD after NOSCRIPT).
  const warmUp = [await send(first, '/limited/x'), await send(second, '/limited/x')];
  t.same(
    warmUp.map((result) => result.status),
    [200, 200],
  );
  const before = (await redis.commandCalls()).get('evalsha') ?? 0;

  const results = await Promise.all(
    Array.from({ length: ATTEMPTS }, (_, index) =>
      send(index % 2 === 0 ? first : second, '/limited/x'),
    ),
  );
  const allowed = results.filter((result) => result.status === 200).length;
  t.equal(allowed, LIMIT - warmUp.length, 'one limit across both gateways');
  t.equal(upstream.received.length, LIMIT);
  const after = (await redis.commandCalls()).get('evalsha') ?? 0;
  t.equal(after - before, ATTEMPTS, 'one EVALSHA per request');
});

t.test('Redis down with deny gives 503', async (t) => {
  const redis = await startRedis(t);
  const upstream = await startUpstream();
  const config = `store:
  backend: redis
  fail_mode: deny
  redis: { host: 127.0.0.1, port: ${redis.port}, command_timeout: 200ms }`;
  const gw = await startGateway({ upstreamUrl: upstream.url, policy: POLICY, config });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  await redis.kill();
  const result = await send(gw, '/limited/x');
  t.equal(result.status, 503);
  t.equal(JSON.parse(result.text).code, 'rate_limit_unavailable');
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
});
