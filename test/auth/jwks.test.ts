import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { createLogger, type Logger } from '../../src/monitoring/logger.js';
import { TokenVerifier, type VerifyResult } from '../../src/auth/verifier.js';
import { startJwksServer, type JwksServer } from './helpers/jwks-server.js';
import {
  authConfig,
  generateSigningKey,
  issuerEntry,
  jwks,
  ManualClock,
  signJwt,
  validClaims,
  type SigningKey,
} from './helpers/tokens.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

const k1 = await generateSigningKey('RS256', 'k1');
const k2 = await generateSigningKey('RS256', 'k2');

interface Setup {
  server: JwksServer;
  verifier: TokenVerifier;
  clock: ManualClock;
  /** Signs a fresh token at the current clock, so that no result comes from the token cache. */
  token(key: SigningKey, kid?: string): Promise<string>;
}

async function setup(t: Test, keys: SigningKey[], log?: Logger): Promise<Setup> {
  const server = await startJwksServer(jwks(...keys));
  t.teardown(() => server.close());
  const clock = new ManualClock();
  const jwksConfig = {
    url: server.url,
    ttl: '5m',
    refresh_ahead: '30s',
    max_age: '1h',
    cooldown: '30s',
    timeout: '300ms',
  };
  const verifier = await TokenVerifier.create(
    authConfig({ issuers: [issuerEntry({ algorithms: ['RS256'], jwks: jwksConfig })] }),
    { baseDir: '.', clock: clock.now, log },
  );
  const token = (key: SigningKey, kid = key.kid) =>
    signJwt({ ...key, kid }, validClaims(clock.now(), { jti: randomUUID() }));
  return { server, verifier, clock, token };
}

function reasonOf(result: VerifyResult): string {
  return result.ok ? 'accepted' : result.failure.reason;
}

/** Waits until the server has seen `count` requests, polling for at most 2 seconds. */
async function waitForFetches(server: JwksServer, count: number): Promise<void> {
  for (let attempt = 0; attempt < 200 && server.fetches < count; attempt += 1) await sleep(10);
}

t.test('JWKS rotation picks up a new kid', async (t) => {
  const { server, verifier, clock, token } = await setup(t, [k1]);
  t.equal(reasonOf(await verifier.verify(await token(k1))), 'accepted');
  t.equal(server.fetches, 1);

  server.document = jwks(k1, k2);
  clock.advance(31 * SECOND);
  t.equal(reasonOf(await verifier.verify(await token(k2))), 'accepted', 'unknown kid refetches');
  t.equal(server.fetches, 2);

  const k3 = await generateSigningKey('RS256', 'k3');
  server.document = jwks(k2, k3);
  t.equal(
    reasonOf(await verifier.verify(await token(k3))),
    'key_not_found',
    'no refetch within the cooldown',
  );
  t.equal(server.fetches, 2);
  clock.advance(30 * SECOND);
  t.equal(reasonOf(await verifier.verify(await token(k3))), 'accepted', 'after the cooldown');
  t.equal(server.fetches, 3);
  t.equal(reasonOf(await verifier.verify(await token(k1))), 'key_not_found', 'k1 was removed');
});

t.test('JWKS outage keeps cached keys working', async (t) => {
  const { server, verifier, clock, token } = await setup(t, [k1]);
  t.equal(reasonOf(await verifier.verify(await token(k1))), 'accepted');
  server.mode = 'error';

  clock.advance(6 * MINUTE);
  t.equal(reasonOf(await verifier.verify(await token(k1))), 'accepted', 'stale keys are used');
  await waitForFetches(server, 2);
  t.equal(server.fetches, 2, 'a background refresh was attempted');

  clock.advance(50 * MINUTE);
  t.equal(reasonOf(await verifier.verify(await token(k1))), 'accepted', 'still within max_age');

  clock.advance(5 * MINUTE);
  t.equal(reasonOf(await verifier.verify(await token(k1))), 'jwks_unavailable', 'past max_age');

  server.mode = 'ok';
  clock.advance(31 * SECOND);
  t.equal(reasonOf(await verifier.verify(await token(k1))), 'accepted', 'recovers');
});

