import { randomBytes } from 'node:crypto';
import {
  CompactEncrypt,
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  type CryptoKey,
  type CompactJWEHeaderParameters,
} from 'jose';
import t from 'tap';
import { TokenVerifier, type VerifyResult } from '../../src/auth/verifier.js';
import {
  authConfig,
  generateSigningKey,
  issuerEntry,
  ManualClock,
  signJwt,
  validClaims,
} from './helpers/tokens.js';

const signer = await generateSigningKey('RS256', 'sig-1');
const unlistedSigner = await generateSigningKey('ES384', 'sig-1');
const rsaEnc = await generateKeyPair('RSA-OAEP-256', { extractable: true });
const ecEnc = await generateKeyPair('ECDH-ES+A256KW', { extractable: true });
const otherRsaEnc = await generateKeyPair('RSA-OAEP-256', { extractable: true });
const otherEcEnc = await generateKeyPair('ECDH-ES+A256KW', { extractable: true });
const dirSecret = randomBytes(32);

const dir = t.testdir({
  'signer.pem': await exportSPKI(signer.publicKey),
  'rsa-enc.pem': await exportPKCS8(rsaEnc.privateKey),
  'ec-enc.json': JSON.stringify({ ...(await exportJWK(ecEnc.privateKey)), kid: 'enc-ec' }),
});
const clock = new ManualClock();
const decryption = {
  key_management_algorithms: ['dir', 'RSA-OAEP-256', 'ECDH-ES+A256KW'],
  content_algorithms: ['A256GCM'],
  keys: [{ file: 'rsa-enc.pem', kid: 'enc-rsa' }, { file: 'ec-enc.json' }],
  secrets: [{ env: 'JWE_DIR_KEY', encoding: 'base64url' }],
};
const issuers = [issuerEntry({ algorithms: ['RS256'], keys: [{ file: 'signer.pem' }] })];
const verifier = await TokenVerifier.create(authConfig({ issuers, decryption }), {
  baseDir: dir,
  env: { JWE_DIR_KEY: dirSecret.toString('base64url') },
  clock: clock.now,
});

function encrypt(
  plaintext: string,
  key: CryptoKey | Uint8Array,
  header: Partial<CompactJWEHeaderParameters>,
  crit?: Record<string, boolean>,
): Promise<string> {
  const protectedHeader = { cty: 'JWT', enc: 'A256GCM', ...header } as CompactJWEHeaderParameters;
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader(protectedHeader)
    .encrypt(key, crit === undefined ? undefined : { crit });
}

function reasonOf(result: VerifyResult): string {
  return result.ok ? 'accepted' : result.failure.reason;
}

const nested = () => signJwt(signer, validClaims(clock.now()));

t.test('JWE with each configured algorithm is accepted', async (t) => {
  const cases: [string, CryptoKey | Uint8Array, Partial<CompactJWEHeaderParameters>][] = [
    ['RSA-OAEP-256', rsaEnc.publicKey, { alg: 'RSA-OAEP-256', kid: 'enc-rsa' }],
    ['ECDH-ES+A256KW', ecEnc.publicKey, { alg: 'ECDH-ES+A256KW', kid: 'enc-ec' }],
    ['dir', dirSecret, { alg: 'dir' }],
    ['RSA-OAEP-256 without kid', rsaEnc.publicKey, { alg: 'RSA-OAEP-256' }],
  ];
  for (const [name, key, header] of cases) {
    const result = await verifier.verify(await encrypt(await nested(), key, header));
    t.equal(reasonOf(result), 'accepted', name);
    t.ok(result.ok && result.token.encrypted, `${name}: marked as encrypted`);
  }
});

