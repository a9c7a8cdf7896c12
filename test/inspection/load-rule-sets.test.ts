import t from 'tap';
import { ConfigError } from '../../src/config/config-error.js';
import {
  createInspector,
  loadRuleSets,
  routeInspectionSchema,
} from '../../src/inspection/index.js';
import { RULESET_DIR, ruleSetDir } from './helpers.js';

const VALID = `description: test set
rules:
  - id: demo-rule
    description: demo
    pattern: 'bad(?:word)?'
    score: 5
`;

t.test('shipped rule sets load frozen', async (t) => {
  const ruleSets = await loadRuleSets(RULESET_DIR);
  t.same(
    ruleSets.map((ruleSet) => ruleSet.id),
    ['command-injection', 'path-traversal', 'prompt-injection', 'sql-injection', 'xss'],
  );
  t.ok(Object.isFrozen(ruleSets));
  t.ok(Object.isFrozen(ruleSets[0]!.rules[0]));
});

t.test('invalid RE2 pattern has file line column', async (t) => {
  const dir = await ruleSetDir({
    'broken.yaml': `description: broken
rules:
  - id: lookahead
    description: RE2 has no lookahead
    pattern: 'foo(?=bar)'
    score: 5
`,
  });
  const error = await loadRuleSets(dir).catch((caught: unknown) => caught);
  t.type(error, ConfigError);
  const [issue] = (error as ConfigError).issues;
  t.match(issue, { line: 5, column: 14, path: 'rules[0].pattern' });
  t.match(issue!.message, /invalid RE2 pattern/);
  t.match((error as ConfigError).message, /broken\.yaml:5:14: rules\[0\]\.pattern: invalid RE2/);
});

t.test('every issue of every file is reported', async (t) => {
  const dir = await ruleSetDir({
    'one.yaml': VALID,
    'two.yaml': `${VALID}  - id: other
    description: both forms
    pattern: x
    phrases: [y]
    score: 200
    colour: red
`,
    'three.yaml': 'description: empty\nrules: []\n',
  });
  const error = (await loadRuleSets(dir).catch((caught: unknown) => caught)) as ConfigError;
  t.type(error, ConfigError);
  const messages = error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  t.ok(
    messages.some((m) => m.includes('rules[1].colour: unknown key')),
    'unknown key',
  );
  t.ok(
    messages.some((m) => m.includes('rules[1].score')),
    'score out of range',
  );
  t.ok(
    messages.some((m) => m.includes('exactly one of pattern or phrases')),
    'both forms',
  );
  t.ok(
    messages.some((m) => m.startsWith('rules:')),
    'empty rule list',
  );
});

t.test('duplicate rule ids across files', async (t) => {
  const dir = await ruleSetDir({ 'one.yaml': VALID, 'two.yaml': VALID });
  const error = (await loadRuleSets(dir).catch((caught: unknown) => caught)) as ConfigError;
  t.match(error.issues[0]!.message, /rule id "demo-rule" is also used in rule set "one"/);
});

t.test('empty-matching pattern is rejected', async (t) => {
  const dir = await ruleSetDir({ 'empty.yaml': VALID.replace("'bad(?:word)?'", "'x*'") });
  const error = (await loadRuleSets(dir).catch((caught: unknown) => caught)) as ConfigError;
  t.match(error.issues[0]!.message, /matches the empty string/);
});

t.test('missing directory is a ConfigError', async (t) => {
  await t.rejects(loadRuleSets('/nonexistent/rulesets'), ConfigError);
});

t.test('catastrophic pattern runs in linear time', async (t) => {
  // (a+)+$ takes exponential time in a backtracking engine on "aaa…ab"; RE2 has no backtracking.
  const dir = await ruleSetDir({
    'redos.yaml': `description: nested quantifier
rules:
  - id: nested-plus
    description: classic ReDoS shape
    pattern: '(a+)+$'
    score: 5
`,
  });
  const ruleSets = await loadRuleSets(dir);
  const inspector = createInspector(ruleSets, routeInspectionSchema.parse({}));
  const hostile = `${'a'.repeat(65_536)}!`;
  const result = inspector.inspect({
    path: '/',
    headers: { 'content-type': 'text/plain' },
    body: hostile,
  });
  t.equal(result.score, 0, 'no match, because the input ends in "!"');
  const matching = inspector.inspect({
    path: '/',
    headers: { 'content-type': 'text/plain' },
    body: 'aaaa',
  });
  t.equal(matching.score, 5);
});
