import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { alertingRules, loadDashboard, RULE_TESTS_FILE } from './promql.js';

const OPERATIONS_DOC = 'docs/operations.md';
const RUNBOOK_URL = /^docs\/operations\.md#([a-z0-9-]+)$/;
const DASHBOARD_ROWS = [
  'Traffic',
  'Errors',
  'Latency',
  'Authentication',
  'Rate limiting',
  'Revocation',
  'Inspection',
  'Leak detection',
];

/** Returns the anchor GitHub gives a Markdown heading: lower case, punctuation dropped. */
function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');
}

function operationsAnchors(): Set<string> {
  const anchors = new Set<string>();
  for (const line of readFileSync(OPERATIONS_DOC, 'utf8').split('\n')) {
    const heading = /^#{1,6} (.+)$/.exec(line)?.[1];
    if (heading !== undefined) anchors.add(headingAnchor(heading));
  }
  return anchors;
}

interface RuleTestFile {
  tests: {
    name: string;
    alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[];
  }[];
}

t.test('alerts have annotations and runbooks', async (t) => {
  const alerts = alertingRules();
  const anchors = operationsAnchors();
  t.ok(alerts.length >= 10, `${alerts.length} alerts`);
  for (const alert of alerts) {
    t.match(alert.alert, /^AgentflowGateway[A-Z]\w+$/, `${alert.alert} name`);
    t.match(alert.labels?.['severity'], /^(warning|critical)$/, `${alert.alert} severity`);
    t.ok(alert.annotations?.['summary'], `${alert.alert} has a summary`);
    t.ok(alert.annotations?.['description'], `${alert.alert} has a description`);
    const anchor = RUNBOOK_URL.exec(alert.annotations?.['runbook_url'] ?? '')?.[1];
    t.equal(anchor, alert.alert.toLowerCase(), `${alert.alert} runbook_url names its own entry`);
    t.ok(
      anchor !== undefined && anchors.has(anchor),
      `${OPERATIONS_DOC} has a heading for ${alert.alert}`,
    );
  }
});

t.test('every alert has firing and quiet tests', async (t) => {
  const tests = (parse(readFileSync(RULE_TESTS_FILE, 'utf8')) as RuleTestFile).tests;
  const evaluations = tests.flatMap((test) => test.alert_rule_test ?? []);
  for (const { alert } of alertingRules()) {
    const own = evaluations.filter((evaluation) => evaluation.alertname === alert);
    t.ok(
      own.some((evaluation) => (evaluation.exp_alerts ?? []).length > 0),
      `${alert} fires in a test`,
    );
    t.ok(
      own.some((evaluation) => (evaluation.exp_alerts ?? []).length === 0),
      `${alert} stays quiet in a test`,
    );
  }
});

t.test('dashboard panels and rows', async (t) => {
  const dashboard = loadDashboard();
  const ids = dashboard.panels.map((panel) => panel.id);
  t.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  const rows = dashboard.panels.filter((panel) => panel.type === 'row').map((row) => row.title);
  for (const title of DASHBOARD_ROWS) t.ok(rows.includes(title), `row ${title}`);
  for (const panel of dashboard.panels.filter((panel) => panel.type !== 'row')) {
    t.ok((panel.targets ?? []).length > 0, `panel "${panel.title}" has queries`);
    t.equal(panel.datasource?.uid, '${datasource}', `panel "${panel.title}" data source`);
  }
  const variables = dashboard.templating.list.map((variable) => variable.name);
  t.same(variables, ['datasource', 'job', 'instance', 'route'], 'template variables');
});
