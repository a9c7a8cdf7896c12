import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import t from 'tap';
import { deriveContextKey } from '../../src/crypto/key-derivation.js';

const hex = (text: string) => Buffer.from(text, 'hex');

// RFC 5869, appendix A.1 (test case 1: basic test case with SHA-256).
t.test('HKDF-SHA256 RFC 5869 case 1', async (t) => {
  const ikm = hex('0b'.repeat(22));
  const salt = hex('000102030405060708090a0b0c');
  const info = hex('f0f1f2f3f4f5f6f7f8f9');
  const okm = Buffer.from(hkdfSync('sha256', ikm, salt, info, 42));
  t.equal(
    okm.toString('hex'),
    '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
  );
});

// With an empty salt, RFC 5869 section 2.2 uses HashLen zero bytes; RFC 5869 appendix A.3
// (test case 3) checks that case.
t.test('HKDF-SHA256 RFC 5869 case 3', async (t) => {
  const okm = Buffer.from(hkdfSync('sha256', hex('0b'.repeat(22)), Buffer.alloc(0), '', 42));
  t.equal(
    okm.toString('hex'),
    '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
  );
});

t.test('context key uses HKDF with its info', async (t) => {
  const master = Buffer.alloc(32, 7);
  const expected = Buffer.from(
    hkdfSync('sha256', master, Buffer.alloc(0), 'agfw:v1:context:file:user_42', 32),
  );
  t.ok(deriveContextKey(master, 'file:user_42').equals(expected));
  t.notOk(deriveContextKey(master, 'file:user_43').equals(expected), 'other context, other key');
});

/**
 * AES-256-GCM test cases 13, 14 and 16 of "The Galois/Counter Mode of Operation (GCM)"
 * (McGrew and Viega), the specification submitted to NIST, whose vectors NIST publishes with it.
 */
const GCM_VECTORS = [
  {
    name: 'case 13: empty plaintext',
    key: '00'.repeat(32),
    iv: '00'.repeat(12),
    plaintext: '',
    aad: '',
    ciphertext: '',
    tag: '530f8afbc74536b9a963b4f1c4cb738b',
  },
  {
    name: 'case 14: one zero block',
    key: '00'.repeat(32),
    iv: '00'.repeat(12),
    plaintext: '00'.repeat(16),
    aad: '',
    ciphertext: 'cea7403d4d606b6e074ec5d3baf39d18',
    tag: 'd0d1c8a799996bf0265b98b5d48ab919',
  },
  {
    name: 'case 16: with aad',
    key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
    iv: 'cafebabefacedbaddecaf888',
    plaintext:
      'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
      '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    ciphertext:
      '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa' +
      '8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
];

for (const vector of GCM_VECTORS) {
  t.test(`AES-256-GCM ${vector.name}`, async (t) => {
    const cipher = createCipheriv('aes-256-gcm', hex(vector.key), hex(vector.iv));
    cipher.setAAD(hex(vector.aad));
    const ciphertext = Buffer.concat([cipher.update(hex(vector.plaintext)), cipher.final()]);
    t.equal(ciphertext.toString('hex'), vector.ciphertext, 'ciphertext');
    t.equal(cipher.getAuthTag().toString('hex'), vector.tag, 'tag');

    const decipher = createDecipheriv('aes-256-gcm', hex(vector.key), hex(vector.iv));
    decipher.setAAD(hex(vector.aad));
    decipher.setAuthTag(hex(vector.tag));
    const plaintext = Buffer.concat([decipher.update(hex(vector.ciphertext)), decipher.final()]);
    t.equal(plaintext.toString('hex'), vector.plaintext, 'plaintext');
  });
}
