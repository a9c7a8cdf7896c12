import path from 'node:path';
import t from 'tap';
import type { AlertEvent } from '../../src/alerts/event.js';
import { groupKeyText, groupValuesOf } from '../../src/alerts/rule.js';
import { loadPolicies } from '../../src/policy/load-policies.js';
import { issuesOf } from '../helpers/config-issues.js';

const ROUTES = `version: 1
routes:
  - name: query
    match: { path: /q }
    auth: none
`;

const CONTEXT = { issuerNames: new Set<string>(), webhookNames: new Set(['soc']) };

function event(overrides: Partial<AlertEvent> = {}): AlertEvent {
  return {
    id: 'e1',
    time: '2026-01-01T00:00:00.000Z',
    type: 'request_rejected',
    severity: 'medium',
    route: 'query',
    client_ip: '203.0.113.7',
    subject: undefined,
    session: undefined,
    rules: undefined,
    detail: { code: 'unauthorized' },
    ...overrides,
  };
}

t.test('valid rules compile', async (t) => {
  const dir = t.testdir({
    'routes.yaml': `${ROUTES}alerts:
  rules:
    - name: auth-burst
      match: { types: [request_rejected], codes: [unauthorized], min_severity: medium }
      exempt: { cidrs: [loopback] }
      threshold: 20
      window: 1m
      actions:
        - { type: log }
        - { type: webhook, webhook: soc }
        - { type: block, duration: 15m }
    - name: leak
      match: { detectors: [aws_access_key], routes: [query, none] }
      group_by: [subject, route]
      threshold: 1
      window: 1h
      cooldown: 5m
      actions: [{ type: block, duration: 1h, status: 403, target: subject }]
  detections:
    token_shared: { max_addresses: 2 }
    many_subjects: {}
`,
  });
  const snapshot = await loadPolicies(dir, CONTEXT);
  const [burst, leak] = snapshot.alerts.rules;
  t.equal(burst?.name, 'auth-burst');
  t.equal(burst?.cooldownMs, 60_000, 'cooldown defaults to the window');
  t.same(burst?.groupBy, ['client_ip']);
  t.same(burst?.actions[2], { type: 'block', kind: 'client_ip', durationMs: 900_000, status: 429 });
  t.same(leak?.actions[0], { type: 'block', kind: 'subject', durationMs: 3_600_000, status: 403 });
  t.same(snapshot.alerts.detections.tokenShared, {
    max_addresses: 2,
    max_user_agents: 3,
    window: 600_000,
  });
  t.same(snapshot.alerts.detections.manySubjects, { max_subjects: 5, window: 600_000 });

  t.ok(burst?.matches(event()), 'an unauthorized rejection matches');
  t.notOk(burst?.matches(event({ detail: { code: 'forbidden' } })), 'another code does not');
  t.notOk(burst?.matches(event({ severity: 'low' })), 'a lower severity does not');
  t.notOk(burst?.matches(event({ client_ip: '127.0.0.1' })), 'an exempt address does not');
  t.notOk(burst?.matches(event({ type: 'injection_detected' })), 'another type does not');
  const leakEvent = event({ type: 'response_leak', rules: ['aws_access_key'], detail: {} });
  t.ok(leak?.matches(leakEvent), 'a leak of the detector matches');
  t.notOk(leak?.matches({ ...leakEvent, route: 'other' }), 'another route does not');
  t.notOk(
    leak?.matches(event({ type: 'injection_detected', rules: ['aws_access_key'] })),
    'detectors match leaks only',
  );
});

t.test('group keys', async (t) => {
  t.same(groupValuesOf(event(), ['client_ip', 'route']), {
    client_ip: '203.0.113.7',
    route: 'query',
  });
  t.equal(
    groupKeyText({ client_ip: '203.0.113.7', route: 'query' }),
    'client_ip=203.0.113.7|route=query',
  );
  t.equal(groupValuesOf(event(), ['subject']), undefined, 'no subject, no key');
});

