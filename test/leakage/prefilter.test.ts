import fc from 'fast-check';
import t from 'tap';
import { TextScanner, type ActiveDetector, type Detection } from '../../src/leakage/index.js';
import { prefilterFor } from '../../src/leakage/engine/prefilter.js';
import { nonEmptyPrefixPattern, prefixPattern } from '../../src/leakage/regex/prefix.js';
import { parseRegex } from '../../src/leakage/regex/syntax.js';
import RE2 from 're2';
import { fakeJwt, ibanOf, policyOf, withLuhnDigit } from './helpers.js';

const policy = policyOf({
  canaries: { values: ['CANARY-fake-7d3e'], action: 'redact' },
  system_prompt: {
    text: 'You are the fake assistant for testing the leakage scanner of the gateway only.',
    action: 'redact',
  },
  custom_patterns: [{ id: 'ticket', pattern: '(?i)tck-[0-9]{6,10}' }],
  literals: [{ id: 'hosts', values: ['db01.corp.internal'], case_sensitive: false }],
});

const secret = 'ghp_FAKEfake0123456789FAKEfake0123456789';

/** Scans `chunks` as one stream; returns the output and the detections in order. */
function scan(
  detectors: readonly ActiveDetector[],
  chunks: readonly string[],
  prefilter: boolean,
): { output: string; detections: Detection[] } {
  const detections: Detection[] = [];
  const scanner = new TextScanner(detectors, {
    maxHoldBack: 65_536,
    prefilter,
    onDetection: (detection) => detections.push(detection),
  });
  const spans = [...chunks.flatMap((chunk) => scanner.push(chunk)), ...scanner.end()];
  return { output: spans.map((span) => span.text).join(''), detections };
}

t.test('prefilter builds for the policies', async (t) => {
  t.ok(prefilterFor(policyOf().detectors), 'the default policy');
  t.ok(prefilterFor(policy.detectors), 'with canaries, a prompt, patterns and literals');
});

t.test('non-empty prefixes exclude the empty string', async (t) => {
  for (const source of ['KEY-[0-9]{4}', '(?:ab|a[cd]){1,2}e?', '\\bfoo\\b', 'x{2,3}y']) {
    const root = parseRegex(source).root;
    const nonEmpty = new RE2(`^(?:${nonEmptyPrefixPattern(root)})$`);
    const all = new RE2(`^(?:${prefixPattern(root)})$`);
    t.notOk(nonEmpty.test(''), `${source}: not the empty string`);
    for (const text of ['K', 'KEY-1', 'a', 'ab', 'abac', 'foo', 'xx', 'xxxy']) {
      if (all.test(text)) t.ok(nonEmpty.test(text), `${source}: "${text}" is still a prefix`);
    }
  }
});

t.test('pending start is kept with the prefilter', async (t) => {
  const scanner = new TextScanner(policy.detectors, { maxHoldBack: 65_536 });
  const released = scanner.push('Hello there, the key is ghp_FAKE').map((span) => span.text);
  t.equal(released.join(''), 'Hello there, the key is ', 'only the start of the token is held');
  const rest = [...scanner.push('fake0123456789FAKEfake0123456789 ok'), ...scanner.end()];
  t.equal(rest.map((span) => span.text).join(''), '[REDACTED:github] ok');
});

const fragments = fc.constantFrom(
  'hello ',
  'world, ',
  '😀 ',
  'the ',
  'password = "Zf3D0LXCM3EIMbgJpUNnkRtO" ',
  `${secret} `,
  'AKIAFAKEKEY2345TEST7 ',
  'jane.doe@fake-mail.test ',
  `${withLuhnDigit('400000000000000')} `,
  `${ibanOf('DE', '100100100123456789')} `,
  '+49 30 12345678 ',
  '0216 123 45 67 ',
  '123-45-6789 ',
  `${fakeJwt()} `,
  'CANARY-fake-7d3e ',
  'TCK-1234567 ',
  'DB01.corp.internal ',
  'you are the fake assistant for testing the leakage scanner of the ',
  '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY----- ',
  'AKIA',
  'ghp_',
  '-----BEGIN ',
  '4000 ',
);

t.test('prefilter gives the same output and detections', async (t) => {
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
        const on = scan(policy.detectors, chunks, true);
        const off = scan(policy.detectors, chunks, false);
        return (
          on.output === off.output &&
          JSON.stringify(on.detections) === JSON.stringify(off.detections)
        );
      },
    ),
    { numRuns: 300 },
  );
  t.pass('300 random texts and chunkings agree');
});