t.test('no keys at all gives jwks_unavailable', async (t) => {
  for (const mode of ['error', 'hang', 'oversized'] as const) {
    const { server, verifier, token } = await setup(t, [k1]);
    server.mode = mode;
    const started = Date.now();
    t.equal(reasonOf(await verifier.verify(await token(k1))), 'jwks_unavailable', mode);
    t.ok(Date.now() - started < 2_000, `${mode}: answered within the timeout`);
  }
  const { server, verifier, token } = await setup(t, [k1]);
  server.document = { keys: [] };
  t.equal(reasonOf(await verifier.verify(await token(k1))), 'jwks_unavailable', 'empty key set');
  server.document = { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'k1' }] };
  t.equal(
    reasonOf(await verifier.verify(await token(k1))),
    'jwks_unavailable',
    'within the cooldown no second fetch is made',
  );
  t.equal(server.fetches, 1);
});

t.test('kid flood stays within the cooldown', async (t) => {
  const { server, verifier, clock, token } = await setup(t, [k1]);
  t.ok(await verifier.warmUp(), 'warm-up fetched usable keys');
  t.equal(server.fetches, 1);

  const flood = async () => {
    const tokens = await Promise.all(Array.from({ length: 100 }, () => token(k1, randomUUID())));
    return Promise.all(tokens.map((text) => verifier.verify(text)));
  };
  const concurrent = await flood();
  t.ok(
    concurrent.every((result) => reasonOf(result) === 'key_not_found'),
    'every random kid is key_not_found',
  );
  const sequential: string[] = [];
  for (let index = 0; index < 50; index += 1) {
    sequential.push(reasonOf(await verifier.verify(await token(k1, randomUUID()))));
  }
  t.ok(sequential.every((reason) => reason === 'key_not_found'));
  t.equal(server.fetches, 1, 'warm-up was within the cooldown, so no refetch');

  clock.advance(30 * SECOND);
  await flood();
  await flood();
  t.equal(server.fetches, 2, 'one fetch per cooldown');
  t.equal(reasonOf(await verifier.verify(await token(k1))), 'accepted', 'valid kid still works');
});

t.test('concurrent lookups share one fetch', async (t) => {
  const { server, verifier, token } = await setup(t, [k1]);
  server.delayMs = 100;
  const tokens = await Promise.all(Array.from({ length: 50 }, () => token(k1)));
  const results = await Promise.all(tokens.map((text) => verifier.verify(text)));
  t.ok(results.every((result) => result.ok));
  t.equal(server.fetches, 1);
});

t.test('refresh ahead does not block lookups', async (t) => {
  const { server, verifier, clock, token } = await setup(t, [k1]);
  t.ok(await verifier.warmUp());
  server.mode = 'hang';
  clock.advance(4 * MINUTE + 31 * SECOND);
  const started = Date.now();
  t.equal(reasonOf(await verifier.verify(await token(k1))), 'accepted');
  t.ok(Date.now() - started < 250, 'answered without waiting for the 300ms fetch timeout');
  await waitForFetches(server, 2);
  t.equal(server.fetches, 2, 'a background refresh started');
});

t.test('JWKS fetches are logged without key material', async (t) => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  const { server, verifier, clock } = await setup(t, [k1], createLogger('info', destination));
  await verifier.warmUp();
  server.mode = 'error';
  clock.advance(31 * SECOND);
  await verifier.warmUp();
  const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  t.same(
    entries.map((entry) => [entry['level'], entry['msg'], entry['issuer'], entry['jwks']]),
    [
      ['info', 'JWKS fetched', 'main', server.url],
      ['warn', 'JWKS fetch failed; keeping the last good keys until max_age', 'main', server.url],
    ],
  );
  t.equal(entries[1]!['error'], 'JWKS request returned HTTP 500');
  t.notMatch(lines.join(''), String(k1.publicJwk.n), 'no key material in the log');
});
