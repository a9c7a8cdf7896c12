import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import {
  clientIpSettingsSchema,
  compileClientIpSettings,
} from '../../src/net/client-ip-settings.js';
import { resolveClientIp } from '../../src/net/resolve-client-ip.js';
import type { RateLimitDecision } from '../../src/ratelimit/decision.js';
import { renderRateLimitHeaders } from '../../src/ratelimit/headers.js';
import { RateLimiter } from '../../src/ratelimit/limiter.js';
import { releaseWhenDone } from '../../src/ratelimit/permit.js';
import { planChecks } from '../../src/ratelimit/plan.js';
import type { RateLimitRequest } from '../../src/ratelimit/request.js';
import { MemoryRateLimitStore } from '../../src/store/create-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { layers, request } from './limiter-fixtures.js';

function limiterFor(list: unknown[], now: () => number = () => 0): RateLimiter {
  const store = new MemoryRateLimitStore(new MemoryStore({ now }));
  return new RateLimiter({ layers: layers(list), store });
}

async function outcomes(
  limiter: RateLimiter,
  req: RateLimitRequest,
  times: number,
): Promise<string[]> {
  const result: string[] = [];
  for (let i = 0; i < times; i++) result.push((await limiter.decide(req)).outcome);
  return result;
}

function headersOf(decision: RateLimitDecision): Record<string, string> | undefined {
  if (decision.outcome === 'unavailable' || decision.headers === undefined) return undefined;
  return renderRateLimitHeaders(decision.headers);
}

const PER_IP = { name: 'per-ip', key: ['client_ip'], limits: [{ requests: 3, per: '1m' }] };

t.test('spoofed X-Forwarded-For keeps the key', async (t) => {
  const clientIp = compileClientIpSettings(
    clientIpSettingsSchema.parse({ trusted_proxies: ['10.0.0.0/8'], headers: ['x-forwarded-for'] }),
  );
  const limiter = limiterFor([PER_IP]);
  const compiled = layers([PER_IP]);
  const keys = new Set<string>();
  const results: string[] = [];
  for (let i = 0; i < 6; i++) {
    const rawHeaders = ['X-Forwarded-For', `198.51.100.${i}`];
    const resolved = resolveClientIp({ remoteAddress: '203.0.113.7', rawHeaders }, clientIp);
    const req = request({ clientIp: resolved.clientIp });
    keys.add(planChecks(compiled, req).checks[0]!.key);
    results.push((await limiter.decide(req)).outcome);
  }
  t.equal(keys.size, 1, 'one key for every spoofed value');
  t.same(results, ['allowed', 'allowed', 'allowed', 'limited', 'limited', 'limited']);

  const viaProxy = resolveClientIp(
    { remoteAddress: '10.0.0.1', rawHeaders: ['X-Forwarded-For', '198.51.100.77'] },
    clientIp,
  );
  const proxied = await limiter.decide(request({ clientIp: viaProxy.clientIp }));
  t.equal(proxied.outcome, 'allowed', 'a trusted proxy names a different client');
});

t.test('rejection consumes no other layer', async (t) => {
  const limiter = limiterFor([
    { name: 'per-ip', key: ['client_ip'], limits: [{ requests: 1, per: '1h' }] },
    { name: 'global', limits: [{ requests: 4, per: '1h' }] },
  ]);
  t.equal((await limiter.decide(request({ clientIp: '192.0.2.1' }))).outcome, 'allowed');
  for (let i = 0; i < 3; i++) {
    const decision = await limiter.decide(request({ clientIp: '192.0.2.1' }));
    t.equal(decision.outcome === 'limited' && decision.layer, 'per-ip', `rejection ${i + 1}`);
  }
  const results = [];
  for (const ip of ['192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5']) {
    results.push((await limiter.decide(request({ clientIp: ip }))).outcome);
  }
  t.same(results, ['allowed', 'allowed', 'allowed', 'limited'], 'rejections used no global quota');
});

t.test('RateLimit headers allowed and limited', async (t) => {
  const limiter = limiterFor([PER_IP]);
  const first = await limiter.decide(request());
  t.same(headersOf(first), {
    'RateLimit-Policy': '"per-ip";q=3;w=60',
    RateLimit: '"per-ip";r=2;t=20',
  });
  await limiter.decide(request());
  await limiter.decide(request());
  const limited = await limiter.decide(request());
  t.equal(limited.outcome, 'limited');
  t.equal(limited.outcome === 'limited' && limited.retryAfterSeconds, 20);
  t.equal(limited.outcome === 'limited' && limited.code, 'rate_limited');
  t.same(headersOf(limited), {
    'RateLimit-Policy': '"per-ip";q=3;w=60',
    RateLimit: '"per-ip";r=0;t=20',
    'Retry-After': '20',
  });
});

