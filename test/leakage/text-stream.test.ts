import fc from 'fast-check';
import t from 'tap';
import { TextScanner } from '../../src/leakage/index.js';
import { chunksOf, fakeJwt, ibanOf, policyOf, runTransform, withLuhnDigit } from './helpers.js';

const policy = policyOf({
  canaries: { values: ['CANARY-fake-7d3e'], action: 'redact' },
  system_prompt: {
    text: 'You are the fake assistant for testing the leakage scanner of the gateway only.',
    action: 'redact',
  },
});
const TEXT = { 'content-type': 'text/plain; charset=utf-8' };

const secret = 'ghp_FAKEfake0123456789FAKEfake0123456789';

function scanChunks(chunks: readonly string[]): string {
  const scanner = new TextScanner(policy.detectors, { maxHoldBack: 65_536 });
  let output = '';
  for (const chunk of chunks)
    output += scanner
      .push(chunk)
      .map((span) => span.text)
      .join('');
  return (
    output +
    scanner
      .end()
      .map((span) => span.text)
      .join('')
  );
}

t.test('secret split across two chunks is redacted', async (t) => {
  const text = `token ${secret} end`;
  for (let cut = 1; cut < text.length; cut += 1) {
    const run = await runTransform(policy, TEXT, [text.slice(0, cut), text.slice(cut)]);
    t.equal(run.output.toString(), 'token [REDACTED:github] end', `cut at ${cut}`);
  }
});

t.test('text before a possible match is released at once', async (t) => {
  const scanner = new TextScanner(policy.detectors, { maxHoldBack: 65_536 });
  const released = scanner.push('Hello there, the key is ghp_FAKE').map((span) => span.text);
  t.equal(released.join(''), 'Hello there, the key is ', 'only the start of the token is held');
  const rest = [...scanner.push('fake0123456789FAKEfake0123456789 ok'), ...scanner.end()];
  t.equal(rest.map((span) => span.text).join(''), '[REDACTED:github] ok');
});

t.test('credential name is sent before its value', async (t) => {
  const scanner = new TextScanner(policy.detectors, { maxHoldBack: 65_536 });
  const first = scanner.push('the workspace token ').map((span) => span.text);
  t.equal(first.join(''), 'the workspace token ', 'a name with no separator yet');
  const second = scanner.push('= "Zf3D0LX').map((span) => span.text);
  t.equal(second.join(''), '=', 'the text up to the separator');
  const rest = [...scanner.push('CM3EIMbgJpUNnkRtO" ok'), ...scanner.end()];
  t.equal(rest.map((span) => span.text).join(''), ' "[REDACTED:generic_secret]" ok');
});

t.test('short numbers are not held', async (t) => {
  // No card starts with a group of fewer than four digits, and no national phone number with a
  // group of two, so these tails cannot begin a match and must not wait for the next chunk.
  for (const text of ['uses Node.js 20 ', 'as PostgreSQL, S3 ', 'with TLS 1.2 ', 'page 7 ']) {
    const scanner = new TextScanner(policy.detectors, { maxHoldBack: 65_536 });
    const released = scanner.push(text).map((span) => span.text);
    t.equal(released.join(''), text, text);
  }
});

t.test('possible number starts are held', async (t) => {
  // `429 ` may begin `429 55 1234` (an SSN) and `4111 ` a card, so both wait for more text.
  for (const [text, held] of [
    ['status 429 ', '429 '],
    ['card 4111 ', '4111 '],
    ['call 030 ', '030 '],
  ] as const) {
    const scanner = new TextScanner(policy.detectors, { maxHoldBack: 65_536 });
    const released = scanner.push(text).map((span) => span.text);
    t.equal(released.join(''), text.slice(0, -held.length), text);
  }
});

t.test('utf-8 split inside a character survives', async (t) => {
  const bytes = Buffer.from('Grüße 😀 und ghp_FAKEfake0123456789FAKEfake0123456789');
  const chunks = [...bytes].map((byte) => Buffer.from([byte]));
  const run = await runTransform(policy, TEXT, chunks);
  t.equal(run.output.toString(), 'Grüße 😀 und [REDACTED:github]');
});

/** Text made of clean words and planted fake secrets of several detectors. */
const fragments = fc.constantFrom(
  'hello ',
  'world, ',
  '😀 ',
  'the ',
  'password = "Zf3D0LXCM3EIMbgJpUNnkRtO" ',
  'api_key: Qm7xV2pL9zR4tK8wN3cB ',
  'Authorization: Bearer Zf3D0LXCM3EIMbgJpUNnkRtO ',
  'curl -u admin:Zf3D0LXCM3q ',
  '"client_secret" , "Qm7xV2pL9zR4tK8wN3cB" ',
  'token ',
  '= ',
  ': ',
  'Zf3D0LXCM3EIMbgJpUNnkRtO ',
  `${secret} `,
  'AKIAFAKEKEY2345TEST7 ',
  'jane.doe@fake-mail.test ',
  `${withLuhnDigit('400000000000000')} `,
  `${ibanOf('DE', '100100100123456789')} `,
  '+49 30 12345678 ',
  '0216 123 45 67 ',
  '(212) 555-0143 ',
  'tel 05321234567 ',
  '0 ',
  '12 ',
  '123-45-6789 ',
  `${fakeJwt()} `,
  'CANARY-fake-7d3e ',
  'you are the fake assistant for testing the leakage scanner of the ',
  'AKIA',
  'ghp_',
  '4000 ',
);

t.test('any chunking gives the same output as one chunk', async (t) => {
  fc.assert(
    fc.property(
      fc.array(fragments, { minLength: 1, maxLength: 40 }),
      fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 60 }),
      (parts, sizes) => {
        const text = parts.join('');
        const chunks: string[] = [];
        let index = 0;
        for (let step = 0; index < text.length; step += 1) {
          const size = sizes[step % sizes.length]!;
          chunks.push(text.slice(index, index + size));
          index += size;
        }
        return scanChunks(chunks) === scanChunks([text]);
      },
    ),
    { numRuns: 300 },
  );
  t.pass('300 random texts and chunkings agree');
});

t.test('one-character chunks match the whole text', async (t) => {
  const text = `a ${secret}, b ${fakeJwt()} c jane.doe@fake-mail.test d`;
  t.equal(scanChunks(chunksOf(text, 1)), scanChunks([text]));
  t.equal(scanChunks([text]), 'a [REDACTED:github], b [REDACTED:jwt] c [REDACTED:email] d');
});
