import t, { type Test } from 'tap';
import {
  dashboardExpressions,
  exportedSeriesNames,
  metricNamesIn,
  recordingRuleNames,
  ruleExpressions,
  unknownNameReason,
  type LocatedExpression,
} from './promql.js';

const exported = exportedSeriesNames();
const recorded = recordingRuleNames();

function checkNames(t: Test, expressions: LocatedExpression[]): Set<string> {
  const seen = new Set<string>();
  for (const { where, expr } of expressions) {
    const names = metricNamesIn(expr);
    t.ok(names.size > 0, `${where} selects a metric`);
    for (const name of names) {
      seen.add(name);
      const reason = unknownNameReason(name, exported, recorded);
      t.equal(reason, undefined, `${where}: ${reason ?? name}`);
    }
  }
  return seen;
}

t.test('metric name extraction', async (t) => {
  const cases: [string, string[]][] = [
    [
      'histogram_quantile(0.99, sum by (route, le) (rate(a_bucket{job=~"$job", le!="1"}[5m])))',
      ['a_bucket'],
    ],
    [
      'sum(rate(a_total[$__rate_interval])) by (code) / ignoring(code) group_left b',
      ['a_total', 'b'],
    ],
    ['x offset 5m unless on (instance) y > bool 1e3', ['x', 'y']],
    ['job:a:rate5m > 0.05 and job:b:rate5m > 0.1', ['job:a:rate5m', 'job:b:rate5m']],
    ['ALERTS{alertname=~"Agentflow.* or up"}', ['ALERTS']],
    ['topk(10, sum without (rule) (c))', ['c']],
  ];
  for (const [expr, expected] of cases) {
    t.same([...metricNamesIn(expr)].sort(), expected, expr);
  }
});

t.test('registry names include histogram series', async (t) => {
  t.ok(exported.has('agentflow_gateway_requests_total'), 'a counter');
  t.ok(exported.has('agentflow_gateway_upstream_duration_seconds_bucket'), 'a histogram bucket');
  t.notOk(exported.has('agentflow_gateway_upstream_duration_seconds'), 'no bare histogram name');
  t.ok(exported.has('agentflow_gateway_process_cpu_seconds_total'), 'a default metric');
  t.equal(
    unknownNameReason('agentflow_gateway_nope_total', exported, recorded),
    'agentflow_gateway_nope_total is not exported by the gateway',
  );
  t.equal(
    unknownNameReason('job:agentflow_gateway_nope:rate5m', exported, recorded),
    'job:agentflow_gateway_nope:rate5m is not a recording rule of deploy/prometheus/rules.yaml',
  );
});

t.test('rule expressions use exported metrics', async (t) => {
  const seen = checkNames(t, ruleExpressions());
  t.ok(seen.size >= 15, `the rules select ${seen.size} distinct series`);
});

t.test('dashboard expressions use exported metrics', async (t) => {
  const seen = checkNames(t, dashboardExpressions());
  t.ok(seen.size >= 20, `the dashboard selects ${seen.size} distinct series`);
});