t.test('JWE with a wrong key fails decryption', async (t) => {
  const cases: [string, CryptoKey | Uint8Array, Partial<CompactJWEHeaderParameters>][] = [
    ['other RSA key', otherRsaEnc.publicKey, { alg: 'RSA-OAEP-256', kid: 'enc-rsa' }],
    ['other EC key', otherEcEnc.publicKey, { alg: 'ECDH-ES+A256KW', kid: 'enc-ec' }],
    ['other dir secret', randomBytes(32), { alg: 'dir' }],
    ['unknown kid', otherRsaEnc.publicKey, { alg: 'RSA-OAEP-256', kid: 'nobody' }],
  ];
  for (const [name, key, header] of cases) {
    const token = await encrypt(await nested(), key, header);
    t.equal(reasonOf(await verifier.verify(token)), 'decryption_failed', name);
  }
});

t.test('JWE tampered ciphertext fails decryption', async (t) => {
  const token = await encrypt(await nested(), rsaEnc.publicKey, { alg: 'RSA-OAEP-256' });
  const parts = token.split('.');
  const ciphertext = Buffer.from(parts[3]!, 'base64url');
  ciphertext[0]! ^= 0x01;
  parts[3] = ciphertext.toString('base64url');
  t.equal(reasonOf(await verifier.verify(parts.join('.'))), 'decryption_failed');
});

t.test('JWE nesting a token signed by an unlisted algorithm', async (t) => {
  const inner = await signJwt(unlistedSigner, validClaims(clock.now()));
  const token = await encrypt(inner, rsaEnc.publicKey, { alg: 'RSA-OAEP-256' });
  t.equal(reasonOf(await verifier.verify(token)), 'algorithm_not_allowed');
});

t.test('JWE nested token claims are still checked', async (t) => {
  const now = Math.floor(clock.now() / 1000);
  const inner = await signJwt(signer, validClaims(clock.now(), { iat: now - 900, exp: now - 60 }));
  const token = await encrypt(inner, rsaEnc.publicKey, { alg: 'RSA-OAEP-256' });
  t.equal(reasonOf(await verifier.verify(token)), 'token_expired');
});

t.test('JWE with unconfigured algorithms is rejected', async (t) => {
  const rsaOaep = await generateKeyPair('RSA-OAEP', { extractable: true });
  const byAlg = await encrypt(await nested(), rsaOaep.publicKey, { alg: 'RSA-OAEP' });
  t.equal(reasonOf(await verifier.verify(byAlg)), 'algorithm_not_allowed', 'alg');
  const byEnc = await encrypt(await nested(), rsaEnc.publicKey, {
    alg: 'RSA-OAEP-256',
    enc: 'A128GCM',
  });
  t.equal(reasonOf(await verifier.verify(byEnc)), 'algorithm_not_allowed', 'enc');
});

t.test('JWE header problems are rejected', async (t) => {
  const noCty = await encrypt(await nested(), rsaEnc.publicKey, {
    alg: 'RSA-OAEP-256',
    cty: undefined,
  });
  t.equal(reasonOf(await verifier.verify(noCty)), 'token_malformed', 'missing cty');
  const crit = await encrypt(
    await nested(),
    rsaEnc.publicKey,
    { alg: 'RSA-OAEP-256', crit: ['x-ext'], 'x-ext': 1 },
    { 'x-ext': true },
  );
  t.equal(reasonOf(await verifier.verify(crit)), 'crit_unsupported', 'crit');
  const zip = await encrypt(await nested(), rsaEnc.publicKey, { alg: 'RSA-OAEP-256', zip: 'DEF' });
  t.equal(reasonOf(await verifier.verify(zip)), 'token_malformed', 'compressed');
});

t.test('JWE nested in a JWE is rejected', async (t) => {
  const inner = await encrypt(await nested(), rsaEnc.publicKey, { alg: 'RSA-OAEP-256' });
  const outer = await encrypt(inner, rsaEnc.publicKey, { alg: 'RSA-OAEP-256' });
  t.equal(reasonOf(await verifier.verify(outer)), 'token_malformed');
});

t.test('JWE without decryption configured fails', async (t) => {
  const plain = await TokenVerifier.create(authConfig({ issuers }), { baseDir: dir });
  const token = await encrypt(await nested(), rsaEnc.publicKey, { alg: 'RSA-OAEP-256' });
  t.equal(reasonOf(await plain.verify(token)), 'decryption_failed');
});
