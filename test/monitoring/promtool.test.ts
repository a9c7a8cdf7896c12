import path from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { startProxy } from '../helpers/e2e.js';
import { RULE_TESTS_FILE, RULES_FILE } from './promql.js';
import { findExecutable, missingToolMessage, runTool } from './tools.js';

const promtool = await findExecutable('promtool');
const skip = promtool === undefined ? missingToolMessage('promtool') : false;

t.test('promtool check metrics on a scrape', { skip }, async (t) => {
  const { gw } = await startProxy(t);
  // Requests that fill the labelled families: a forwarded one and a 404 rejection.
  for (const target of ['/api/rag/query', '/nowhere']) {
    const response = await request(`${gw.url}${target}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"hello"}',
    });
    await response.body.dump();
  }
  const scrape = await request(`${gw.adminUrl}/metrics`);
  const text = await scrape.body.text();
  t.equal(scrape.statusCode, 200, 'the scrape succeeds');
  t.match(text, /^agentflow_gateway_requests_total\{/m, 'the scrape has request samples');

  const result = await runTool(promtool!, ['check', 'metrics'], { input: text });
  t.equal(result.stdout + result.stderr, '', 'promtool reports no problem');
  t.equal(result.code, 0, 'promtool exit code');
});

t.test('promtool check rules', { skip }, async (t) => {
  const result = await runTool(promtool!, ['check', 'rules', RULES_FILE]);
  t.equal(result.code, 0, 'promtool exit code', { output: result.stdout + result.stderr });
  t.match(result.stdout, /SUCCESS: \d+ rules found/, 'promtool finds the rules');
});

t.test('promtool test rules', { skip }, async (t) => {
  // rules.test.yaml names its rule file relative to its own folder.
  const result = await runTool(promtool!, ['test', 'rules', path.basename(RULE_TESTS_FILE)], {
    cwd: path.dirname(RULE_TESTS_FILE),
  });
  t.equal(result.code, 0, 'promtool exit code', { output: result.stdout + result.stderr });
  t.match(result.stdout, /SUCCESS/, 'every rule test passes');
});
