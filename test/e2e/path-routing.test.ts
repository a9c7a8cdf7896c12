import t from 'tap';
import { parseHeaderLines, startProxy } from '../helpers/e2e.js';
import { parseRawResponse, rawRequest } from '../helpers/http.js';

const TENANT_HOST = 'tenant.example.com';
const WILDCARD_PARENT = 'example.org';

const POLICY = `version: 1
routes:
  - name: rag-query
    match: { methods: [POST], path: /api/rag/query }
    auth: none
  - name: collection-query
    match: { methods: [POST], path: '/api/collections/{collection}/query' }
    auth: none
  - name: public-get
    match: { methods: [GET, HEAD], path_prefix: /public/ }
    auth: none
  - name: tenant
    match: { methods: [GET], hosts: [${TENANT_HOST}], path_prefix: /tenant/ }
    auth: none
  - name: wildcard
    match: { methods: [GET], hosts: ['*.${WILDCARD_PARENT}'], path_prefix: /wildcard/ }
    auth: none
`;

/** Sends one request line with a Host header and returns the parsed response. */
async function send(
  url: string,
  method: string,
  target: string,
  host = new URL(url).host,
): Promise<{ status: number; code: unknown; headers: Map<string, string[]> }> {
  const body = method === 'POST' ? '{}' : '';
  const lines = [
    `${method} ${target} HTTP/1.1`,
    `Host: ${host}`,
    'Connection: close',
    ...(body === '' ? [] : ['Content-Type: application/json', `Content-Length: ${body.length}`]),
    '',
    body,
  ];
  const {
    status,
    body: parsed,
    head,
  } = parseRawResponse(await rawRequest(url, lines.join('\r\n')));
  const code =
    typeof parsed === 'object' && parsed !== null ? (parsed as { code?: unknown }).code : undefined;
  return { status, code, headers: parseHeaderLines(head) };
}

t.test('dot-segments cannot escape route', async (t) => {
  const { upstream, gw } = await startProxy(t, { policy: POLICY });
  // Each target starts with the allowed /public/ prefix but normalises to /admin.
  const targets = [
    '/public/../admin',
    '/public/%2e%2e/admin',
    '/public/%2E%2e/admin',
    '/public/./../admin',
    '/public//..//admin',
  ];

  for (const target of targets) {
    const { status, code } = await send(gw.url, 'GET', target);
    t.equal(status, 404, `${target}: status`);
    t.equal(code, 'route_not_found', `${target}: code`);
  }
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
});

t.test('ambiguous paths are invalid_path', async (t) => {
  const { upstream, gw } = await startProxy(t, { policy: POLICY });
  const targets = {
    'encoded slash': '/public/a%2Fb',
    'encoded slash, lower case': '/public/a%2fb',
    'encoded backslash': '/public/a%5Cb',
    'raw backslash': '/public/a\\b',
    'encoded NUL': '/public/a%00b',
    'encoded NUL in query': '/public/a?q=%00',
    'non-hex escape': '/public/a%zzb',
    'truncated escape': '/public/a%4',
  };

  for (const [label, target] of Object.entries(targets)) {
    const { status, code } = await send(gw.url, 'GET', target);
    t.equal(status, 400, `${label}: status`);
    t.equal(code, 'invalid_path', `${label}: code`);
  }
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
});

t.test('upstream receives normalised path', async (t) => {
  const { upstream, gw } = await startProxy(t, { policy: POLICY });
  const cases: { method: string; target: string; expected: string }[] = [
    { method: 'POST', target: '//api//rag/query', expected: '/api/rag/query' },
    { method: 'POST', target: '/api/rag/./query', expected: '/api/rag/query' },
    { method: 'GET', target: '/public/x/../doc', expected: '/public/doc' },
    { method: 'GET', target: '/public/%7Euser', expected: '/public/~user' },
    { method: 'GET', target: '/public/%61%62c', expected: '/public/abc' },
    { method: 'GET', target: '/public/a%2ab', expected: '/public/a%2Ab' },
    { method: 'GET', target: '/public/doc?q=a%2Fb&r=%2e', expected: '/public/doc?q=a%2Fb&r=%2e' },
  ];

  for (const { method, target, expected } of cases) {
    const before = upstream.received.length;
    const { status } = await send(gw.url, method, target);
    t.equal(status, 200, `${target}: status`);
    t.equal(upstream.received.length, before + 1, `${target}: forwarded once`);
    t.equal(upstream.received.at(-1)?.url, expected, `${target}: upstream path`);
  }
});

t.test('template route matches one segment', async (t) => {
  const { upstream, gw } = await startProxy(t, { policy: POLICY });

  const matched = await send(gw.url, 'POST', '/api/collections/handbook/query');
  t.equal(matched.status, 200);
  t.equal(upstream.received.at(-1)?.url, '/api/collections/handbook/query');

  const unmatched = [
    '/api/collections/handbook/extra/query',
    '/api/collections//query',
    '/api/collections/query',
  ];
  const before = upstream.received.length;
  for (const target of unmatched) {
    const { status, code } = await send(gw.url, 'POST', target);
    t.equal(status, 404, `${target}: status`);
    t.equal(code, 'route_not_found', `${target}: code`);
  }
  t.equal(upstream.received.length, before, 'unmatched paths reached no upstream');
});

t.test('method mismatch is 405', async (t) => {
  const { upstream, gw } = await startProxy(t, { policy: POLICY });
  const cases = [
    { method: 'GET', target: '/api/rag/query', allow: 'POST' },
    { method: 'DELETE', target: '/public/doc', allow: 'GET, HEAD' },
  ];

  for (const { method, target, allow } of cases) {
    const { status, code, headers } = await send(gw.url, method, target);
    t.equal(status, 405, `${method} ${target}: status`);
    t.equal(code, 'method_not_allowed', `${method} ${target}: code`);
    t.same(headers.get('allow'), [allow], `${method} ${target}: Allow`);
  }
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
});

t.test('host-restricted routes match host', async (t) => {
  const { upstream, gw } = await startProxy(t, { policy: POLICY });
  const { port } = new URL(gw.url);
  const allowed = [
    { target: '/tenant/doc', host: TENANT_HOST },
    { target: '/tenant/doc', host: `${TENANT_HOST.toUpperCase()}:${port}` },
    { target: '/wildcard/doc', host: `a.${WILDCARD_PARENT}` },
    { target: '/wildcard/doc', host: `b.a.${WILDCARD_PARENT}:${port}` },
  ];
  const denied = [
    { target: '/tenant/doc', host: 'other.example.com' },
    { target: '/tenant/doc', host: `${TENANT_HOST}.evil.test` },
    { target: '/wildcard/doc', host: WILDCARD_PARENT },
    { target: '/wildcard/doc', host: `a${WILDCARD_PARENT}` },
  ];

  for (const { target, host } of allowed) {
    const before = upstream.received.length;
    const { status } = await send(gw.url, 'GET', target, host);
    t.equal(status, 200, `${host}: status`);
    t.equal(upstream.received.length, before + 1, `${host}: forwarded`);
  }
  const before = upstream.received.length;
  for (const { target, host } of denied) {
    const { status, code } = await send(gw.url, 'GET', target, host);
    t.equal(status, 404, `${host}: status`);
    t.equal(code, 'route_not_found', `${host}: code`);
  }
  t.equal(upstream.received.length, before, 'denied hosts reached no upstream');
});
