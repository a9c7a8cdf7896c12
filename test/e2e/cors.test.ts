import t, { type Test } from 'tap';
import { request } from 'undici';
import { startProxy } from '../helpers/e2e.js';
import { startGateway } from '../helpers/gateway.js';

const POLICY = `version: 1
routes:
  - name: ask
    match: { methods: [POST], path: /ask }
    auth: none
    cors:
      allow_origins: [https://app.example.com, 'https://*.tenants.example.com']
      allow_headers: [content-type, x-trace]
      expose_headers: [X-Request-Id]
      allow_credentials: true
      max_age: 5m
  - name: open
    match: { methods: [GET], path: /open }
    auth: none
    cors: { allow_origins: ['*'] }
  - name: plain
    match: { methods: [GET, POST], path: /plain }
    auth: none
`;

async function proxy(t: Test) {
  return startProxy(t, { policy: POLICY });
}

async function preflight(
  url: string,
  origin: string,
  method = 'POST',
  headers?: string,
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  const requestHeaders: Record<string, string> = {
    origin,
    'access-control-request-method': method,
  };
  if (headers !== undefined) requestHeaders['access-control-request-headers'] = headers;
  const response = await request(url, { method: 'OPTIONS', headers: requestHeaders });
  return {
    status: response.statusCode,
    headers: response.headers,
    body: await response.body.text(),
  };
}

t.test('an allowed preflight is answered by the gateway', async (t) => {
  const { upstream, gw } = await proxy(t);
  const result = await preflight(
    `${gw.url}/ask`,
    'https://app.example.com',
    'POST',
    'Content-Type',
  );
  t.equal(result.status, 204);
  t.equal(result.headers['access-control-allow-origin'], 'https://app.example.com');
  t.equal(result.headers['access-control-allow-credentials'], 'true');
  t.equal(result.headers['access-control-allow-methods'], 'POST');
  t.equal(result.headers['access-control-allow-headers'], 'content-type, x-trace');
  t.equal(result.headers['access-control-max-age'], '300');
  t.match(result.headers['vary'], /Origin/);
  t.equal(upstream.received.length, 0, 'the upstream never saw the preflight');

  const wildcard = await preflight(`${gw.url}/ask`, 'https://eu.tenants.example.com');
  t.equal(wildcard.status, 204, 'a subdomain wildcard');
  t.equal(wildcard.headers['access-control-allow-origin'], 'https://eu.tenants.example.com');
});

t.test('a refused preflight gets 403 and no CORS headers', async (t) => {
  const { upstream, gw } = await proxy(t);
  const cases: [string, string, string, string | undefined][] = [
    ['another origin', 'https://evil.example.net', 'POST', undefined],
    ['the wildcard parent', 'https://tenants.example.com', 'POST', undefined],
    ['a look-alike suffix', 'https://badtenants.example.com', 'POST', undefined],
    ['http instead of https', 'http://app.example.com', 'POST', undefined],
    ['the null origin', 'null', 'POST', undefined],
    ['a header not allowed', 'https://app.example.com', 'POST', 'x-admin'],
  ];
  for (const [name, origin, method, headers] of cases) {
    const result = await preflight(`${gw.url}/ask`, origin, method, headers);
    t.equal(result.status, 403, name);
    t.equal((JSON.parse(result.body) as Record<string, unknown>)['code'], 'cors_rejected', name);
    t.equal(result.headers['access-control-allow-origin'], undefined, `${name}: no CORS headers`);
    t.match(result.headers['vary'], /Origin/, `${name}: Vary`);
  }
  const wrongMethod = await preflight(`${gw.url}/ask`, 'https://app.example.com', 'DELETE');
  t.equal(wrongMethod.status, 405, 'a method no route allows is not routed to the CORS route');
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
});

