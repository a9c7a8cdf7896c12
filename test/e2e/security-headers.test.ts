import type { ServerResponse } from 'node:http';
import t from 'tap';
import { request } from 'undici';
import {
  AUDIENCE,
  generateSigningKey,
  ISSUER,
  jwks,
  signJwt,
  validClaims,
} from '../auth/helpers/tokens.js';
import { startJwksServer } from '../auth/helpers/jwks-server.js';
import { startProxy } from '../helpers/e2e.js';

const POLICY = `version: 1
routes:
  - name: defaults
    match: { path: /defaults }
    auth: none
  - name: tuned
    match: { path: /tuned }
    auth: none
    security_headers:
      strict_transport_security: { enabled: false }
      content_type_options: 'off'
      referrer_policy: strict-origin-when-cross-origin
      content_security_policy: "default-src 'self'"
      remove: [x-backend-node]
`;

/** Answers HTML with headers that reveal the backend, and lets a query set Cache-Control. */
function handler(req: { url?: string }, res: ServerResponse): void {
  const headers: Record<string, string> = {
    'content-type': 'text/html; charset=utf-8',
    server: 'backend/1.2.3',
    'x-powered-by': 'Express',
    'x-backend-node': 'node-7',
  };
  if (req.url?.includes('cache')) headers['cache-control'] = 'max-age=60';
  if (req.url?.includes('nosniff-upstream')) headers['x-content-type-options'] = 'upstream';
  res.writeHead(200, headers);
  res.end('<p>hello</p>');
}

async function get(url: string) {
  const response = await request(url);
  await response.body.dump();
  return response.headers;
}

t.test('default security headers are added', async (t) => {
  const { gw } = await startProxy(t, { policy: POLICY, handler });
  const headers = await get(`${gw.url}/defaults`);
  t.equal(headers['x-content-type-options'], 'nosniff');
  t.equal(headers['referrer-policy'], 'no-referrer');
  t.equal(headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
  t.equal(headers['strict-transport-security'], undefined, 'HSTS only over TLS');
  t.equal(headers['server'], undefined, 'Server removed');
  t.equal(headers['x-powered-by'], undefined, 'X-Powered-By removed');
  t.equal(headers['x-backend-node'], 'node-7', 'other headers pass');
  t.equal(headers['cache-control'], undefined, 'no Cache-Control without a token');
});

t.test('upstream values win over defaults', async (t) => {
  const { gw } = await startProxy(t, { policy: POLICY, handler });
  const headers = await get(`${gw.url}/defaults?nosniff-upstream`);
  t.equal(headers['x-content-type-options'], 'upstream');
});

t.test('a route overrides or switches off each header', async (t) => {
  const { gw } = await startProxy(t, { policy: POLICY, handler });
  const headers = await get(`${gw.url}/tuned`);
  t.equal(headers['x-content-type-options'], undefined, 'switched off');
  t.equal(headers['referrer-policy'], 'strict-origin-when-cross-origin');
  t.equal(headers['content-security-policy'], "default-src 'self'");
  t.equal(headers['x-backend-node'], undefined, 'listed header removed');
  t.equal(headers['server'], 'backend/1.2.3', 'the route replaced the default list');
});

t.test('CSP only on HTML responses', async (t) => {
  const { gw } = await startProxy(t, { policy: POLICY });
  const headers = await get(`${gw.url}/defaults`);
  t.match(headers['content-type'], /application\/json/);
  t.equal(headers['content-security-policy'], undefined);
  t.equal(headers['x-content-type-options'], 'nosniff');
});

t.test('authenticated responses are not stored unless the upstream says so', async (t) => {
  const key = await generateSigningKey('EdDSA', 'key-1');
  const jwksServer = await startJwksServer(jwks(key));
  t.teardown(() => jwksServer.close());
  const { gw } = await startProxy(t, {
    handler,
    config: [
      'auth:',
      '  issuers:',
      '    - name: main',
      `      issuer: '${ISSUER}'`,
      `      audiences: ['${AUDIENCE}']`,
      '      algorithms: [EdDSA]',
      `      jwks: { url: '${jwksServer.url}' }`,
    ].join('\n'),
    policy: 'version: 1\nroutes:\n  - name: private\n    match: { path_prefix: /private }\n',
  });
  const token = await signJwt(key, validClaims(Date.now(), { sub: 'alice' }));
  const authorization = `Bearer ${token}`;
  const stored = await request(`${gw.url}/private`, { headers: { authorization } });
  await stored.body.dump();
  t.equal(stored.statusCode, 200);
  t.equal(stored.headers['cache-control'], 'no-store');
  const upstreamSet = await request(`${gw.url}/private?cache`, { headers: { authorization } });
  await upstreamSet.body.dump();
  t.equal(upstreamSet.headers['cache-control'], 'max-age=60', 'the upstream value stays');
});