t.test('headers name every layer limit', async (t) => {
  const limiter = limiterFor([
    {
      name: 'api',
      key: ['client_ip'],
      limits: [
        { requests: 10, per: '1s' },
        { requests: 100, per: '1h' },
      ],
      max_in_flight: 5,
    },
  ]);
  const decision = await limiter.decide(request());
  t.same(headersOf(decision), {
    'RateLimit-Policy':
      '"api-1s";q=10;w=1, "api-3600s";q=100;w=3600, "api-concurrency";q=5;qu="concurrent-requests"',
    RateLimit: '"api-concurrency";r=4',
  });
  if (decision.outcome === 'allowed') decision.permit.release();
});

t.test('headers report the most restrictive layer', async (t) => {
  const limiter = limiterFor([
    { name: 'roomy', key: ['client_ip'], limits: [{ requests: 100, per: '1m' }] },
    { name: 'narrow', key: ['method'], limits: [{ requests: 5, per: '1m' }] },
  ]);
  const decision = await limiter.decide(request());
  t.same(headersOf(decision), {
    'RateLimit-Policy': '"narrow";q=5;w=60',
    RateLimit: '"narrow";r=4;t=12',
  });
});

t.test('tiers select limits by claim', async (t) => {
  const limiter = limiterFor([
    {
      name: 'per-user',
      key: ['claim:sub'],
      limits: [{ requests: 2, per: '1h' }],
      tiers: { claim: 'org.plan', values: { pro: { limits: [{ requests: 5, per: '1h' }] } } },
    },
  ]);
  const free = request({ claims: { sub: 'alice', org: { plan: 'free' } } });
  const pro = request({ claims: { sub: 'bob', org: { plan: 'pro' } } });
  const none = request({ claims: { sub: 'carol' } });
  t.same(
    await outcomes(limiter, free, 3),
    ['allowed', 'allowed', 'limited'],
    'unknown tier: layer limits',
  );
  t.same(await outcomes(limiter, pro, 6), [...Array(5).fill('allowed'), 'limited'], 'pro tier');
  t.same(
    await outcomes(limiter, none, 3),
    ['allowed', 'allowed', 'limited'],
    'no claim: layer limits',
  );
});

t.test('exemptions by address and role', async (t) => {
  const limiter = limiterFor([
    {
      ...PER_IP,
      limits: [{ requests: 1, per: '1h' }],
      exempt: { cidrs: ['10.0.0.0/8', '2001:db8::/32'], roles: ['admin'] },
    },
  ]);
  for (const clientIp of ['10.1.2.3', '2001:db8::5']) {
    const decisions = await outcomes(limiter, request({ clientIp }), 3);
    t.same(decisions, ['allowed', 'allowed', 'allowed'], `${clientIp} exempt`);
  }
  const admin = request({ clientIp: '192.0.2.9', roles: ['reader', 'admin'] });
  t.same(await outcomes(limiter, admin, 3), ['allowed', 'allowed', 'allowed'], 'admin exempt');
  const exempt = await limiter.decide(admin);
  t.equal(exempt.outcome === 'allowed' && exempt.source, 'none', 'no store call');
  const reader = request({ clientIp: '192.0.2.9', roles: ['reader'] });
  t.same(await outcomes(limiter, reader, 2), ['allowed', 'limited'], 'reader limited');
});

t.test('layers apply to their routes only', async (t) => {
  const limiter = limiterFor([
    { ...PER_IP, limits: [{ requests: 1, per: '1h' }], routes: ['upload'] },
  ]);
  t.same(await outcomes(limiter, request({ route: 'query' }), 3), [
    'allowed',
    'allowed',
    'allowed',
  ]);
  t.same(await outcomes(limiter, request({ route: 'upload' }), 2), ['allowed', 'limited']);
});

t.test('missing key parts skip or share', async (t) => {
  const skip = limiterFor([
    { name: 'per-user', key: ['claim:sub'], limits: [{ requests: 1, per: '1h' }] },
  ]);
  t.same(
    await outcomes(skip, request(), 3),
    ['allowed', 'allowed', 'allowed'],
    'skip: anonymous not limited',
  );
  const shared = limiterFor([
    {
      name: 'per-user',
      key: ['claim:sub'],
      limits: [{ requests: 1, per: '1h' }],
      missing_key: 'shared',
    },
  ]);
  t.same(await outcomes(shared, request(), 2), ['allowed', 'limited'], 'shared: one bucket');
  const user = request({ claims: { sub: 'alice' } });
  t.same(await outcomes(shared, user, 2), ['allowed', 'limited'], 'a user has a bucket of its own');
});

t.test('shadow layers report but never limit', async (t) => {
  const limiter = limiterFor([
    { name: 'trial', key: ['client_ip'], limits: [{ requests: 1, per: '1h' }], shadow: true },
    { name: 'enforced', key: ['client_ip'], limits: [{ requests: 10, per: '1h' }] },
  ]);
  const first = await limiter.decide(request());
  t.equal(first.outcome === 'allowed' && first.shadowLimited.length, 0);
  const second = await limiter.decide(request());
  t.equal(second.outcome, 'allowed');
  t.same(second.outcome === 'allowed' && second.shadowLimited, ['trial']);
  t.same(
    headersOf(second)?.['RateLimit-Policy'],
    '"enforced";q=10;w=3600',
    'headers skip shadow layers',
  );
});