t.test('actual requests get CORS headers only for allowed origins', async (t) => {
  const { upstream, gw } = await proxy(t);
  const allowed = await request(`${gw.url}/ask`, {
    method: 'POST',
    headers: { origin: 'https://app.example.com', 'content-type': 'application/json' },
    body: '{"query":"hello"}',
  });
  await allowed.body.dump();
  t.equal(allowed.statusCode, 200);
  t.equal(allowed.headers['access-control-allow-origin'], 'https://app.example.com');
  t.equal(allowed.headers['access-control-allow-credentials'], 'true');
  t.equal(allowed.headers['access-control-expose-headers'], 'X-Request-Id');
  t.match(allowed.headers['vary'], /Origin/);

  const other = await request(`${gw.url}/ask`, {
    method: 'POST',
    headers: { origin: 'https://evil.example.net', 'content-type': 'application/json' },
    body: '{"query":"hello"}',
  });
  await other.body.dump();
  t.equal(other.statusCode, 200, 'the browser, not the gateway, withholds the answer');
  t.equal(other.headers['access-control-allow-origin'], undefined);
  t.equal(other.headers['access-control-allow-credentials'], undefined);
  t.match(other.headers['vary'], /Origin/);
  t.equal(upstream.received.length, 2);
});

t.test('rejections carry CORS headers for allowed origins', async (t) => {
  const { gw } = await proxy(t);
  const response = await request(`${gw.url}/ask`, {
    method: 'POST',
    headers: { origin: 'https://app.example.com', 'content-type': 'application/json' },
    body: '{"query": ',
  });
  await response.body.dump();
  t.equal(response.statusCode, 400);
  t.equal(response.headers['access-control-allow-origin'], 'https://app.example.com');
});

t.test('any origin without credentials', async (t) => {
  const { gw } = await proxy(t);
  const result = await preflight(`${gw.url}/open`, 'https://anywhere.example', 'GET');
  t.equal(result.status, 204);
  t.equal(result.headers['access-control-allow-origin'], '*');
  t.equal(result.headers['access-control-allow-credentials'], undefined);
  const response = await request(`${gw.url}/open`, { headers: { origin: 'https://x.example' } });
  await response.body.dump();
  t.equal(response.headers['access-control-allow-origin'], '*');
});

t.test('upstream CORS headers are replaced on CORS routes', async (t) => {
  const { gw } = await startProxy(t, {
    policy: POLICY,
    handler: (_req, res) => {
      res.writeHead(200, {
        'access-control-allow-origin': '*',
        'access-control-allow-credentials': 'true',
        vary: 'Accept-Encoding',
      });
      res.end('ok');
    },
  });
  const onRoute = await request(`${gw.url}/ask`, {
    method: 'POST',
    headers: { origin: 'https://evil.example.net', 'content-type': 'application/json' },
    body: '{}',
  });
  await onRoute.body.dump();
  t.equal(onRoute.headers['access-control-allow-origin'], undefined, 'the upstream * is dropped');
  t.equal(onRoute.headers['access-control-allow-credentials'], undefined);
  t.equal(onRoute.headers['vary'], 'Accept-Encoding, Origin', 'Vary is extended');

  const plain = await request(`${gw.url}/plain`, { headers: { origin: 'https://x.example' } });
  await plain.body.dump();
  t.equal(plain.headers['access-control-allow-origin'], '*', 'a route without CORS passes it on');
});

t.test('a preflight on a route without CORS stays an OPTIONS request', async (t) => {
  const { upstream, gw } = await proxy(t);
  const result = await preflight(`${gw.url}/plain`, 'https://app.example.com', 'GET');
  t.equal(result.status, 405);
  t.equal(upstream.received.length, 0);
});

t.test('any origin with credentials is refused at load', async (t) => {
  await t.rejects(
    startGateway({
      upstreamUrl: 'http://127.0.0.1:9',
      policy: `version: 1
routes:
  - name: bad
    match: { path: /bad }
    auth: none
    cors: { allow_origins: ['*'], allow_credentials: true }
`,
    }),
    { message: /cannot be combined with allow_credentials/ },
  );
});
