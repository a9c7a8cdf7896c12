import { randomBytes } from 'node:crypto';
import t from 'tap';
import { CryptoError, type CryptoErrorCode } from '../../src/crypto/errors.js';
import { formatCiphertext, parseCiphertext, SEGMENT_BYTES } from '../../src/crypto/format.js';
import { masterKeys, serviceFor, TEN_MIB } from './fixtures.js';

const CONTEXT = 'file:user_42';

/** Returns the code of the CryptoError that `operation` raises, or `none`. */
function codeOf(operation: () => unknown): CryptoErrorCode | 'none' | 'other' {
  try {
    operation();
    return 'none';
  } catch (error) {
    return error instanceof CryptoError ? error.code : 'other';
  }
}

t.test('round trips', async (t) => {
  const service = serviceFor(masterKeys(1));
  const inputs: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['small', Buffer.from('hello, world', 'utf8')],
    ['one segment exactly', randomBytes(SEGMENT_BYTES)],
    ['one byte over a segment', randomBytes(SEGMENT_BYTES + 1)],
    ['10 MiB', randomBytes(TEN_MIB)],
  ];
  for (const [name, plaintext] of inputs) {
    const ciphertext = service.encrypt(CONTEXT, plaintext);
    t.match(ciphertext, /^agfw:v1:1:[A-Za-z0-9_-]+$/, `${name}: format`);
    t.ok(service.decrypt(CONTEXT, ciphertext).equals(plaintext), `${name}: decrypts`);
  }
});

t.test('round trip with aad', async (t) => {
  const service = serviceFor(masterKeys(1));
  const aad = Buffer.from('row:17', 'utf8');
  const ciphertext = service.encrypt(CONTEXT, Buffer.from('secret'), aad);
  t.equal(service.decrypt(CONTEXT, ciphertext, aad).toString(), 'secret');
});

t.test('same plaintext encrypts differently', async (t) => {
  const service = serviceFor(masterKeys(1));
  const plaintext = Buffer.from('same');
  t.not(service.encrypt(CONTEXT, plaintext), service.encrypt(CONTEXT, plaintext));
});