t.test('unchanged rule keeps its fingerprint', async (t) => {
  const rule = (threshold: number, actions: string) => `${ROUTES}alerts:
  rules:
    - name: burst
      threshold: ${threshold}
      window: 1m
      actions: [${actions}]
`;
  const load = async (text: string) =>
    (await loadPolicies(t.testdir({ 'routes.yaml': text }), CONTEXT)).alerts.rules[0]!.fingerprint;
  const original = await load(rule(5, '{ type: log }'));
  t.equal(await load(rule(5, '{ type: log }, { type: block, duration: 1m }')), original);
  t.not(await load(rule(6, '{ type: log }')), original, 'a new threshold starts a new window');
});

t.test('invalid rules are reported where they are', async (t) => {
  const dir = t.testdir({
    'routes.yaml': `${ROUTES}alerts:
  rules:
    - name: Bad Name
      match: { codes: [no_such_code], types: [made_up] }
      threshold: 0
      window: 1
      actions: []
    - name: two
      match: { routes: [missing] }
      group_by: [client_ip, subject]
      threshold: 3
      window: 1m
      actions:
        - { type: block, duration: 1m }
        - { type: webhook, webhook: pager }
    - name: three
      threshold: 3
      window: 1m
      actions: [{ type: page }]
`,
  });
  const file = path.join(dir, 'routes.yaml');
  const issues = await issuesOf(t, loadPolicies(dir, CONTEXT));
  const byPath = new Map(issues.map((issue) => [issue.path, issue]));
  t.match(byPath.get('alerts.rules[0].name'), { file, line: 8, message: /1-64 characters/ });
  t.match(byPath.get('alerts.rules[0].match.codes[0]'), {
    line: 9,
    message: /error code of docs\/errors.md/,
  });
  t.match(byPath.get('alerts.rules[0].match.types[0]'), { line: 9 });
  t.match(byPath.get('alerts.rules[0].threshold'), { line: 10 });
  t.match(byPath.get('alerts.rules[0].window'), { line: 11, message: /invalid duration/ });
  t.match(byPath.get('alerts.rules[0].actions'), { line: 12 });
  t.match(byPath.get('alerts.rules[1].actions[0]'), {
    line: 19,
    message: /set target to one of client_ip, subject/,
  });
  t.match(byPath.get('alerts.rules[2].actions[0].type'), { line: 24 });
});

t.test('names are checked across files', async (t) => {
  const rules = `alerts:
  rules:
    - name: burst
      threshold: 3
      window: 1m
      actions: [{ type: webhook, webhook: pager }]
`;
  const dir = t.testdir({
    'a.yaml': `${ROUTES}${rules}`,
    'b.yaml': `version: 1\n${rules}  detections:\n    many_subjects: {}\n`,
    'c.yaml': 'version: 1\nalerts:\n  detections:\n    many_subjects: {}\n',
  });
  const issues = await issuesOf(t, loadPolicies(dir, CONTEXT));
  const messages = issues.map(
    (issue) => `${path.basename(issue.file)} ${issue.path}: ${issue.message}`,
  );
  t.ok(
    messages.includes(
      'a.yaml alerts.rules[0].actions[0].webhook: ' +
        'no webhook is named "pager" in the gateway\'s alerts.webhooks',
    ),
    'unknown webhook',
  );
  t.ok(
    messages.some((text) =>
      text.startsWith(
        'b.yaml alerts.rules[0].name: duplicate alert rule "burst", first declared at',
      ),
    ),
    'duplicate rule name',
  );
  t.ok(
    messages.some((text) =>
      text.startsWith(
        'c.yaml alerts.detections.many_subjects: detection many_subjects is already set at',
      ),
    ),
    'detection set twice',
  );
});

t.test('webhook names are not checked without a configuration', async (t) => {
  const dir = t.testdir({
    'routes.yaml': `${ROUTES}alerts:
  rules:
    - name: burst
      threshold: 3
      window: 1m
      actions: [{ type: webhook, webhook: anything }]
`,
  });
  const snapshot = await loadPolicies(dir);
  t.equal(snapshot.alerts.rules.length, 1);
});
