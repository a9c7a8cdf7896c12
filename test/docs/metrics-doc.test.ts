import { readFileSync } from 'node:fs';
import { collectDefaultMetrics, Registry } from 'prom-client';
import t from 'tap';
import { GatewayMetrics } from '../../src/monitoring/metrics.js';

const DOC = readFileSync('docs/metrics.md', 'utf8');
const PREFIX = 'agentflow_gateway_';

interface DocRow {
  type: string;
  labels: string[];
}

/** Reads the table rows whose first cell is a metric name in backticks. */
function documentedMetrics(markdown: string): Map<string, DocRow> {
  const rows = new Map<string, DocRow>();
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const name = /^`(agentflow_gateway_\w+)`$/.exec(cells[1] ?? '')?.[1];
    if (name === undefined || cells.length !== 6) continue;
    const labels = [...cells[3]!.matchAll(/`(\w+)`/g)].map((match) => match[1]!);
    rows.set(name, { type: cells[2]!, labels });
  }
  return rows;
}

/** Names of the Node.js default metrics, from a registry that has nothing else. */
function defaultMetricNames(): Set<string> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: PREFIX });
  return new Set(registry.getMetricsAsArray().map((metric) => metric.name));
}

const documented = documentedMetrics(DOC);
const defaults = defaultMetricNames();
const metrics = new GatewayMetrics().registry
  .getMetricsAsArray()
  .filter((metric) => metric.name.startsWith(PREFIX) && !defaults.has(metric.name));

t.test('metrics doc lists every metric', async (t) => {
  t.ok(metrics.length > 0, 'the gateway registers metrics of its own');
  for (const metric of metrics) t.ok(documented.has(metric.name), metric.name);
});

t.test('metrics doc types and labels', async (t) => {
  for (const metric of metrics) {
    const row = documented.get(metric.name);
    if (row === undefined) continue;
    t.equal(row.type, metric.type, `${metric.name} type`);
    // prom-client sets labelNames on every metric, but its MetricObject type omits it.
    const { labelNames = [] } = metric as { labelNames?: string[] };
    t.same(row.labels, labelNames, `${metric.name} labels`);
  }
});

t.test('metrics doc has no stale rows', async (t) => {
  const registered = new Set(metrics.map((metric) => metric.name));
  for (const name of documented.keys()) t.ok(registered.has(name), `${name} is registered`);
});

t.test('metrics doc covers default metrics', async (t) => {
  t.ok(defaults.size > 0, 'prom-client registered default metrics');
  for (const name of defaults) {
    t.match(name, /^agentflow_gateway_(process|nodejs)_/, `${name} is in a documented group`);
  }
  t.match(DOC, /`agentflow_gateway_process_\*`/);
  t.match(DOC, /`agentflow_gateway_nodejs_\*`/);
});
