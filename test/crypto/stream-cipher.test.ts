import { randomBytes } from 'node:crypto';
import t from 'tap';
import { ByteQueue } from '../../src/crypto/byte-queue.js';
import type { EncryptionService } from '../../src/crypto/encryption-service.js';
import { CryptoError, type CryptoErrorCode } from '../../src/crypto/errors.js';
import { SEGMENT_BYTES } from '../../src/crypto/format.js';
import {
  FULL_STREAM_SEGMENT_BYTES,
  STREAM_HEADER_BYTES,
  streamLength,
} from '../../src/crypto/stream-format.js';
import { masterKeys, serviceFor, TEN_MIB } from './fixtures.js';

const CONTEXT = 'file:user_42';
const AAD = Buffer.from('doc:17');

/** Cuts `bytes` into pieces of the given sizes, repeated, as a network would deliver them. */
function chunked(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0, index = 0; offset < bytes.length; index++) {
    const size = sizes[index % sizes.length]!;
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

function encryptStream(
  service: EncryptionService,
  plaintext: Buffer,
  sizes: readonly number[] = [16 * 1024],
  context = CONTEXT,
  aad = AAD,
): Buffer {
  const sealer = service.startEncryptStream(context, aad);
  const parts = [sealer.header];
  for (const chunk of chunked(plaintext, sizes)) parts.push(...sealer.update(chunk));
  parts.push(...sealer.final());
  return Buffer.concat(parts);
}

function decryptStream(
  service: EncryptionService,
  stream: Buffer,
  sizes: readonly number[] = [16 * 1024],
  context = CONTEXT,
  aad = AAD,
): Buffer {
  const opener = service.startDecryptStream(context, aad);
  const parts: Buffer[] = [];
  for (const chunk of chunked(stream, sizes)) parts.push(...opener.update(chunk));
  parts.push(opener.final());
  return Buffer.concat(parts);
}

/** Returns the code of the CryptoError that `operation` raises, or `none`. */
function codeOf(operation: () => unknown): CryptoErrorCode | 'none' | 'other' {
  try {
    operation();
    return 'none';
  } catch (error) {
    return error instanceof CryptoError ? error.code : 'other';
  }
}

t.test('stream round trips', async (t) => {
  const service = serviceFor(masterKeys(1));
  const inputs: [string, number][] = [
    ['empty', 0],
    ['one byte', 1],
    ['one segment exactly', SEGMENT_BYTES],
    ['one byte over a segment', SEGMENT_BYTES + 1],
    ['three segments exactly', 3 * SEGMENT_BYTES],
    ['10 MiB', TEN_MIB],
  ];
  for (const [name, size] of inputs) {
    const plaintext = randomBytes(size);
    for (const sizes of [[1_000], [16 * 1024], [SEGMENT_BYTES + 7, 3]]) {
      if (size > 4 * SEGMENT_BYTES && sizes[0] === 1_000) continue;
      const stream = encryptStream(service, plaintext, sizes);
      t.equal(stream.length, streamLength(size), `${name} in ${sizes[0]}: length`);
      t.ok(stream.subarray(0, 8).equals(Buffer.from('agfw:s1:')), `${name}: magic`);
      const opened = decryptStream(service, stream, sizes);
      t.ok(opened.equals(plaintext), `${name} in chunks of ${sizes.join(', ')}: decrypts`);
    }
  }
});

t.test('stream memory stays bounded', async (t) => {
  const service = serviceFor(masterKeys(1));
  const sealer = service.startEncryptStream(CONTEXT, AAD);
  const opener = service.startDecryptStream(CONTEXT, AAD);
  opener.update(sealer.header);
  let largestOutput = 0;
  const chunk = randomBytes(16 * 1024);
  for (let index = 0; index < 200; index++) {
    for (const segment of sealer.update(chunk)) {
      largestOutput = Math.max(largestOutput, segment.length);
      for (const plaintext of opener.update(segment)) {
        largestOutput = Math.max(largestOutput, plaintext.length);
      }
    }
  }
  t.equal(largestOutput, SEGMENT_BYTES, 'no output is larger than the ciphertext of a segment');
});

t.test('stream header names the version', async (t) => {
  const [v1, v2] = masterKeys(1, 2);
  const old = encryptStream(serviceFor([v1!]), Buffer.from('kept'));
  const rotated = serviceFor([v1!, v2!]);
  t.equal(old.readUInt32BE(8), 1, 'version 1 in the header');
  t.equal(decryptStream(rotated, old).toString(), 'kept', 'version 1 decrypts after rotation');
  t.equal(encryptStream(rotated, Buffer.from('new')).readUInt32BE(8), 2, 'version 2 encrypts');
  const retired = serviceFor([v1!, v2!], { minVersion: 2 });
  t.equal(
    codeOf(() => decryptStream(retired, old)),
    'crypto_key_version_retired',
  );
  t.equal(
    codeOf(() => decryptStream(serviceFor([v2!]), old)),
    'crypto_key_version_unknown',
    'a version without a key',
  );
});

t.test('stream cut at a boundary is truncated', async (t) => {
  const service = serviceFor(masterKeys(1));
  const stream = encryptStream(service, randomBytes(3 * SEGMENT_BYTES + 100));
  for (const kept of [1, 2, 3]) {
    const cut = stream.subarray(0, STREAM_HEADER_BYTES + kept * FULL_STREAM_SEGMENT_BYTES);
    t.equal(
      codeOf(() => decryptStream(service, cut)),
      'crypto_ciphertext_truncated',
      `${kept} of 4 segments`,
    );
  }
});

t.test('stream cut inside a segment rejected', async (t) => {
  const service = serviceFor(masterKeys(1));
  const stream = encryptStream(service, randomBytes(2 * SEGMENT_BYTES + 100));
  const cuts: [string, number, CryptoErrorCode][] = [
    ['nothing', 0, 'crypto_ciphertext_malformed'],
    ['inside the header', STREAM_HEADER_BYTES - 1, 'crypto_ciphertext_malformed'],
    ['header only', STREAM_HEADER_BYTES, 'crypto_ciphertext_malformed'],
    ['inside segment 0', STREAM_HEADER_BYTES + 1000, 'crypto_ciphertext_tampered'],
    [
      'a few bytes of segment 1',
      STREAM_HEADER_BYTES + FULL_STREAM_SEGMENT_BYTES + 5,
      'crypto_ciphertext_malformed',
    ],
    ['inside the last segment', stream.length - 1, 'crypto_ciphertext_tampered'],
  ];
  for (const [name, length, code] of cuts) {
    t.equal(
      codeOf(() => decryptStream(service, stream.subarray(0, length))),
      code,
      name,
    );
  }
});

t.test('stream segments cannot move', async (t) => {
  const service = serviceFor(masterKeys(1));
  const stream = encryptStream(service, randomBytes(3 * SEGMENT_BYTES + 10));
  const header = stream.subarray(0, STREAM_HEADER_BYTES);
  const segment = (index: number) =>
    stream.subarray(
      STREAM_HEADER_BYTES + index * FULL_STREAM_SEGMENT_BYTES,
      STREAM_HEADER_BYTES + (index + 1) * FULL_STREAM_SEGMENT_BYTES,
    );
  const variants: Record<string, Buffer[]> = {
    'segments 1 and 2 swapped': [header, segment(0), segment(2), segment(1), segment(3)],
    'segment 1 dropped': [header, segment(0), segment(2), segment(3)],
    'segment 1 repeated': [header, segment(0), segment(1), segment(1), segment(2), segment(3)],
    'a segment appended': [stream, segment(1)],
  };
  for (const [name, parts] of Object.entries(variants)) {
    t.equal(
      codeOf(() => decryptStream(service, Buffer.concat(parts))),
      'crypto_ciphertext_tampered',
      name,
    );
  }
});

t.test('every stream header bit flip rejected', async (t) => {
  const service = serviceFor(masterKeys(1, 2), { encryptVersion: 1 });
  const stream = encryptStream(service, Buffer.from('small secret'));
  const codes = new Map<string, number>();
  // The header and the first nonce are checked before any segment.
  for (let bit = 0; bit < (STREAM_HEADER_BYTES + 12) * 8; bit++) {
    const flipped = Buffer.from(stream);
    flipped[bit >> 3]! ^= 1 << (bit & 7);
    const code = codeOf(() => decryptStream(service, flipped));
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  t.notOk(codes.has('none'), 'no flip decrypts');
  t.notOk(codes.has('other'), 'every flip raises a CryptoError');
  t.notOk(codes.has('crypto_context_mismatch'), 'no flip passes for a wrong context');
  t.notOk(codes.has('crypto_aad_mismatch'), 'no flip passes for a wrong aad');
  t.ok((codes.get('crypto_ciphertext_tampered') ?? 0) > 0, 'flips are tampering');
});

t.test('stream context and aad checked', async (t) => {
  const service = serviceFor(masterKeys(1));
  const stream = encryptStream(service, Buffer.from('PLAINTEXT-MARKER'));
  t.equal(
    codeOf(() => decryptStream(service, stream, [16 * 1024], 'file:user_43')),
    'crypto_context_mismatch',
  );
  t.equal(
    codeOf(() => decryptStream(service, stream, [16 * 1024], CONTEXT, Buffer.from('doc:18'))),
    'crypto_aad_mismatch',
  );
  try {
    decryptStream(service, stream, [16 * 1024], 'file:user_43');
  } catch (error) {
    t.notMatch(String((error as Error).message), 'PLAINTEXT-MARKER', 'no plaintext in the error');
  }
});

t.test('text and stream forms stay apart', async (t) => {
  const service = serviceFor(masterKeys(1));
  const text = service.encrypt(CONTEXT, Buffer.from('x'), AAD);
  t.equal(
    codeOf(() => decryptStream(service, Buffer.from(text))),
    'crypto_ciphertext_malformed',
    'a text ciphertext is not a stream',
  );
  const stream = encryptStream(service, Buffer.from('x'));
  t.equal(
    codeOf(() => service.decrypt(CONTEXT, stream.toString('latin1'), AAD)),
    'crypto_ciphertext_malformed',
    'a stream is not a text ciphertext',
  );
});

t.test('stream payload limits', async (t) => {
  const service = serviceFor(masterKeys(1));
  const sealer = service.startEncryptStream(CONTEXT, AAD);
  const chunk = Buffer.alloc(1024 * 1024);
  const code = codeOf(() => {
    for (let index = 0; index <= 10; index++) sealer.update(chunk);
  });
  t.equal(code, 'crypto_payload_too_large', 'encryption stops past max_payload_bytes');
  const opener = service.startDecryptStream(CONTEXT, AAD);
  const tooLong = Buffer.alloc(streamLength(TEN_MIB) + 1);
  tooLong.write('agfw:s1:');
  tooLong.writeUInt32BE(1, 8);
  t.equal(
    codeOf(() => opener.update(tooLong)),
    'crypto_payload_too_large',
    'decryption stops past the longest stream',
  );
});

t.test('stream messages counted', async (t) => {
  const service = serviceFor(masterKeys(1));
  encryptStream(service, Buffer.alloc(0));
  encryptStream(service, Buffer.alloc(2 * SEGMENT_BYTES + 1));
  t.same(service.keys(), [{ version: 1, state: 'active', messages: 4 }]);
});

t.test('byte queue pieces', async (t) => {
  const queue = new ByteQueue();
  queue.push(Buffer.from('abc'));
  queue.push(Buffer.alloc(0));
  queue.push(Buffer.from('defg'));
  t.equal(queue.length, 7);
  t.equal(queue.peek(4).toString(), 'abcd', 'peek spans chunks');
  t.equal(queue.length, 7, 'peek leaves the bytes');
  t.equal(queue.take(2).toString(), 'ab');
  t.equal(queue.take(3).toString(), 'cde', 'take spans chunks');
  t.throws(() => queue.take(3), RangeError, 'more than queued');
  t.equal(queue.takeAll().toString(), 'fg');
  t.equal(queue.length, 0);
});
