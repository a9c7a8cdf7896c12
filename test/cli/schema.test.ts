import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { renderJsonSchema, SCHEMA_FILES } from '../../src/cli/json-schemas.js';
import { SCHEMA_USAGE } from '../../src/cli/schema.js';
import { runCli } from './run-cli.js';

t.test('schema --help exits 0', async (t) => {
  const result = await runCli(['schema', '--help']);
  t.equal(result.code, 0);
  t.equal(result.stdout, SCHEMA_USAGE);
  t.equal(result.stderr, '');
});

t.test('schema --out writes every file', async (t) => {
  const out = path.join(t.testdir({}), 'nested', 'schemas');
  const result = await runCli(['schema', '--out', out]);
  t.equal(result.code, 0);
  t.equal(result.stderr, '');
  const written = SCHEMA_FILES.map((file) => `wrote ${path.join(out, file.fileName)}\n`);
  t.equal(result.stdout, written.join(''), 'one line per file');
  for (const file of SCHEMA_FILES) {
    const text = await readFile(path.join(out, file.fileName), 'utf8');
    t.equal(text, renderJsonSchema(file), `${file.fileName} as the source renders it`);
  }
});

t.test('schema replaces existing files', async (t) => {
  const dir = t.testdir({ 'policy.schema.json': '{"stale":true}\n' });
  const result = await runCli(['schema', '--out', dir]);
  t.equal(result.code, 0);
  const policy = SCHEMA_FILES.find((file) => file.fileName === 'policy.schema.json')!;
  t.equal(await readFile(path.join(dir, 'policy.schema.json'), 'utf8'), renderJsonSchema(policy));
});

t.test('schema writes to schemas by default', async (t) => {
  const dir = t.testdir({});
  const result = await runCli(['schema'], {}, { cwd: dir });
  t.equal(result.code, 0);
  for (const file of SCHEMA_FILES) {
    const text = await readFile(path.join(dir, 'schemas', file.fileName), 'utf8');
    t.equal(text, renderJsonSchema(file), `schemas/${file.fileName}`);
  }
});

t.test('schema usage errors exit 2', async (t) => {
  const cases = [
    { args: ['--colour'], message: "Unknown option '--colour'" },
    { args: ['out-dir'], message: "Unexpected argument 'out-dir'" },
    { args: ['--out', ''], message: '--out must not be empty' },
  ];
  for (const { args, message } of cases) {
    const result = await runCli(['schema', ...args]);
    t.equal(result.code, 2, `${message}: exit code`);
    t.equal(result.stdout, '', `${message}: nothing written`);
    t.ok(result.stderr.startsWith(`agentflow-gateway schema: ${message}`), `${message}: message`);
    t.ok(result.stderr.endsWith(`\n\n${SCHEMA_USAGE}`), `${message}: usage`);
  }
});

t.test('schema unwritable folder exits 1', async (t) => {
  const dir = t.testdir({});
  const blocker = path.join(dir, 'file');
  await writeFile(blocker, 'not a folder');
  const out = path.join(blocker, 'schemas');
  const result = await runCli(['schema', '--out', out]);
  t.equal(result.code, 1);
  t.equal(result.stdout, '');
  t.match(result.stderr, `agentflow-gateway schema: writing ${out} failed: `);
  t.match(result.stderr, 'ENOTDIR');
  t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
});
