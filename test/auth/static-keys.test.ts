import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { exportJWK, exportPKCS8, SignJWT } from 'jose';
import t, { type Test } from 'tap';
import { KeyLoadError } from '../../src/auth/key-load-error.js';
import { TokenVerifier, type VerifyResult } from '../../src/auth/verifier.js';
import {
  authConfig,
  generateSigningKey,
  issuerEntry,
  signJwt,
  validClaims,
  type SigningKey,
} from './helpers/tokens.js';

const HMAC_SECRET = 'static-test-secret-with-more-than-32-bytes';

const rsa = await generateSigningKey('RS256', 'rsa-1');
const ed = await generateSigningKey('EdDSA', 'ed-1');
const rsaPublic = KeyObject.from(rsa.publicKey);
const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;

const dir = t.testdir({
  'rsa-pkcs1.pem': rsaPublic.export({ type: 'pkcs1', format: 'pem' }),
  'rsa-private.pem': await exportPKCS8(rsa.privateKey),
  'ed.jwk.json': JSON.stringify({ ...(await exportJWK(ed.publicKey)), kid: 'ed-1' }),
  'set.json': JSON.stringify({ keys: [rsa.publicJwk, ed.publicJwk] }),
  'weak.pem': weakRsa.export({ type: 'spki', format: 'pem' }),
  'hmac.txt': `${HMAC_SECRET}\n`,
  'short.txt': 'too-short',
  'broken.pem': '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
});

function verifierFor(issuer: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  return TokenVerifier.create(authConfig({ issuers: [issuerEntry(issuer)] }), {
    baseDir: dir,
    env,
  });
}

function reasonOf(result: VerifyResult): string {
  return result.ok ? 'accepted' : result.failure.reason;
}

async function verifies(t: Test, verifier: TokenVerifier, key: SigningKey, name: string) {
  const token = await signJwt(key, validClaims(Date.now()));
  t.equal(reasonOf(await verifier.verify(token)), 'accepted', name);
}

t.test('PEM and JWK key files verify tokens', async (t) => {
  const pkcs1 = await verifierFor({ algorithms: ['RS256'], keys: [{ file: 'rsa-pkcs1.pem' }] });
  await verifies(t, pkcs1, rsa, 'PKCS#1 public key');
  const privatePem = await verifierFor({
    algorithms: ['RS256'],
    keys: [{ file: 'rsa-private.pem' }],
  });
  await verifies(t, privatePem, rsa, 'public part of a PKCS#8 private key');
  const jwk = await verifierFor({ algorithms: ['EdDSA'], keys: [{ file: 'ed.jwk.json' }] });
  await verifies(t, jwk, ed, 'EdDSA JWK');
  const set = await verifierFor({ algorithms: ['RS256', 'EdDSA'], keys: [{ file: 'set.json' }] });
  await verifies(t, set, rsa, 'JWK Set, RSA member');
  await verifies(t, set, ed, 'JWK Set, EdDSA member');
});

t.test('X.509 certificate key file verifies tokens', async (t) => {
  const keyFile = path.join(dir, 'cert-key.pem');
  const certFile = path.join(dir, 'cert.pem');
  const subject = '/CN=issuer.example.test';
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile];
  execFileSync('openssl', [...args, '-out', certFile, '-subj', subject, '-days', '1'], {
    stdio: 'ignore',
  });
  const verifier = await verifierFor({ algorithms: ['RS256'], keys: [{ file: 'cert.pem' }] });
  const privateKey = createPrivateKey(readFileSync(keyFile, 'utf8'));
  const token = await new SignJWT(validClaims(Date.now()))
    .setProtectedHeader({ alg: 'RS256' })
    .sign(privateKey);
  t.equal(reasonOf(await verifier.verify(token)), 'accepted');
});

t.test('HMAC secrets from env and file', async (t) => {
  const fromEnv = await verifierFor(
    { algorithms: ['HS256'], secrets: [{ env: 'HMAC_SECRET' }] },
    { HMAC_SECRET },
  );
  const secret = new TextEncoder().encode(HMAC_SECRET);
  const token = await new SignJWT(validClaims(Date.now()))
    .setProtectedHeader({ alg: 'HS256' })
    .sign(secret);
  t.equal(reasonOf(await fromEnv.verify(token)), 'accepted', 'environment variable');
  const fromFile = await verifierFor({ algorithms: ['HS256'], secrets: [{ file: 'hmac.txt' }] });
  t.equal(reasonOf(await fromFile.verify(token)), 'accepted', 'file, trailing newline dropped');
  const hs512 = await new SignJWT(validClaims(Date.now()))
    .setProtectedHeader({ alg: 'HS512' })
    .sign(secret);
  const both = await verifierFor(
    { algorithms: ['HS256', 'HS512'], secrets: [{ env: 'HMAC_SECRET' }] },
    { HMAC_SECRET },
  );
  t.equal(reasonOf(await both.verify(hs512)), 'key_not_found', 'too short for HS512');
});

t.test('unusable keys and secrets fail at startup', async (t) => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['RSA below 2048 bits', { algorithms: ['RS256'], keys: [{ file: 'weak.pem' }] }, /1024-bit/],
    ['missing file', { algorithms: ['RS256'], keys: [{ file: 'absent.pem' }] }, /cannot read/],
    ['broken PEM', { algorithms: ['RS256'], keys: [{ file: 'broken.pem' }] }, /not a valid PEM/],
    ['no fitting algorithm', { algorithms: ['ES256'], keys: [{ file: 'ed.jwk.json' }] }, /fits/],
    ['short secret', { algorithms: ['HS256'], secrets: [{ file: 'short.txt' }] }, /9 bytes/],
    ['unset variable', { algorithms: ['HS256'], secrets: [{ env: 'UNSET' }] }, /UNSET is not set/],
  ];
  for (const [name, issuer, message] of cases) {
    await t.rejects(verifierFor(issuer), KeyLoadError, name);
    await t.rejects(verifierFor(issuer), { message }, `${name}: message`);
  }
  const error = await verifierFor({
    algorithms: ['HS256'],
    secrets: [{ file: 'short.txt' }],
  }).catch((caught: Error) => caught);
  t.notMatch(String(error), /too-short/, 'the message never contains the secret');
});