t.test('client_ip prefixes group addresses', async (t) => {
  const limiter = limiterFor([
    { name: 'subnet', key: ['client_ip/24/64'], limits: [{ requests: 2, per: '1h' }] },
  ]);
  const sameV6 = ['2001:db8:1:2::1', '2001:db8:1:2:ffff::9'];
  t.same(
    [
      (await limiter.decide(request({ clientIp: sameV6[0]! }))).outcome,
      (await limiter.decide(request({ clientIp: sameV6[1]! }))).outcome,
      (await limiter.decide(request({ clientIp: sameV6[1]! }))).outcome,
    ],
    ['allowed', 'allowed', 'limited'],
    'one /64',
  );
  t.equal(
    (await limiter.decide(request({ clientIp: '2001:db8:1:3::1' }))).outcome,
    'allowed',
    'next /64',
  );
  await limiter.decide(request({ clientIp: '198.51.100.1' }));
  await limiter.decide(request({ clientIp: '198.51.100.200' }));
  t.equal(
    (await limiter.decide(request({ clientIp: '198.51.100.7' }))).outcome,
    'limited',
    'one /24',
  );
  t.equal(
    (await limiter.decide(request({ clientIp: '198.51.101.7' }))).outcome,
    'allowed',
    'next /24',
  );
});

t.test('key values are hashed', async (t) => {
  const compiled = layers([
    {
      name: 'keyed',
      key: ['client_ip', 'header:X-Api-Key', 'user_agent', 'session'],
      limits: [{ requests: 1, per: '1h' }],
    },
  ]);
  const req = request({
    clientIp: '198.51.100.42',
    headers: { 'x-api-key': 'secret-key-value', 'user-agent': 'curl/8' },
    session: 'session-123',
  });
  const [check] = planChecks(compiled, req).checks;
  t.match(check!.key, /^\{keyed:default:[A-Za-z0-9_-]{22}\}:g3600$/);
  for (const raw of ['198.51.100.42', 'secret-key-value', 'curl', 'session-123']) {
    t.notOk(check!.key.includes(raw), `${raw} not in the key`);
  }
  const other = planChecks(compiled, { ...req, headers: { ...req.headers, 'x-api-key': 'other' } });
  t.not(other.checks[0]!.key, check!.key, 'another value, another key');
});

t.test('cost consumes several units', async (t) => {
  const limiter = limiterFor([{ ...PER_IP, limits: [{ requests: 10, per: '1h' }], cost: 4 }]);
  t.same(await outcomes(limiter, request(), 3), ['allowed', 'allowed', 'limited']);
});

t.test('sliding_window algorithm', async (t) => {
  let now = 0;
  const limiter = limiterFor(
    [{ ...PER_IP, algorithm: 'sliding_window', limits: [{ requests: 2, per: '10s' }] }],
    () => now,
  );
  t.same(await outcomes(limiter, request(), 3), ['allowed', 'allowed', 'limited']);
  now = 10_001;
  t.equal((await limiter.decide(request())).outcome, 'limited', 'no fresh window at the edge');
  now = 15_000;
  t.equal((await limiter.decide(request())).outcome, 'allowed', 'half slid out');
});

t.test('no layers: allowed without headers', async (t) => {
  const decision = await limiterFor([]).decide(request());
  t.equal(decision.outcome, 'allowed');
  t.equal(headersOf(decision), undefined);
});

t.test('concurrency slot released on close', async (t) => {
  const limiter = limiterFor([{ name: 'streams', key: ['client_ip'], max_in_flight: 1 }]);
  const endResponses: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    const abort = new AbortController();
    req.socket.once('close', () => abort.abort());
    void limiter.decide(request()).then((decision) => {
      if (decision.outcome !== 'allowed') {
        res.writeHead(429).end();
        return;
      }
      releaseWhenDone(decision.permit, res, abort.signal);
      res.writeHead(200);
      res.write('streaming');
      endResponses.push(() => res.end());
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;

  const first = await openRequest(port);
  t.equal(first.status, 200, 'first request holds the slot');
  const second = await openRequest(port);
  t.equal(second.status, 429, 'second request is limited');
  second.destroy();
  first.destroy();
  const third = await waitForAdmission(port);
  t.pass('slot released after the first client went away');
  const fourth = await openRequest(port);
  t.equal(fourth.status, 429, 'the third request holds the slot');
  fourth.destroy();
  endResponses.at(-1)!();
  const fifth = await waitForAdmission(port);
  t.pass('slot released after the response ended');
  third.destroy();
  fifth.destroy();
  for (const end of endResponses) end();
});

async function openRequest(port: number): Promise<{ status: number; destroy(): void }> {
  const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  res.resume();
  return { status: res.statusCode ?? 0, destroy: () => req.destroy() };
}

/** Opens requests until one is admitted, and returns it still open. */
async function waitForAdmission(port: number): Promise<{ status: number; destroy(): void }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const response = await openRequest(port);
    if (response.status === 200) return response;
    response.destroy();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('no request admitted after 100 attempts');
}
