import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import t from 'tap';
import type { Test } from 'tap';
import { request } from 'undici';
import { DEMO_AUDIENCE, DEMO_ISSUER } from '../../src/auth/demo.js';
import { ConfigError } from '../../src/config/config-error.js';
import { startJwksServer, type JwksServer } from '../auth/helpers/jwks-server.js';
import {
  AUDIENCE,
  ISSUER,
  generateSigningKey,
  jwks,
  signJwt,
  signRaw,
  validClaims,
  type SigningKey,
} from '../auth/helpers/tokens.js';
import { accessLine, rawHeaderValues, startProxy } from '../helpers/e2e.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { CLI_PATH } from '../helpers/gateway-process.js';
import { parseRawResponse, rawRequest } from '../helpers/http.js';
import type { TestUpstream } from '../helpers/upstream.js';

const SUBJECT = 'alice';
const SESSION = 'session-7';
const CHALLENGE_INVALID_TOKEN = 'Bearer error="invalid_token"';
const CHALLENGE_INVALID_REQUEST = 'Bearer error="invalid_request"';
const COOKIE_NAME = 'session';
const QUERY_NAME = 'access_token';

const POLICY = `version: 1
routes:
  - name: query
    match: { methods: [POST], path: /api/rag/query }
    require: { roles: { any_of: [user] } }
  - name: collections
    match: { methods: [POST], path: /api/collections/query }
    require:
      bindings: [{ body: /collection, equals: 'user_{sub}' }]
  - name: cookie
    match: { path_prefix: /cookie/ }
    auth: { sources: { bearer: true, cookie: ${COOKIE_NAME} } }
  - name: query-token
    match: { path_prefix: /query-token/ }
    auth: { sources: { bearer: false, query: ${QUERY_NAME} } }
  - name: forward
    match: { path_prefix: /forward/ }
    identity: { forward_token: true }
  - name: optional
    match: { path_prefix: /optional/ }
    auth: optional
  - name: open
    match: { path_prefix: /open/ }
    auth: none
`;

/** Builds the `auth` section of gateway.yaml for one issuer whose keys come from `keysYaml`. */
function authConfig(keysYaml: string, issuer = ISSUER, audience = AUDIENCE): string {
  return [
    'auth:',
    '  issuers:',
    '    - name: main',
    `      issuer: '${issuer}'`,
    `      audiences: ['${audience}']`,
    '      algorithms: [EdDSA]',
    `      ${keysYaml}`,
  ].join('\n');
}

interface AuthProxy {
  upstream: TestUpstream;
  gw: TestGateway;
  key: SigningKey;
  jwksServer: JwksServer;
}

/**
 * Starts a JWKS server with a fresh Ed25519 key, then a recording upstream and a gateway that
 * trusts that JWKS. With `jwksDown`, the JWKS server is closed before the gateway starts.
 */
async function startAuthProxy(
  t: Test,
  options: { policy?: string; jwksDown?: boolean } = {},
): Promise<AuthProxy> {
  const key = await generateSigningKey('EdDSA', 'key-1');
  const jwksServer = await startJwksServer(jwks(key));
  if (options.jwksDown) await jwksServer.close();
  else t.teardown(() => jwksServer.close());
  const { upstream, gw } = await startProxy(t, {
    config: authConfig(`jwks: { url: '${jwksServer.url}' }`),
    policy: options.policy ?? POLICY,
  });
  return { upstream, gw, key, jwksServer };
}

