import { createHmac, KeyObject } from 'node:crypto';
import t from 'tap';
import { TokenVerifier, type VerifyResult } from '../../src/auth/verifier.js';
import { startJwksServer } from './helpers/jwks-server.js';
import {
  authConfig,
  base64urlJson,
  generateSigningKey,
  issuerEntry,
  jwks,
  ManualClock,
  signJwt,
  signRaw,
  validClaims,
} from './helpers/tokens.js';

const MIXED_ISSUER = 'https://mixed.example.test';
const MIXED_SECRET = 'a-configured-hmac-secret-of-at-least-32-bytes';

const rsa = await generateSigningKey('RS256', 'k1');
const ec = await generateSigningKey('ES256', 'k2');
const attacker = await generateSigningKey('RS256', 'attacker');
const server = await startJwksServer(jwks(rsa, ec));
const attackerServer = await startJwksServer(jwks(attacker));
t.teardown(() => Promise.all([server.close(), attackerServer.close()]));

const clock = new ManualClock();
const verifier = await TokenVerifier.create(
  authConfig({
    issuers: [
      issuerEntry({ algorithms: ['RS256', 'ES256'], jwks: { url: server.url } }),
      issuerEntry({
        name: 'mixed',
        issuer: MIXED_ISSUER,
        algorithms: ['RS256', 'HS256'],
        jwks: { url: server.url },
        secrets: [{ env: 'MIXED_SECRET' }],
      }),
    ],
  }),
  { baseDir: '.', env: { MIXED_SECRET }, clock: clock.now },
);

function reasonOf(result: VerifyResult): string {
  return result.ok ? 'accepted' : result.failure.reason;
}

