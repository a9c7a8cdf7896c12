import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { GatewayMetrics } from '../../src/monitoring/metrics.js';

export const RULES_FILE = 'deploy/prometheus/rules.yaml';
export const RULE_TESTS_FILE = 'deploy/prometheus/rules.test.yaml';
export const DASHBOARD_FILE = 'deploy/grafana/agentflow-gateway.json';

/** Series that Prometheus itself writes, which dashboards and rules may query. */
const PROMETHEUS_SERIES = new Set(['up', 'ALERTS', 'ALERTS_FOR_STATE']);

/** PromQL keywords and modifiers that look like identifiers but are not followed by `(`. */
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'inf',
  'nan',
]);

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];
const SUMMARY_SUFFIXES = ['_sum', '_count'];

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RecordingRule {
  record: string;
  expr: string;
}

type Rule = AlertingRule | RecordingRule;

/** A PromQL expression and where it was found, for test messages. */
export interface LocatedExpression {
  where: string;
  expr: string;
}

export function loadRules(): Rule[] {
  const document = parse(readFileSync(RULES_FILE, 'utf8')) as {
    groups: { name: string; rules: Rule[] }[];
  };
  return document.groups.flatMap((group) => group.rules);
}

export function alertingRules(): AlertingRule[] {
  return loadRules().filter((rule): rule is AlertingRule => 'alert' in rule);
}

export function recordingRuleNames(): Set<string> {
  return new Set(
    loadRules()
      .filter((rule): rule is RecordingRule => 'record' in rule)
      .map((rule) => rule.record),
  );
}

export function ruleExpressions(): LocatedExpression[] {
  return loadRules().map((rule) => ({
    where: `${RULES_FILE} ${'alert' in rule ? rule.alert : rule.record}`,
    expr: rule.expr,
  }));
}

interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; refId: string; datasource?: { type: string; uid: string } }[];
}

export interface Dashboard {
  uid: string;
  panels: DashboardPanel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
}

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/**
 * Lists the panel queries and the template variable queries of the dashboard. A variable's
 * `label_values(selector, label)` query contributes its selector only, because its second
 * argument is a label name.
 */
export function dashboardExpressions(dashboard = loadDashboard()): LocatedExpression[] {
  const expressions: LocatedExpression[] = [];
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      expressions.push({ where: `panel "${panel.title}" ${target.refId}`, expr: target.expr });
    }
  }
  for (const variable of dashboard.templating.list) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
    const labelValues = /^label_values\((.*),\s*\w+\)$/.exec(query);
    expressions.push({ where: `variable $${variable.name}`, expr: labelValues?.[1] ?? query });
  }
  return expressions;
}

/**
 * Extracts the metric names an expression selects. String literals, label matchers, ranges and
 * the label lists of `by`, `without`, `on`, `ignoring` and `group_*` are removed first; what
 * remains is a metric name unless it calls a function, is a keyword or is a number.
 */
export function metricNamesIn(expr: string): Set<string> {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w$.])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    const [, name, call] = match;
    if (call !== undefined || KEYWORDS.has(name!.toLowerCase())) continue;
    names.add(name!);
  }
  return names;
}

/**
 * Every series name a scrape of a real gateway can contain. A histogram is scraped as its
 * `_bucket`, `_sum` and `_count` series only, and a summary as its own name, `_sum` and `_count`.
 */
export function exportedSeriesNames(): Set<string> {
  const names = new Set<string>();
  for (const metric of new GatewayMetrics().registry.getMetricsAsArray()) {
    // prom-client 15.1 types `type` as a numeric enum, but the objects carry 'counter',
    // 'gauge', 'histogram' or 'summary'.
    const { name, type } = metric as unknown as { name: string; type: string };
    if (type !== 'histogram') names.add(name);
    if (type === 'histogram') {
      for (const suffix of HISTOGRAM_SUFFIXES) names.add(name + suffix);
    }
    if (type === 'summary') {
      for (const suffix of SUMMARY_SUFFIXES) names.add(name + suffix);
    }
  }
  return names;
}

/**
 * Returns why `name` is not a series that the gateway, Prometheus or a rule of `recorded`
 * produces, or undefined when it is one.
 */
export function unknownNameReason(
  name: string,
  exported: ReadonlySet<string>,
  recorded: ReadonlySet<string>,
): string | undefined {
  if (name.includes(':')) {
    return recorded.has(name) ? undefined : `${name} is not a recording rule of ${RULES_FILE}`;
  }
  if (exported.has(name) || PROMETHEUS_SERIES.has(name)) return undefined;
  return `${name} is not exported by the gateway`;
}
