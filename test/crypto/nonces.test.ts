import { randomBytes } from 'node:crypto';
import t from 'tap';
import { sealMessage } from '../../src/crypto/message-cipher.js';

const ENCRYPTIONS = 1_000_000;

// The loop takes tens of seconds, close to the default 60 s file timeout on a loaded machine.
t.setTimeout(300_000);

t.test('nonces unique over a million messages', { timeout: 300_000 }, async (t) => {
  const keys = { version: 1, contextKey: randomBytes(32), integrityKey: randomBytes(32) };
  const plaintext = Buffer.from('x');
  const aad = Buffer.alloc(0);
  // The first 52 bits of each nonce as a number keep the set near 1,000,000 small numbers. Two
  // distinct random nonces share those bits with probability about 1e12 / 2^53, near 1e-4 per
  // run, so a rare failure here needs a rerun before it means anything.
  const seen = new Set<number>();
  let repeats = 0;
  for (let index = 0; index < ENCRYPTIONS; index++) {
    const nonce = sealMessage(keys, 'ctx', plaintext, aad).segments[0]!.nonce;
    const prefix = nonce.readUIntBE(0, 6) * 16 + (nonce[6]! >> 4);
    if (seen.has(prefix)) repeats++;
    seen.add(prefix);
  }
  t.equal(seen.size, ENCRYPTIONS, 'every nonce prefix is new');
  t.equal(repeats, 0, 'no repeats');
});