/** Signs a valid token for SUBJECT with role `user`. `overrides` replace or add claims. */
function tokenFor(key: SigningKey, overrides: Record<string, unknown> = {}): Promise<string> {
  return signJwt(key, validClaims(Date.now(), { sub: SUBJECT, roles: ['user'], ...overrides }));
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

async function send(
  url: string,
  options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const response = await request(url, {
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    text: await response.body.text(),
  };
}

/** Parses the problem body of a rejection. */
function problemOf(reply: Reply): { code?: string; request_id?: string } {
  return JSON.parse(reply.text) as { code?: string; request_id?: string };
}

/** Asserts the status, the problem code and that the upstream received nothing. */
function assertRejected(
  t: Test,
  reply: Reply,
  upstream: TestUpstream,
  status: number,
  code: string,
): void {
  t.equal(reply.status, status, 'status');
  t.equal(problemOf(reply).code, code, 'code');
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
}

/** Waits for the access log line of a rejected request and returns its `reason`. */
async function loggedReason(gw: TestGateway, reply: Reply): Promise<string> {
  const line = await accessLine(gw, problemOf(reply).request_id ?? '');
  return String(line['reason']);
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** Runs the built CLI and returns its exit code and output. */
function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI_PATH, ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(error);
          return;
        }
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

t.test('valid token forwarded', async (t) => {
  const { upstream, gw, key } = await startAuthProxy(t);
  const token = await tokenFor(key, { sid: SESSION });
  const reply = await send(`${gw.url}/api/rag/query`, {
    method: 'POST',
    headers: { ...bearer(token), 'content-type': 'application/json' },
    body: '{"query":"q"}',
  });
  t.equal(reply.status, 200);
  t.equal(upstream.received.length, 1, 'the request reached the upstream');
  const received = upstream.received[0]!;
  t.same(rawHeaderValues(received.rawHeaders, 'x-user-id'), [SUBJECT]);
  t.same(rawHeaderValues(received.rawHeaders, 'x-user-roles'), ['user']);
  t.same(rawHeaderValues(received.rawHeaders, 'x-session-id'), [SESSION]);
  t.same(rawHeaderValues(received.rawHeaders, 'authorization'), [], 'token removed');
});

t.test('missing token rejected', async (t) => {
  const { upstream, gw } = await startAuthProxy(t);
  const reply = await send(`${gw.url}/api/rag/query`, { method: 'POST', body: '{}' });
  assertRejected(t, reply, upstream, 401, 'unauthorized');
  t.equal(reply.headers['www-authenticate'], 'Bearer', 'bare challenge');
  t.match(await loggedReason(gw, reply), /^token_missing: /);
});

t.test('invalid tokens rejected', async (t) => {
  const { upstream, gw, key } = await startAuthProxy(t);
  const now = Math.floor(Date.now() / 1000);
  const good = await tokenFor(key);
  const [header, payload] = good.split('.');
  const otherKey = await generateSigningKey('EdDSA', 'key-1');
  const cases: { name: string; token: string; reason: string }[] = [
    {
      name: 'forged signature',
      token: await signJwt(otherKey, validClaims(Date.now(), { sub: SUBJECT, roles: ['user'] })),
      reason: 'signature_invalid',
    },
    {
      name: 'payload swapped',
      token: `${header}.${Buffer.from(JSON.stringify({ ...validClaims(Date.now()), roles: ['admin'] })).toString('base64url')}.${good.split('.')[2]}`,
      reason: 'signature_invalid',
    },
    {
      name: 'expired',
      token: await tokenFor(key, { iat: now - 7200, exp: now - 3600 }),
      reason: 'token_expired',
    },
    {
      name: 'wrong audience',
      token: await tokenFor(key, { aud: 'someone-else' }),
      reason: 'audience_invalid',
    },
    {
      name: 'unknown issuer',
      token: await tokenFor(key, { iss: 'https://evil.test' }),
      reason: 'issuer_invalid',
    },
    {
      name: 'alg none',
      token: signRaw({ alg: 'none' }, validClaims(Date.now())),
      reason: 'algorithm_not_allowed',
    },
    { name: 'not a JWT', token: 'abc.def', reason: 'token_malformed' },
    { name: 'payload only', token: `${header}.${payload}`, reason: 'token_malformed' },
  ];
  for (const testCase of cases) {
    const reply = await send(`${gw.url}/api/rag/query`, {
      method: 'POST',
      headers: bearer(testCase.token),
      body: '{}',
    });
    t.equal(reply.status, 401, `${testCase.name}: status`);
    t.equal(problemOf(reply).code, 'unauthorized', `${testCase.name}: code`);
    t.equal(
      reply.headers['www-authenticate'],
      CHALLENGE_INVALID_TOKEN,
      `${testCase.name}: challenge without detail`,
    );
    t.notMatch(reply.text, testCase.reason, `${testCase.name}: body hides the reason`);
    t.match(
      await loggedReason(gw, reply),
      new RegExp(`^${testCase.reason}: `),
      `${testCase.name}: reason logged`,
    );
  }
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
});

t.test('non-bearer scheme rejected', async (t) => {
  const { upstream, gw } = await startAuthProxy(t);
  const reply = await send(`${gw.url}/api/rag/query`, {
    method: 'POST',
    headers: { authorization: 'Basic dXNlcjpwYXNz' },
    body: '{}',
  });
  assertRejected(t, reply, upstream, 401, 'unauthorized');
  t.equal(reply.headers['www-authenticate'], CHALLENGE_INVALID_TOKEN);
  t.match(await loggedReason(gw, reply), /^token_malformed: /);
});

t.test('header and cookie token rejected', async (t) => {
  const { upstream, gw, key } = await startAuthProxy(t);
  const token = await tokenFor(key);
  const reply = await send(`${gw.url}/cookie/x`, {
    headers: { ...bearer(token), cookie: `${COOKIE_NAME}=${token}` },
  });
  assertRejected(t, reply, upstream, 401, 'unauthorized');
  t.equal(reply.headers['www-authenticate'], CHALLENGE_INVALID_REQUEST);
  t.match(await loggedReason(gw, reply), /^token_multiple: /);
});

t.test('two authorization fields rejected', async (t) => {
  const { upstream, gw, key } = await startAuthProxy(t);
  const token = await tokenFor(key);
  const { host } = new URL(gw.url);
  const raw = await rawRequest(
    gw.url,
    [
      'GET /cookie/x HTTP/1.1',
      `Host: ${host}`,
      `Authorization: Bearer ${token}`,
      `authorization: Bearer ${token}`,
      'Connection: close',
      '',
      '',
    ].join('\r\n'),
  );
  const parsed = parseRawResponse(raw);
  t.equal(parsed.status, 401, 'status');
  t.equal((parsed.body as { code?: string }).code, 'unauthorized', 'code');
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
  t.match(parsed.head, /\r\nwww-authenticate: Bearer error="invalid_request"\r\n/i);
});

t.test('missing role forbidden', async (t) => {
  const { upstream, gw, key } = await startAuthProxy(t);
  const token = await tokenFor(key, { roles: ['guest'] });
  const reply = await send(`${gw.url}/api/rag/query`, {
    method: 'POST',
    headers: bearer(token),
    body: '{}',
  });
  assertRejected(t, reply, upstream, 403, 'forbidden');
  t.equal(reply.headers['www-authenticate'], undefined, 'no challenge on 403');
  t.match(await loggedReason(gw, reply), /^role_missing: /);
});

t.test('spoofed identity headers replaced', async (t) => {
  const { upstream, gw, key } = await startAuthProxy(t);
  const token = await tokenFor(key);
  const { host } = new URL(gw.url);
  const body = '{}';
  const raw = await rawRequest(
    gw.url,
    [
      'POST /api/rag/query HTTP/1.1',
      `Host: ${host}`,
      `Authorization: Bearer ${token}`,
      'X-User-Id: mallory',
      'x-user-id: mallory-2',
      'X-USER-ROLES: admin',
      'x-session-id: stolen',
      'Content-Type: application/json',
      `Content-Length: ${body.length}`,
      'Connection: close',
      '',
      body,
    ].join('\r\n'),
  );
  t.equal(parseRawResponse(raw).status, 200);
  t.equal(upstream.received.length, 1, 'the request reached the upstream');
  const received = upstream.received[0]!;
  t.same(rawHeaderValues(received.rawHeaders, 'x-user-id'), [SUBJECT], 'one x-user-id, the claim');
  t.same(rawHeaderValues(received.rawHeaders, 'x-user-roles'), ['user']);
  t.same(rawHeaderValues(received.rawHeaders, 'x-session-id'), [], 'no sid claim, no header');
});

t.test('auth none keeps authorization', async (t) => {
  const { upstream, gw } = await startAuthProxy(t);
  const credential = 'Basic dXNlcjpwYXNz';
  const reply = await send(`${gw.url}/open/x`, {
    headers: { authorization: credential, 'x-user-id': 'mallory', 'X-User-Roles': 'admin' },
  });
  t.equal(reply.status, 200);
  t.equal(upstream.received.length, 1, 'the request reached the upstream');
  const received = upstream.received[0]!;
  t.same(rawHeaderValues(received.rawHeaders, 'authorization'), [credential]);
  t.same(rawHeaderValues(received.rawHeaders, 'x-user-id'), [], 'x-user-id stripped');
  t.same(rawHeaderValues(received.rawHeaders, 'x-user-roles'), [], 'x-user-roles stripped');
});

t.test('forward_token keeps the token', async (t) => {
  const { upstream, gw, key } = await startAuthProxy(t);
  const token = await tokenFor(key);
  const reply = await send(`${gw.url}/forward/x`, { headers: bearer(token) });
  t.equal(reply.status, 200);
  t.equal(upstream.received.length, 1, 'the request reached the upstream');
  const received = upstream.received[0]!;
  t.same(rawHeaderValues(received.rawHeaders, 'authorization'), [`Bearer ${token}`]);
  t.same(rawHeaderValues(received.rawHeaders, 'x-user-id'), [SUBJECT]);
});

t.test('cookie token removed', async (t) => {
  const { upstream, gw, key } = await startAuthProxy(t);
  const token = await tokenFor(key);
  const reply = await send(`${gw.url}/cookie/x`, {
    headers: { cookie: `theme=dark; ${COOKIE_NAME}=${token}; lang=en` },
  });
  t.equal(reply.status, 200);
  t.equal(upstream.received.length, 1, 'the request reached the upstream');
  const received = upstream.received[0]!;
  t.same(rawHeaderValues(received.rawHeaders, 'cookie'), ['theme=dark; lang=en']);
  t.same(rawHeaderValues(received.rawHeaders, 'x-user-id'), [SUBJECT]);
});

t.test('query token removed', async (t) => {
  const { upstream, gw, key } = await startAuthProxy(t);
  const token = await tokenFor(key);
  const reply = await send(`${gw.url}/query-token/x?a=1&${QUERY_NAME}=${token}&b=%20two`, {
    headers: { 'x-request-id': 'query-token-1' },
  });
  t.equal(reply.status, 200);
  t.equal(upstream.received.length, 1, 'the request reached the upstream');
  const received = upstream.received[0]!;
  t.equal(received.url, '/query-token/x?a=1&b=%20two', 'other parameters kept as sent');
  t.same(rawHeaderValues(received.rawHeaders, 'x-user-id'), [SUBJECT]);
  const line = await accessLine(gw, 'query-token-1');
  t.notMatch(JSON.stringify(line), token, 'the access log line has no token');
});

t.test('query token ignored on bearer route', async (t) => {
  const { upstream, gw, key } = await startAuthProxy(t);
  const token = await tokenFor(key);
  const reply = await send(`${gw.url}/api/rag/query?${QUERY_NAME}=${token}`, {
    method: 'POST',
    body: '{}',
  });
  assertRejected(t, reply, upstream, 401, 'unauthorized');
  t.equal(reply.headers['www-authenticate'], 'Bearer', 'the query is not a source here');
});

t.test('body binding allows own collection', async (t) => {
  const { upstream, gw, key } = await startAuthProxy(t);
  const token = await tokenFor(key);
  // Spacing, key order and a non-ASCII character must survive byte for byte.
  const body = `{ "query" : "straße",\n  "collection": "user_${SUBJECT}" }`;
  const reply = await send(`${gw.url}/api/collections/query`, {
    method: 'POST',
    headers: { ...bearer(token), 'content-type': 'application/json' },
    body,
  });
  t.equal(reply.status, 200);
  t.equal(upstream.received.length, 1, 'the request reached the upstream');
  const received = upstream.received[0]!;
  t.ok(received.body.equals(Buffer.from(body)), 'the exact body bytes arrived');
  t.equal(received.headers['content-length'], String(Buffer.byteLength(body)));
});

t.test('body binding allows chunked body', async (t) => {
  const { upstream, gw, key } = await startAuthProxy(t);
  const token = await tokenFor(key);
  const { host } = new URL(gw.url);
  const first = '{"collection":';
  const second = `"user_${SUBJECT}"}`;
  const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
  const raw = await rawRequest(
    gw.url,
    [
      'POST /api/collections/query HTTP/1.1',
      `Host: ${host}`,
      `Authorization: Bearer ${token}`,
      'Content-Type: application/json',
      'Transfer-Encoding: chunked',
      'Connection: close',
      '',
      `${chunk(first)}${chunk(second)}0\r\n\r\n`,
    ].join('\r\n'),
  );
  t.equal(parseRawResponse(raw).status, 200);
  t.equal(upstream.received.length, 1, 'the request reached the upstream');
  t.equal(upstream.received[0]!.body.toString(), first + second, 'the whole body arrived');
});

t.test('body binding denies other collection', async (t) => {
  const { upstream, gw, key } = await startAuthProxy(t);
  const token = await tokenFor(key);
  const cases = [
    { name: 'other user', body: '{"collection":"user_bob"}' },
    { name: 'missing field', body: '{"query":"q"}' },
    { name: 'not a string', body: '{"collection":["user_alice"]}' },
    { name: 'invalid JSON', body: '{"collection":"user_alice"' },
  ];
  for (const testCase of cases) {
    const reply = await send(`${gw.url}/api/collections/query`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: testCase.body,
    });
    t.equal(reply.status, 403, `${testCase.name}: status`);
    t.equal(problemOf(reply).code, 'forbidden', `${testCase.name}: code`);
    t.match(
      await loggedReason(gw, reply),
      /^binding_mismatch: /,
      `${testCase.name}: reason logged`,
    );
  }
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
});

t.test('optional route without token', async (t) => {
  const { upstream, gw } = await startAuthProxy(t);
  const reply = await send(`${gw.url}/optional/x`, { headers: { 'x-user-id': 'mallory' } });
  t.equal(reply.status, 200);
  t.equal(upstream.received.length, 1, 'the request reached the upstream');
  t.same(rawHeaderValues(upstream.received[0]!.rawHeaders, 'x-user-id'), [], 'spoof stripped');
});

t.test('optional route with valid token', async (t) => {
  const { upstream, gw, key } = await startAuthProxy(t);
  const reply = await send(`${gw.url}/optional/x`, { headers: bearer(await tokenFor(key)) });
  t.equal(reply.status, 200);
  t.equal(upstream.received.length, 1, 'the request reached the upstream');
  t.same(rawHeaderValues(upstream.received[0]!.rawHeaders, 'x-user-id'), [SUBJECT]);
});

t.test('optional route with bad token', async (t) => {
  const { upstream, gw, key } = await startAuthProxy(t);
  const now = Math.floor(Date.now() / 1000);
  const expired = await tokenFor(key, { iat: now - 7200, exp: now - 3600 });
  const reply = await send(`${gw.url}/optional/x`, { headers: bearer(expired) });
  assertRejected(t, reply, upstream, 401, 'unauthorized');
  t.equal(reply.headers['www-authenticate'], CHALLENGE_INVALID_TOKEN);
  t.match(await loggedReason(gw, reply), /^token_expired: /);
});

t.test('jwks down without keys', async (t) => {
  const { upstream, gw, key } = await startAuthProxy(t, { jwksDown: true });
  const reply = await send(`${gw.url}/api/rag/query`, {
    method: 'POST',
    headers: bearer(await tokenFor(key)),
    body: '{}',
  });
  assertRejected(t, reply, upstream, 503, 'jwks_unavailable');
  t.equal(reply.headers['www-authenticate'], undefined, 'no challenge on 503');
  t.match(await loggedReason(gw, reply), /^jwks_unavailable: /);
});

t.test('auth failures counted', async (t) => {
  const { upstream, gw, key } = await startAuthProxy(t);
  const missing = await send(`${gw.url}/api/rag/query`, { method: 'POST', body: '{}' });
  assertRejected(t, missing, upstream, 401, 'unauthorized');
  const guest = await tokenFor(key, { roles: ['guest'] });
  const denied = await send(`${gw.url}/api/rag/query`, {
    method: 'POST',
    headers: bearer(guest),
    body: '{}',
  });
  assertRejected(t, denied, upstream, 403, 'forbidden');
  const metrics = await send(`${gw.adminUrl}/metrics`);
  t.match(
    metrics.text,
    'agentflow_gateway_auth_failures_total{route="query",reason="token_missing"} 1\n',
  );
  t.match(
    metrics.text,
    'agentflow_gateway_authz_denials_total{route="query",reason="role_missing"} 1\n',
  );
  t.match(
    metrics.text,
    'agentflow_gateway_rejections_total{route="query",code="unauthorized"} 1\n',
  );
});

t.test('demo issuer refused', async (t) => {
  const key = await generateSigningKey('EdDSA', 'demo');
  const jwksServer = await startJwksServer(jwks(key));
  t.teardown(() => jwksServer.close());
  const config = authConfig(`jwks: { url: '${jwksServer.url}' }`, DEMO_ISSUER, DEMO_AUDIENCE);
  const error: unknown = await startGateway({
    upstreamUrl: 'http://127.0.0.1:1',
    config,
    policy: POLICY,
  }).then(
    async (gw) => {
      await gw.stop();
      return undefined;
    },
    (rejection: unknown) => rejection,
  );
  t.ok(error instanceof ConfigError, 'ConfigError');
  const issues = error instanceof ConfigError ? error.issues : [];
  t.equal(issues.length, 1, 'one issue');
  t.equal(issues[0]?.path, 'auth.issuers[0].issuer');
  t.match(issues[0]?.message ?? '', 'npm start');
});

t.test('demo issuer in demo mode', async (t) => {
  const key = await generateSigningKey('EdDSA', 'demo');
  const jwksServer = await startJwksServer(jwks(key));
  t.teardown(() => jwksServer.close());
  const { upstream, gw } = await startProxy(t, {
    config: authConfig(`jwks: { url: '${jwksServer.url}' }`, DEMO_ISSUER, DEMO_AUDIENCE),
    policy: POLICY,
    env: { AGENTFLOW_GATEWAY_DEMO: '1' },
  });
  const claims = { iss: DEMO_ISSUER, aud: DEMO_AUDIENCE, sub: SUBJECT, roles: ['user'] };
  const token = await signJwt(key, validClaims(Date.now(), claims));
  const reply = await send(`${gw.url}/api/rag/query`, {
    method: 'POST',
    headers: bearer(token),
    body: '{}',
  });
  t.equal(reply.status, 200);
  t.equal(upstream.received.length, 1, 'the request reached the upstream');
});

/** Writes a fresh Ed25519 key pair as JWK files and returns their paths. */
async function writeKeyFiles(dir: string): Promise<{ privateFile: string; publicFile: string }> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true });
  const privateFile = path.join(dir, 'signing-key.jwk');
  const publicFile = path.join(dir, 'public-key.jwk');
  const kid = 'cli-key';
  await writeFile(privateFile, JSON.stringify({ ...(await exportJWK(privateKey)), kid }));
  await writeFile(publicFile, JSON.stringify({ ...(await exportJWK(publicKey)), kid }));
  return { privateFile, publicFile };
}

