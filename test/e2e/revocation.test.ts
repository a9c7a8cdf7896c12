import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedis } from '../helpers/redis.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'rag-api';
const ADMIN_TOKEN = 'a'.repeat(16) + 'b'.repeat(16) + 'c'.repeat(16);

const POLICY = `version: 1
routes:
  - name: query
    match: { path_prefix: /api/ }
`;

interface Fixture {
  upstream: TestUpstream;
  privateKey: CryptoKey;
  keyFile: string;
  tokenFile: string;
}

async function fixture(t: Test): Promise<Fixture> {
  const dir = t.testdir({});
  const { privateKey, publicKey } = await generateKeyPair('EdDSA');
  const keyFile = path.join(dir, 'issuer.pub.jwk');
  await writeFile(keyFile, JSON.stringify(await exportJWK(publicKey)));
  const tokenFile = path.join(dir, 'admin-token');
  await writeFile(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  return { upstream, privateKey, keyFile, tokenFile };
}

function gatewayConfig(fx: Fixture, extra = ''): string {
  return `auth:
  issuers:
    - name: test
      issuer: ${ISSUER}
      audiences: [${AUDIENCE}]
      algorithms: [EdDSA]
      keys: [{ file: ${fx.keyFile} }]
admin: { token_file: ${fx.tokenFile} }
${extra}`;
}

function mint(fx: Fixture, claims: { sub: string; jti: string; sid?: string }): Promise<string> {
  return new SignJWT(claims.sid === undefined ? {} : { sid: claims.sid })
    .setProtectedHeader({ alg: 'EdDSA' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(claims.sub)
    .setJti(claims.jti)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(fx.privateKey);
}

async function query(gw: TestGateway, token: string) {
  const response = await request(`${gw.url}/api/query`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text };
}

async function revoke(gw: TestGateway, body: object) {
  const response = await request(`${gw.adminUrl}/admin/revocations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.body.dump();
  return response.statusCode;
}

t.test('revoked jti is rejected', async (t) => {
  const fx = await fixture(t);
  const gw = await startGateway({
    upstreamUrl: fx.upstream.url,
    policy: POLICY,
    config: gatewayConfig(fx),
  });
  t.teardown(() => gw.stop());
  const token = await mint(fx, { sub: 'alice', jti: 'token-1' });
  const other = await mint(fx, { sub: 'alice', jti: 'token-2' });

  t.equal((await query(gw, token)).status, 200, 'accepted before revocation');
  t.equal(await revoke(gw, { jti: 'token-1', reason: 'leaked' }), 201);
  const rejected = await query(gw, token);
  t.equal(rejected.status, 401);
  t.equal(JSON.parse(rejected.text).code, 'unauthorized');
  t.match(String(rejected.headers['www-authenticate']), /invalid_token/);
  t.equal((await query(gw, other)).status, 200, 'another jti still works');
  t.equal(fx.upstream.received.length, 2, 'the revoked request never reached the upstream');
  const access = gw.logs.filter((line) => line['msg'] === 'request completed');
  t.match(String(access[1]?.['reason']), /^token_revoked/);
});

t.test('revoked subject and session', async (t) => {
  const fx = await fixture(t);
  const gw = await startGateway({
    upstreamUrl: fx.upstream.url,
    policy: POLICY,
    config: gatewayConfig(fx),
  });
  t.teardown(() => gw.stop());
  const bob = await mint(fx, { sub: 'bob', jti: 'b-1' });
  const carol = await mint(fx, { sub: 'carol', jti: 'c-1', sid: 'session-9' });

  t.equal(await revoke(gw, { sub: 'bob', reason: 'offboarded' }), 201);
  t.equal((await query(gw, bob)).status, 401, 'subject revoked');
  t.equal(await revoke(gw, { sid: 'session-9', reason: 'logout' }), 201);
  t.equal((await query(gw, carol)).status, 401, 'session revoked');
  t.equal(fx.upstream.received.length, 0, 'nothing reached the upstream');
});

t.test('admin API needs the admin token', async (t) => {
  const fx = await fixture(t);
  const gw = await startGateway({
    upstreamUrl: fx.upstream.url,
    policy: POLICY,
    config: gatewayConfig(fx),
  });
  t.teardown(() => gw.stop());
  const response = await request(`${gw.adminUrl}/admin/revocations`, {
    method: 'POST',
    headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' },
    body: JSON.stringify({ jti: 'x', reason: 'y' }),
  });
  await response.body.dump();
  t.equal(response.statusCode, 401);
});

t.test('revocation reaches a second gateway', async (t) => {
  const fx = await fixture(t);
  const redis = await startRedis(t);
  const config = gatewayConfig(
    fx,
    `revocation:\n  store: redis\n  redis: { host: 127.0.0.1, port: ${redis.port} }`,
  );
  const first = await startGateway({ upstreamUrl: fx.upstream.url, policy: POLICY, config });
  const second = await startGateway({ upstreamUrl: fx.upstream.url, policy: POLICY, config });
  t.teardown(async () => {
    await first.stop();
    await second.stop();
  });
  const token = await mint(fx, { sub: 'dave', jti: 'd-1' });
  t.equal((await query(second, token)).status, 200);
  t.equal(await revoke(first, { jti: 'd-1', reason: 'leaked' }), 201);

  let status = 0;
  for (let attempt = 0; attempt < 50 && status !== 401; attempt += 1) {
    status = (await query(second, token)).status;
    if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.equal(status, 401, 'the second gateway rejects the revoked token');
});