function hmacSign(header: Record<string, unknown>, claims: unknown, secret: string | Buffer) {
  const input = `${base64urlJson(header)}.${base64urlJson(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

t.test('valid RS256 and ES256 tokens are accepted', async (t) => {
  const claims = validClaims(clock.now());
  t.equal(reasonOf(await verifier.verify(await signJwt(rsa, claims))), 'accepted');
  t.equal(reasonOf(await verifier.verify(await signJwt(ec, claims))), 'accepted');
});

t.test('alg none is rejected in every spelling', async (t) => {
  const fetchesBefore = server.fetches;
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    const token = signRaw({ alg, kid: 'k1' }, validClaims(clock.now()));
    t.equal(reasonOf(await verifier.verify(token)), 'algorithm_not_allowed', alg);
    const signed = signRaw({ alg, kid: 'k1' }, validClaims(clock.now()), rsa);
    t.equal(reasonOf(await verifier.verify(signed)), 'algorithm_not_allowed', `${alg} signed`);
  }
  t.equal(server.fetches, fetchesBefore, 'a rejected header causes no JWKS fetch');
});

t.test('HS256 signed with the RSA public key is rejected', async (t) => {
  const publicPem = KeyObject.from(rsa.publicKey).export({ type: 'spki', format: 'pem' });
  const header = { alg: 'HS256', kid: 'k1' };
  const forged = hmacSign(header, validClaims(clock.now()), publicPem);
  t.equal(reasonOf(await verifier.verify(forged)), 'algorithm_not_allowed', 'HS256 not listed');

  const mixedClaims = validClaims(clock.now(), { iss: MIXED_ISSUER });
  const forgedMixed = hmacSign(header, mixedClaims, publicPem);
  t.equal(
    reasonOf(await verifier.verify(forgedMixed)),
    'signature_invalid',
    'HS256 listed: the RSA key is never used as an HMAC secret',
  );
  const genuine = hmacSign({ alg: 'HS256' }, mixedClaims, MIXED_SECRET);
  t.equal(reasonOf(await verifier.verify(genuine)), 'accepted', 'the configured secret works');
});

t.test('HMAC key published in the JWKS is never used', async (t) => {
  const secret = Buffer.alloc(32, 7);
  server.document = {
    keys: [...jwks(rsa, ec).keys, { kty: 'oct', kid: 'hmac', k: secret.toString('base64url') }],
  };
  clock.advance(60_000);
  const claims = validClaims(clock.now(), { iss: MIXED_ISSUER });
  const token = hmacSign({ alg: 'HS256', kid: 'hmac' }, claims, secret);
  t.equal(reasonOf(await verifier.verify(token)), 'signature_invalid');
  server.document = jwks(rsa, ec);
});

t.test('kid with path traversal or SQL finds no key', async (t) => {
  clock.advance(60_000);
  const kids = [
    '../../../../../../dev/null',
    '/etc/passwd',
    "' OR '1'='1",
    'k1; DROP TABLE keys --',
    'k1\u0000',
    'K1',
    '',
  ];
  const fetchesBefore = server.fetches;
  for (const kid of kids) {
    const token = signRaw({ alg: 'RS256', kid }, validClaims(clock.now()), attacker);
    t.equal(reasonOf(await verifier.verify(token)), 'key_not_found', JSON.stringify(kid));
  }
  t.ok(server.fetches - fetchesBefore <= 1, 'at most one refetch within the cooldown');
});

t.test('jku, x5u and jwk headers are never used', async (t) => {
  const header = {
    alg: 'RS256',
    kid: 'attacker',
    jku: attackerServer.url,
    x5u: attackerServer.url,
    jwk: attacker.publicJwk,
  };
  const claims = validClaims(clock.now());
  t.equal(reasonOf(await verifier.verify(signRaw(header, claims, attacker))), 'key_not_found');
  const sameKid = signRaw({ ...header, kid: 'k1' }, claims, attacker);
  t.equal(reasonOf(await verifier.verify(sameKid)), 'signature_invalid');
  const noKid = signRaw({ ...header, kid: undefined }, claims, attacker);
  t.equal(reasonOf(await verifier.verify(noKid)), 'signature_invalid');
  t.equal(attackerServer.fetches, 0, 'the attacker URL was never requested');
});

t.test('unknown crit header is rejected', async (t) => {
  const claims = validClaims(clock.now());
  const token = signRaw({ alg: 'RS256', kid: 'k1', crit: ['x-ext'], 'x-ext': 1 }, claims, rsa);
  t.equal(reasonOf(await verifier.verify(token)), 'crit_unsupported');
  const exp = signRaw({ alg: 'RS256', kid: 'k1', crit: ['exp'], exp: 1 }, claims, rsa);
  t.equal(reasonOf(await verifier.verify(exp)), 'crit_unsupported');
});

t.test('tampered payload fails the signature', async (t) => {
  const token = await signJwt(rsa, validClaims(clock.now()));
  const [header, , signature] = token.split('.');
  const payload = base64urlJson(validClaims(clock.now(), { sub: 'admin' }));
  t.equal(
    reasonOf(await verifier.verify(`${header}.${payload}.${signature}`)),
    'signature_invalid',
  );
});

t.test('stripped signature is rejected', async (t) => {
  const token = await signJwt(rsa, validClaims(clock.now()));
  const stripped = token.slice(0, token.lastIndexOf('.') + 1);
  t.equal(reasonOf(await verifier.verify(stripped)), 'signature_invalid');
});

t.test('signature from another key fails', async (t) => {
  const forged = await signJwt({ ...attacker, kid: 'k1' }, validClaims(clock.now()));
  t.equal(reasonOf(await verifier.verify(forged)), 'signature_invalid');
});

t.test('ES256 header with the RSA key kid finds no key', async (t) => {
  clock.advance(60_000);
  const token = await signJwt({ ...ec, kid: 'k1' }, validClaims(clock.now()));
  t.equal(reasonOf(await verifier.verify(token)), 'key_not_found');
});

t.test('malformed tokens are rejected', async (t) => {
  const claims = base64urlJson(validClaims(clock.now()));
  const header = base64urlJson({ alg: 'RS256', kid: 'k1' });
  const cases: [string, string][] = [
    ['one segment', 'abc'],
    ['two segments', `${header}.${claims}`],
    ['four segments', `${header}.${claims}.sig.extra`],
    ['invalid base64url character', `${header}.${claims}!.c2ln`],
    ['base64 padding', `${header}.${claims}=.c2ln`],
    ['impossible base64url length', `${header}.a.c2ln`],
    ['empty header', `.${claims}.c2ln`],
    ['empty payload', `${header}..c2ln`],
    ['header not JSON', `${Buffer.from('{alg').toString('base64url')}.${claims}.c2ln`],
    ['header is an array', `${base64urlJson(['RS256'])}.${claims}.c2ln`],
    ['alg is a number', `${base64urlJson({ alg: 256 })}.${claims}.c2ln`],
    ['kid is an object', `${base64urlJson({ alg: 'RS256', kid: {} })}.${claims}.c2ln`],
    ['payload not JSON', `${header}.${Buffer.from('iss').toString('base64url')}.c2ln`],
    ['payload is a string', `${header}.${base64urlJson('claims')}.c2ln`],
    ['header not UTF-8', `${Buffer.from([0xff, 0xfe]).toString('base64url')}.${claims}.c2ln`],
  ];
  for (const [name, token] of cases) {
    t.equal(reasonOf(await verifier.verify(token)), 'token_malformed', name);
  }
});

t.test('oversized token is rejected before parsing', async (t) => {
  t.equal(reasonOf(await verifier.verify('a'.repeat(8 * 1024 + 1))), 'token_too_large');
  t.equal(reasonOf(await verifier.verify(`${'a'.repeat(9000)}.b.c`)), 'token_too_large');
});