t.test('minted token accepted', async (t) => {
  const { privateFile, publicFile } = await writeKeyFiles(t.testdir({}));
  const { upstream, gw } = await startProxy(t, {
    config: authConfig(`keys: [{ file: '${publicFile}' }]`),
    policy: POLICY,
  });
  const minted = await runCli([
    'token',
    'mint',
    '--key',
    privateFile,
    '--sub',
    SUBJECT,
    '--roles',
    'user,admin',
    '--issuer',
    ISSUER,
    '--audience',
    AUDIENCE,
    '--ttl',
    '5m',
  ]);
  t.equal(minted.code, 0, 'mint exits 0');
  t.equal(minted.stderr, '');
  const token = minted.stdout.trim();
  const reply = await send(`${gw.url}/api/rag/query`, {
    method: 'POST',
    headers: bearer(token),
    body: '{}',
  });
  t.equal(reply.status, 200);
  t.equal(upstream.received.length, 1, 'the request reached the upstream');
  const received = upstream.received[0]!;
  t.same(rawHeaderValues(received.rawHeaders, 'x-user-id'), [SUBJECT]);
  t.same(rawHeaderValues(received.rawHeaders, 'x-user-roles'), ['user,admin']);
});

t.test('minted token for other key rejected', async (t) => {
  const dir = t.testdir({ trusted: {}, other: {} });
  const trusted = await writeKeyFiles(path.join(dir, 'trusted'));
  const other = await writeKeyFiles(path.join(dir, 'other'));
  const { upstream, gw } = await startProxy(t, {
    config: authConfig(`keys: [{ file: '${trusted.publicFile}' }]`),
    policy: POLICY,
  });
  const minted = await runCli(
    ['token', 'mint', '--key', other.privateFile, '--sub', SUBJECT, '--roles', 'user'].concat([
      '--issuer',
      ISSUER,
      '--audience',
      AUDIENCE,
    ]),
  );
  t.equal(minted.code, 0, 'mint exits 0');
  const reply = await send(`${gw.url}/api/rag/query`, {
    method: 'POST',
    headers: bearer(minted.stdout.trim()),
    body: '{}',
  });
  assertRejected(t, reply, upstream, 401, 'unauthorized');
  t.match(await loggedReason(gw, reply), /^signature_invalid: /);
});

t.test('token inspect prints claims', async (t) => {
  const key = await generateSigningKey('EdDSA', 'inspect-key');
  const token = await tokenFor(key);
  const result = await runCli(['token', 'inspect', token]);
  t.equal(result.code, 0);
  t.equal(result.stderr, '');
  const output = JSON.parse(result.stdout) as {
    verified: boolean;
    header: Record<string, unknown>;
    claims: Record<string, unknown>;
  };
  t.equal(output.verified, false, 'marked as not verified');
  t.equal(output.header['kid'], 'inspect-key');
  t.equal(output.claims['sub'], SUBJECT);
  t.equal(output.claims['iss'], ISSUER);
  t.same(output.claims['roles'], ['user']);
});