t.test('every body bit flip rejected', async (t) => {
  const service = serviceFor(masterKeys(1));
  const ciphertext = service.encrypt(CONTEXT, Buffer.from('small secret'), Buffer.from('aad'));
  const [head, encoded] = [
    ciphertext.slice(0, ciphertext.lastIndexOf(':') + 1),
    ciphertext.split(':')[3]!,
  ];
  const body = Buffer.from(encoded, 'base64url');
  const codes = new Map<string, number>();
  for (let bit = 0; bit < body.length * 8; bit++) {
    const flipped = Buffer.from(body);
    flipped[bit >> 3]! ^= 1 << (bit & 7);
    const code = codeOf(() =>
      service.decrypt(CONTEXT, head + flipped.toString('base64url'), Buffer.from('aad')),
    );
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  t.same([...codes.keys()], ['crypto_ciphertext_tampered'], 'each flip is reported as tampering');
  t.equal(codes.get('crypto_ciphertext_tampered'), body.length * 8, 'every flip was tried');
});

t.test('every string bit flip rejected', async (t) => {
  const service = serviceFor(masterKeys(1, 2), { encryptVersion: 1 });
  const ciphertext = service.encrypt(CONTEXT, Buffer.from('small secret'));
  let accepted = 0;
  for (let index = 0; index < ciphertext.length; index++) {
    for (let bit = 0; bit < 8; bit++) {
      const character = String.fromCharCode(ciphertext.charCodeAt(index) ^ (1 << bit));
      const changed = ciphertext.slice(0, index) + character + ciphertext.slice(index + 1);
      const code = codeOf(() => service.decrypt(CONTEXT, changed));
      if (code === 'none' || code === 'other') accepted++;
    }
  }
  t.equal(accepted, 0, 'no changed string decrypts or raises anything but a CryptoError');
});

t.test('wrong context rejected', async (t) => {
  const service = serviceFor(masterKeys(1));
  const ciphertext = service.encrypt(CONTEXT, Buffer.from('secret'));
  t.equal(
    codeOf(() => service.decrypt('file:user_43', ciphertext)),
    'crypto_context_mismatch',
  );
});

t.test('wrong aad rejected', async (t) => {
  const service = serviceFor(masterKeys(1));
  const ciphertext = service.encrypt(CONTEXT, Buffer.from('secret'), Buffer.from('a'));
  t.equal(
    codeOf(() => service.decrypt(CONTEXT, ciphertext, Buffer.from('b'))),
    'crypto_aad_mismatch',
  );
  t.equal(
    codeOf(() => service.decrypt(CONTEXT, ciphertext)),
    'crypto_aad_mismatch',
    'aad left out',
  );
});

t.test('errors carry no data', async (t) => {
  const service = serviceFor(masterKeys(1));
  const ciphertext = service.encrypt(
    CONTEXT,
    Buffer.from('PLAINTEXT-MARKER'),
    Buffer.from('AAD-MARKER'),
  );
  try {
    service.decrypt('other', ciphertext, Buffer.from('AAD-MARKER'));
    t.fail('decrypt succeeded');
  } catch (error) {
    const text = `${(error as Error).message} ${JSON.stringify(error)}`;
    t.notMatch(text, 'PLAINTEXT-MARKER', 'no plaintext');
    t.notMatch(text, 'AAD-MARKER', 'no aad');
    t.notMatch(text, ciphertext.slice(12, 40), 'no ciphertext');
  }
});

t.test('old versions decrypt after rotation', async (t) => {
  const [v1, v2] = masterKeys(1, 2);
  const before = serviceFor([v1!]);
  const old = before.encrypt(CONTEXT, Buffer.from('kept'));
  const after = serviceFor([v1!, v2!]);
  t.equal(after.decrypt(CONTEXT, old).toString(), 'kept', 'version 1 still decrypts');
  t.match(after.encrypt(CONTEXT, Buffer.from('new')), /^agfw:v1:2:/, 'version 2 encrypts');
  const rewrapped = after.rewrap(CONTEXT, old);
  t.match(rewrapped, /^agfw:v1:2:/, 'rewrap uses version 2');
  t.equal(after.decrypt(CONTEXT, rewrapped).toString(), 'kept', 'rewrapped text decrypts');
});

t.test('minimum version enforced', async (t) => {
  const [v1, v2] = masterKeys(1, 2);
  const old = serviceFor([v1!]).encrypt(CONTEXT, Buffer.from('old'));
  const current = serviceFor([v1!, v2!], { minVersion: 2 });
  t.equal(
    codeOf(() => current.decrypt(CONTEXT, old)),
    'crypto_key_version_retired',
    'listed',
  );
  const withoutV1 = serviceFor([v2!], { minVersion: 2 });
  t.equal(
    codeOf(() => withoutV1.decrypt(CONTEXT, old)),
    'crypto_key_version_retired',
    'unlisted',
  );
  t.same(
    current.keys().map((key) => key.state),
    ['active', 'retired'],
  );
});

t.test('unknown version rejected', async (t) => {
  const service = serviceFor(masterKeys(1));
  const ciphertext = service.encrypt(CONTEXT, Buffer.from('x')).replace('agfw:v1:1:', 'agfw:v1:7:');
  t.equal(
    codeOf(() => service.decrypt(CONTEXT, ciphertext)),
    'crypto_key_version_unknown',
  );
});

t.test('key of another keyring rejected', async (t) => {
  const ciphertext = serviceFor(masterKeys(1)).encrypt(CONTEXT, Buffer.from('x'));
  t.equal(
    codeOf(() => serviceFor(masterKeys(1)).decrypt(CONTEXT, ciphertext)),
    'crypto_ciphertext_tampered',
  );
});

t.test('malformed input rejected', async (t) => {
  const service = serviceFor(masterKeys(1));
  const valid = service.encrypt(CONTEXT, Buffer.from('x'));
  for (const text of [
    '',
    'agfw:v1:1:',
    'agfw:v2:1:AAAA',
    'agfw:v1:01:AAAA',
    'agfw:v1:0:AAAA',
    'agfw:v1:99999999999:AAAA',
    'agfw:v1:1:AAAA',
    `${valid}=`,
    valid.replace(/.$/, '+'),
    valid.slice(0, -4),
  ]) {
    t.equal(
      codeOf(() => service.decrypt(CONTEXT, text)),
      'crypto_ciphertext_malformed',
      text,
    );
  }
});

t.test('invalid context and aad rejected', async (t) => {
  const service = serviceFor(masterKeys(1));
  for (const context of ['', 'has space', 'x'.repeat(257), 'naïve', 'tab\there']) {
    t.equal(
      codeOf(() => service.encrypt(context, Buffer.alloc(1))),
      'crypto_invalid_request',
      context,
    );
  }
  t.equal(
    codeOf(() => service.encrypt(CONTEXT, Buffer.alloc(1), Buffer.alloc(4097))),
    'crypto_invalid_request',
    'aad over 4096 bytes',
  );
});

t.test('payload limit enforced', async (t) => {
  const service = serviceFor(masterKeys(1));
  t.equal(
    codeOf(() => service.encrypt(CONTEXT, Buffer.alloc(TEN_MIB + 1))),
    'crypto_payload_too_large',
  );
});

t.test('segments cannot be reordered, dropped or extended', async (t) => {
  const service = serviceFor(masterKeys(1));
  const ciphertext = service.encrypt(CONTEXT, randomBytes(3 * SEGMENT_BYTES + 10));
  const parsed = parseCiphertext(ciphertext, TEN_MIB);
  const [s0, s1, s2, s3] = parsed.segments;
  const variants = {
    swapped: [s1!, s0!, s2!, s3!],
    'last dropped': [s0!, s1!, s2!],
    'middle dropped': [s0!, s2!, s3!],
    duplicated: [s0!, s0!, s1!, s2!, s3!],
  };
  for (const [name, segments] of Object.entries(variants)) {
    const text = formatCiphertext({ ...parsed, segments });
    t.equal(
      codeOf(() => service.decrypt(CONTEXT, text)),
      'crypto_ciphertext_tampered',
      name,
    );
  }
});

t.test('messages counted per version', async (t) => {
  const service = serviceFor(masterKeys(1));
  service.encrypt(CONTEXT, Buffer.alloc(0));
  service.encrypt(CONTEXT, Buffer.alloc(2 * SEGMENT_BYTES + 1));
  t.same(service.keys(), [{ version: 1, state: 'active', messages: 4 }]);
});
