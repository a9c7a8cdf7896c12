import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  compileLeakagePolicy,
  LeakagePolicyError,
  leakagePolicySchema,
} from '../../src/leakage/index.js';
import { policyOf, runTransform } from './helpers.js';

function issues(input: unknown): string[] {
  const result = leakagePolicySchema.safeParse(input);
  return result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

t.test('defaults', async (t) => {
  const policy = leakagePolicySchema.parse({});
  t.equal(policy.enabled, true);
  t.equal(policy.limits.max_scanned_size, 1_048_576);
  t.equal(policy.limits.max_hold_back, 65_536);
  t.equal(policy.limits.beyond_scanned_size, 'block');
  const compiled = compileLeakagePolicy(policy);
  t.ok(compiled.detectors.length > 30, 'every built-in detector is on');
  t.ok(compiled.detectors.every(({ action }) => action === 'redact'));
});

t.test('detector settings by id, kind and group', async (t) => {
  const compiled = policyOf({
    detectors: { personal: 'flag', email: 'off', 'aws-access-key-id': 'block', secrets: 'redact' },
  });
  const action = (id: string) =>
    compiled.detectors.find(({ detector }) => detector.id === id)?.action;
  t.equal(action('email'), undefined, 'off removes the detector');
  t.equal(action('payment-card'), 'flag', 'group setting');
  t.equal(action('aws-access-key-id'), 'block', 'id wins over group');
  t.equal(action('aws-secret-access-key'), 'redact');
});

t.test('flag reports without changing the text', async (t) => {
  const run = await runTransform(
    policyOf({ detectors: { all: 'flag' } }),
    { 'content-type': 'text/plain' },
    ['mail jane.doe@fake-mail.test'],
  );
  t.equal(run.output.toString(), 'mail jane.doe@fake-mail.test');
  t.equal(run.detections[0]?.action, 'flag');
});

t.test('schema rejects invalid input with a reason', async (t) => {
  t.match(issues({ detectors: { email: 'hide' } }).join(), /detectors\.email/);
  t.match(issues({ custom_patterns: [{ id: 'x', pattern: 'ab+' }] }).join(), /unbounded/);
  t.match(issues({ custom_patterns: [{ id: 'x', pattern: 'a(' }] }).join(), /invalid pattern/);
  t.match(issues({ custom_patterns: [{ id: 'x', pattern: 'a?' }] }).join(), /empty string/);
  t.match(issues({ custom_patterns: [{ id: 'x', pattern: 'a(?i)b' }] }).join(), /inline flags/);
  t.match(issues({ canaries: { values: ['short'] } }).join(), /at least 8/);
  t.match(
    issues({ system_prompt: { text: 'a', file: 'b' } }).join(),
    /exactly one of text or file/,
  );
  t.match(issues({ limits: { max_scanned_size: '10' } }).join(), /invalid size/);
  t.match(issues({ unknown: true }).join(), /unrecognized key/i);
});

t.test('compile rejects unknown names, duplicate ids and long patterns', async (t) => {
  const parse = (input: unknown) => leakagePolicySchema.parse(input);
  t.throws(
    () => compileLeakagePolicy(parse({ detectors: { emails: 'off' } })),
    /unknown detector "emails"/,
  );
  try {
    compileLeakagePolicy(parse({ detectors: { emails: 'off' } }));
  } catch (error) {
    t.ok(error instanceof LeakagePolicyError, 'raises LeakagePolicyError');
  }
  t.throws(
    () => compileLeakagePolicy(parse({ custom_patterns: [{ id: 'email', pattern: 'x{1,9}' }] })),
    /used twice/,
  );
  t.throws(
    () =>
      compileLeakagePolicy(
        parse({
          limits: { max_hold_back: '100B' },
          custom_patterns: [{ id: 'c', pattern: 'x{1,9}' }],
        }),
      ),
    /max_hold_back/,
  );
});

t.test('custom patterns and literal lists run on re2', async (t) => {
  const policy = policyOf({
    custom_patterns: [{ id: 'ticket', kind: 'ticket', pattern: 'TCK-[0-9]{6}', action: 'redact' }],
    literals: [
      { id: 'codenames', kind: 'codename', values: ['Project Nightjar'], case_sensitive: false },
    ],
  });
  const run = await runTransform(policy, { 'content-type': 'text/plain' }, [
    'see TCK-123456 about project NIGHTJAR.',
  ]);
  t.equal(run.output.toString(), 'see [REDACTED:ticket] about [REDACTED:codename].');
});

t.test('system prompt from a file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'leakage-'));
  writeFileSync(
    join(dir, 'prompt.txt'),
    'alpha beta gamma delta epsilon zeta eta theta iota kappa',
  );
  const compiled = compileLeakagePolicy(
    leakagePolicySchema.parse({ system_prompt: { file: 'prompt.txt' } }),
    {
      baseDir: dir,
    },
  );
  t.ok(compiled.detectors.some(({ detector }) => detector.id === 'system-prompt'));
  t.throws(
    () =>
      compileLeakagePolicy(leakagePolicySchema.parse({ system_prompt: { file: 'missing.txt' } }), {
        baseDir: dir,
      }),
    /cannot read/,
  );
});

t.test('disabled policy passes everything', async (t) => {
  const run = await runTransform(policyOf({ enabled: false }), { 'content-type': 'text/plain' }, [
    'ghp_FAKEfake0123456789FAKEfake0123456789',
  ]);
  t.equal(run.output.toString(), 'ghp_FAKEfake0123456789FAKEfake0123456789');
});
