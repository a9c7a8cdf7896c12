import path from 'node:path';
import t, { type Test } from 'tap';
import { DEMO_ISSUER } from '../../src/auth/demo.js';
import { SERVE_USAGE, VALIDATE_USAGE } from '../../src/cli/usage.js';
import { runCli, type CliResult } from './run-cli.js';

const SHIPPED = ['--config', 'config/gateway.yaml', '--policies', 'policies'];

/** Parses standard output, which the json format keeps to one line of JSON. */
function parseReport(t: Test, result: CliResult): Record<string, unknown> {
  t.match(result.stdout, /^[^\n]+\n$/, 'one line on standard output');
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

t.test('valid files report ok', async (t) => {
  const result = await runCli(['validate', ...SHIPPED, '--format', 'json']);
  t.equal(result.code, 0);
  t.equal(result.stderr, '', 'the warning is in the report, not on standard error');
  const report = parseReport(t, result);
  t.equal(report['ok'], true);
  t.equal(report['config'], 'config/gateway.yaml');
  t.same(report['policy_files'], [path.join('policies', 'routes.yaml')]);
  t.same(Object.keys(report), ['ok', 'config', 'policy_files', 'routes', 'warnings']);

  const text = await runCli(['validate', ...SHIPPED]);
  const counted = /(\d+) route\(s\)/.exec(text.stdout)?.[1];
  t.equal(report['routes'], Number(counted), 'the text format counts the same routes');

  const warnings = report['warnings'] as Record<string, unknown>[];
  t.equal(warnings.length, 1, 'the demo issuer warning');
  t.same(Object.keys(warnings[0] ?? {}), ['file', 'line', 'column', 'path', 'message']);
  t.equal(warnings[0]?.['file'], 'config/gateway.yaml');
  t.equal(warnings[0]?.['line'], null, 'no position is null');
  t.equal(warnings[0]?.['column'], null);
  t.equal(warnings[0]?.['path'], 'auth.issuers[0].issuer');
  t.match(warnings[0]?.['message'], `the demo issuer ${DEMO_ISSUER} is accepted only under`);
});

t.test('broken files report errors', async (t) => {
  const dir = t.testdir({
    'gateway.yaml': [
      'limits:',
      '  headers_timeout: 30',
      'upstream:',
      '  url: backend:8000',
      '  retries: 3',
      '',
    ].join('\n'),
    policies: {
      'a.yaml': 'version: 1\nroutes:\n  - name: both\n    match: { path: /a, path_prefix: /b }\n',
    },
  });
  const config = path.join(dir, 'gateway.yaml');
  const policies = path.join(dir, 'policies');
  const args = ['validate', '--config', config, '--policies', policies, '--format', 'json'];
  const result = await runCli(args);
  t.equal(result.code, 2);
  t.equal(result.stderr, '', 'problems go to standard output');
  const report = parseReport(t, result);
  t.same(Object.keys(report), ['ok', 'config', 'errors', 'warnings']);
  t.equal(report['ok'], false);
  t.equal(report['config'], config);
  t.strictSame(report['errors'], [
    {
      file: config,
      line: 2,
      column: 20,
      path: 'limits.headers_timeout',
      message: 'invalid duration 30: write a number with a unit: ms, s, m, h or d (e.g. 30s)',
    },
    {
      file: config,
      line: 4,
      column: 8,
      path: 'upstream.url',
      message: 'must be an http:// or https:// URL',
    },
    { file: config, line: 5, column: 3, path: 'upstream.retries', message: 'unknown key' },
    {
      file: path.join(policies, 'a.yaml'),
      line: 4,
      column: 12,
      path: 'routes[0].match',
      message: 'set exactly one of path or path_prefix',
    },
  ]);
  t.strictSame(report['warnings'], []);

  const text = await runCli(args.slice(0, -2));
  t.equal(text.stderr.trimEnd().split('\n').length, 4, 'the text format lists the same four');
});

t.test('errors without a position', async (t) => {
  const config = path.join(t.testdir({}), 'absent.yaml');
  const missing = await runCli(['validate', '--config', config, '--format', 'json']);
  t.equal(missing.code, 2);
  t.strictSame(parseReport(t, missing)['errors'], [
    { file: config, line: null, column: null, path: '', message: 'cannot read file (ENOENT)' },
  ]);

  const fromEnv = await runCli(['validate', '--format', 'json'], {
    AGENTFLOW_GATEWAY_LISTEN_PORT: 'eighty',
  });
  t.equal(fromEnv.code, 2);
  t.strictSame(parseReport(t, fromEnv)['errors'], [
    {
      file: 'environment variable AGENTFLOW_GATEWAY_LISTEN_PORT',
      line: null,
      column: null,
      path: 'listeners.public.port',
      message: 'Invalid input: expected number, received string',
    },
  ]);
});

t.test('--format text is the default', async (t) => {
  const explicit = await runCli(['validate', ...SHIPPED, '--format', 'text']);
  const implicit = await runCli(['validate', ...SHIPPED]);
  t.equal(explicit.code, 0);
  t.same(explicit, implicit);
  t.match(implicit.stdout, /^valid: config\/gateway\.yaml and \d+ policy file\(s\)/);
});

t.test('invalid --format exits 2', async (t) => {
  const result = await runCli(['validate', '--format', 'xml']);
  t.equal(result.code, 2);
  t.equal(result.stdout, '');
  t.equal(
    result.stderr,
    `agentflow-gateway validate: invalid --format "xml": use text or json\n\n${VALIDATE_USAGE}`,
  );
});

t.test('serve rejects --format', async (t) => {
  const result = await runCli(['serve', '--format', 'json']);
  t.equal(result.code, 2);
  t.equal(result.stdout, '');
  t.equal(result.stderr, `agentflow-gateway serve: Unknown option '--format'\n\n${SERVE_USAGE}`);
});
