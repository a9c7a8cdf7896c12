import { exportSPKI, type JWTPayload } from 'jose';
import t from 'tap';
import { TokenVerifier, type VerifyResult } from '../../src/auth/verifier.js';
import {
  authConfig,
  AUDIENCE,
  generateSigningKey,
  issuerEntry,
  ManualClock,
  signJwt,
  validClaims,
} from './helpers/tokens.js';

const TYPED_ISSUER = 'https://typed.example.test';
const OTHER_ISSUER = 'https://other.example.test';
const DAY_SECONDS = 86_400;

const key = await generateSigningKey('ES256', 'static-1');
const dir = t.testdir({ 'es256.pem': await exportSPKI(key.publicKey) });
const clock = new ManualClock(Date.UTC(2030, 0, 1));
const now = Math.floor(clock.now() / 1000);
const staticIssuer = { algorithms: ['ES256'], keys: [{ file: 'es256.pem' }] };
const verifier = await TokenVerifier.create(
  authConfig({
    issuers: [
      issuerEntry({ ...staticIssuer, required_claims: ['sub'] }),
      issuerEntry({ ...staticIssuer, name: 'typed', issuer: TYPED_ISSUER, typ: 'at+jwt' }),
      issuerEntry({ ...staticIssuer, name: 'other', issuer: OTHER_ISSUER }),
    ],
  }),
  { baseDir: dir, clock: clock.now },
);

async function reasonFor(
  overrides: JWTPayload,
  header: Record<string, unknown> = {},
  issuers?: string[],
): Promise<string> {
  const claims = validClaims(clock.now(), overrides);
  for (const [name, value] of Object.entries(overrides))
    if (value === undefined) delete claims[name];
  return reasonOf(await verifier.verify(await signJwt(key, claims, header), { issuers }));
}

function reasonOf(result: VerifyResult): string {
  return result.ok ? 'accepted' : result.failure.reason;
}

t.test('exp is enforced with clock tolerance', async (t) => {
  t.equal(await reasonFor({ iat: now - 600, exp: now - 31 }), 'token_expired');
  t.equal(await reasonFor({ iat: now - 600, exp: now - 20 }), 'accepted', 'within 30s tolerance');
  t.equal(await reasonFor({ exp: undefined }), 'claim_missing', 'missing exp');
  t.equal(await reasonFor({ exp: 'tomorrow' as unknown as number }), 'token_malformed');
});

t.test('nbf is enforced with clock tolerance', async (t) => {
  t.equal(await reasonFor({ nbf: now + 31 }), 'token_not_yet_valid');
  t.equal(await reasonFor({ nbf: now + 20 }), 'accepted', 'within 30s tolerance');
});

t.test('iat in the future is rejected', async (t) => {
  t.equal(await reasonFor({ iat: now + 60 }), 'iat_in_future');
  t.equal(await reasonFor({ iat: now + 20 }), 'accepted', 'within 30s tolerance');
  t.equal(await reasonFor({ iat: 'now' as unknown as number }), 'token_malformed');
});

t.test('lifetime above max_lifetime is rejected', async (t) => {
  t.equal(await reasonFor({ iat: now, exp: now + DAY_SECONDS + 1 }), 'lifetime_too_long');
  t.equal(await reasonFor({ iat: now, exp: now + DAY_SECONDS }), 'accepted', 'exactly 1d');
  t.equal(
    await reasonFor({ iat: undefined, exp: now + 2 * DAY_SECONDS }),
    'lifetime_too_long',
    'without iat, exp - now is measured',
  );
  t.equal(await reasonFor({ iat: undefined, exp: now + 600 }), 'accepted', 'iat is optional');
});

t.test('aud must name a configured audience', async (t) => {
  t.equal(await reasonFor({ aud: 'another-service' }), 'audience_invalid');
  t.equal(await reasonFor({ aud: undefined }), 'audience_invalid', 'missing aud');
  t.equal(await reasonFor({ aud: ['another-service', AUDIENCE] }), 'accepted', 'aud array');
});

t.test('iss must be configured and accepted by the route', async (t) => {
  t.equal(await reasonFor({ iss: 'https://evil.example.test' }), 'issuer_invalid');
  t.equal(await reasonFor({ iss: undefined }), 'issuer_invalid', 'missing iss');
  t.equal(await reasonFor({}, {}, ['other']), 'issuer_invalid', 'issuer not on the route');
  t.equal(await reasonFor({ iss: OTHER_ISSUER }, {}, ['other']), 'accepted');
});

t.test('required claims must be present', async (t) => {
  t.equal(await reasonFor({ sub: undefined }), 'claim_missing');
  t.equal(await reasonFor({ iss: OTHER_ISSUER, sub: undefined }), 'accepted', 'not required');
});

t.test('typ must match when configured', async (t) => {
  t.equal(await reasonFor({ iss: TYPED_ISSUER }, { typ: 'JWT' }), 'typ_invalid');
  t.equal(await reasonFor({ iss: TYPED_ISSUER }), 'typ_invalid', 'missing typ');
  t.equal(await reasonFor({ iss: TYPED_ISSUER }, { typ: 'at+jwt' }), 'accepted');
  t.equal(await reasonFor({ iss: TYPED_ISSUER }, { typ: 'application/at+jwt' }), 'accepted');
});

t.test('verified token is cached until exp', async (t) => {
  const token = await signJwt(key, validClaims(clock.now(), { exp: now + 120 }));
  const first = await verifier.verify(token);
  t.ok(first.ok && !first.cached, 'first verification is not cached');
  const second = await verifier.verify(token);
  t.ok(second.ok && second.cached, 'second verification comes from the cache');
  if (second.ok) t.equal(second.token.issuer, 'main');
  t.equal(reasonOf(await verifier.verify(token, { issuers: ['other'] })), 'issuer_invalid');
  clock.advance(121_000);
  const afterExp = await verifier.verify(token);
  t.ok(afterExp.ok && !afterExp.cached, 'after exp the token is verified again, with tolerance');
  clock.advance(30_000);
  t.equal(reasonOf(await verifier.verify(token)), 'token_expired', 'and then expires');
  clock.nowMs = Date.UTC(2030, 0, 1);
});
