import { symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { ConfigIssue } from '../../src/config/config-error.js';
import { loadPolicies } from '../../src/policy/load-policies.js';
import { issuesOf } from '../helpers/config-issues.js';

/** Builds a policy file with one route on a `{collection}` template and these `schema:` lines. */
function policyWithSchema(schemaLines: string, extraRouteKeys = ''): string {
  return [
    'version: 1',
    'routes:',
    '  - name: ask',
    "    match: { methods: [POST], path: '/c/{collection}/ask' }",
    '    auth: none',
    extraRouteKeys,
    '    schema:',
    schemaLines,
    '',
  ].join('\n');
}

function findIssue(issues: readonly ConfigIssue[], keyPath: string): ConfigIssue | undefined {
  return issues.find((issue) => issue.path === keyPath);
}

async function loadIssues(t: Test, files: Parameters<Test['testdir']>[0]) {
  const dir = t.testdir(files);
  return { dir, issues: await issuesOf(t, loadPolicies(dir)) };
}

t.test('inline schemas compile per part', async (t) => {
  const dir = t.testdir({
    'routes.yaml': policyWithSchema(
      [
        '      params: { type: object, properties: { collection: { type: string } } }',
        '      query: { type: object, properties: { limit: { type: integer } } }',
        '      headers:',
        '        type: object',
        '        required: [x-tenant]',
        '        properties: { x-tenant: { type: string } }',
        '      body: { type: object, properties: { query: { type: string } } }',
      ].join('\n'),
    ),
  });
  const snapshot = await loadPolicies(dir);
  const schema = snapshot.routes[0]!.requestSchema;
  t.ok(schema, 'the route has compiled schemas');
  t.same(Object.keys(schema ?? {}).sort(), ['body', 'headers', 'params', 'query']);
  t.equal(schema?.body?.({ query: 'a' }), true, 'a valid body passes');
  t.equal(schema?.body?.({ query: 1 }), false, 'an invalid body fails');
});

t.test('route without schema has none', async (t) => {
  const dir = t.testdir({
    'routes.yaml': 'version: 1\nroutes:\n  - name: a\n    match: { path: /a }\n    auth: none\n',
  });
  const snapshot = await loadPolicies(dir);
  t.equal(snapshot.routes[0]!.requestSchema, undefined);
});

t.test('$ref_file loads relative to the policy file', async (t) => {
  const dir = t.testdir({
    'routes.yaml': policyWithSchema('      body: { $ref_file: schemas/ask.json }'),
    schemas: {
      'ask.json': JSON.stringify({
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        required: ['query'],
        properties: { query: { type: 'string', maxLength: 5 } },
      }),
    },
  });
  const snapshot = await loadPolicies(dir);
  const body = snapshot.routes[0]!.requestSchema?.body;
  t.equal(body?.({ query: 'short' }), true);
  t.equal(body?.({ query: 'too long' }), false);
  t.equal(body?.({}), false);
});

t.test('$ref_file outside the folder is refused', async (t) => {
  for (const reference of ['../outside.json', 'schemas/../../outside.json']) {
    const root = t.testdir({
      'outside.json': '{"type":"object"}',
      policies: { 'routes.yaml': policyWithSchema(`      body: { $ref_file: '${reference}' }`) },
    });
    const issues = await issuesOf(t, loadPolicies(path.join(root, 'policies')));
    const issue = findIssue(issues, 'routes[0].schema.body.$ref_file');
    t.ok(issue, `${reference}: issue at the $ref_file key`);
    t.match(issue?.message, /outside the policy folder/, `${reference}: message`);
    t.equal(issue?.line, 8, `${reference}: line of the key`);
  }
});

t.test('$ref_file absolute path is refused', async (t) => {
  const { issues } = await loadIssues(t, {
    'routes.yaml': policyWithSchema('      body: { $ref_file: /etc/hostname }'),
  });
  t.match(findIssue(issues, 'routes[0].schema.body.$ref_file')?.message, /not an absolute path/);
});

t.test('$ref_file symlink out is refused', async (t) => {
  const root = t.testdir({
    'secret.json': '{"type":"object"}',
    policies: { 'routes.yaml': policyWithSchema('      body: { $ref_file: link.json }') },
  });
  symlinkSync(path.join(root, 'secret.json'), path.join(root, 'policies', 'link.json'));
  const issues = await issuesOf(t, loadPolicies(path.join(root, 'policies')));
  t.match(
    findIssue(issues, 'routes[0].schema.body.$ref_file')?.message,
    /links to a file outside the policy folder/,
  );
});

t.test('$ref_file missing or not JSON', async (t) => {
  const { issues } = await loadIssues(t, {
    'routes.yaml': policyWithSchema(
      [
        '      query: { $ref_file: missing.json }',
        '      body: { $ref_file: broken.json }',
        '      headers: { $ref_file: list.json }',
      ].join('\n'),
    ),
    'broken.json': '{"type": "object",',
    'list.json': '[]',
  });
  t.match(findIssue(issues, 'routes[0].schema.query.$ref_file')?.message, /cannot read .*ENOENT/);
  t.match(
    findIssue(issues, 'routes[0].schema.body.$ref_file')?.message,
    /broken\.json is not valid JSON/,
  );
  t.match(
    findIssue(issues, 'routes[0].schema.headers.$ref_file')?.message,
    /must contain a JSON Schema object/,
  );
});

t.test('$ref_file beside other keys', async (t) => {
  const { issues } = await loadIssues(t, {
    'routes.yaml': policyWithSchema('      body: { $ref_file: a.json, type: object }'),
    'a.json': '{}',
  });
  t.match(findIssue(issues, 'routes[0].schema.body')?.message, /move type into the file/);
});

t.test('RE2-incompatible pattern refused inline', async (t) => {
  const { dir, issues } = await loadIssues(t, {
    'routes.yaml': policyWithSchema(
      [
        '      body:',
        '        type: object',
        '        properties:',
        '          tag: { type: string, pattern: "(a)\\\\1" }',
        '        patternProperties:',
        "          '^(?=x)': { type: string }",
      ].join('\n'),
    ),
  });
  const pattern = findIssue(issues, 'routes[0].schema.body.properties.tag.pattern');
  t.ok(pattern, 'issue at the pattern');
  t.equal(pattern?.file, path.join(dir, 'routes.yaml'));
  t.equal(pattern?.line, 11);
  t.equal(pattern?.column, 41, 'column of the pattern value');
  t.match(pattern?.message, /invalid RE2 pattern \(invalid escape sequence: \\1\)/);
  t.match(pattern?.message, /no backreferences/);
  const key = findIssue(issues, 'routes[0].schema.body.patternProperties.^(?=x)');
  t.match(key?.message, /invalid RE2 pattern/, 'patternProperties keys are patterns too');
});

t.test('RE2-incompatible pattern refused in file', async (t) => {
  const { dir, issues } = await loadIssues(t, {
    'routes.yaml': policyWithSchema('      query: { $ref_file: query.json }'),
    'query.json': [
      '{',
      '  "type": "object",',
      '  "properties": {',
      '    "q": { "type": "string", "pattern": "^(\\\\w+)\\\\1$" }',
      '  }',
      '}',
    ].join('\n'),
  });
  t.equal(issues.length, 1);
  const issue = issues[0];
  t.equal(issue?.file, path.join(dir, 'query.json'), 'the issue is in the schema file');
  t.equal(issue?.line, 4);
  t.equal(issue?.column, 41);
  t.equal(issue?.path, 'properties.q.pattern');
  t.match(issue?.message, /invalid RE2 pattern.*\(from routes\[0\]\.schema\.query\.\$ref_file\)/);
});

t.test('meta-schema errors have positions', async (t) => {
  const { issues } = await loadIssues(t, {
    'routes.yaml': policyWithSchema(
      [
        '      body:',
        '        type: object',
        '        properties:',
        '          query: { type: string, minLength: -1 }',
        '          kind: { type: strin }',
      ].join('\n'),
    ),
  });
  const minLength = findIssue(issues, 'routes[0].schema.body.properties.query.minLength');
  t.match(minLength?.message, /^invalid JSON Schema: must be >= 0/);
  t.equal(minLength?.line, 11);
  const type = findIssue(issues, 'routes[0].schema.body.properties.kind.type');
  t.match(type?.message, /^invalid JSON Schema: /);
});

t.test('strict mode and formats are enforced', async (t) => {
  const cases = [
    ['{ type: string, minLenght: 1 }', /unknown keyword: "minLenght"/],
    ['{ type: string, format: email }', /unknown format "email"/],
    ['{ properties: { a: { type: string } } }', /missing type "object"/],
    ["{ $ref: '#/definitions/missing' }", /can't resolve reference/],
    ['{ $ref_file: other.json }', /can't resolve reference other-file\.json/],
  ] as const;
  for (const [schema, message] of cases) {
    const { issues } = await loadIssues(t, {
      'routes.yaml': policyWithSchema(`      body: ${schema}`),
      'other.json': '{ "$ref": "other-file.json" }',
    });
    t.equal(issues.length, 1, `${schema}: one issue`);
    t.match(issues[0]?.message, message, schema);
  }
});

t.test('header names must be lower case', async (t) => {
  const { issues } = await loadIssues(t, {
    'routes.yaml': policyWithSchema(
      [
        '      headers:',
        '        type: object',
        '        required: [X-Tenant]',
        '        properties: { X-Tenant: { type: string } }',
      ].join('\n'),
    ),
  });
  t.match(
    findIssue(issues, 'routes[0].schema.headers.required[0]')?.message,
    /lower case: write x-tenant/,
  );
  t.match(
    findIssue(issues, 'routes[0].schema.headers.properties.X-Tenant')?.message,
    /lower case: write x-tenant/,
  );
});

t.test('params must name template parameters', async (t) => {
  const { issues } = await loadIssues(t, {
    'routes.yaml': policyWithSchema(
      '      params: { type: object, required: [name], properties: { name: { type: string } } }',
    ),
  });
  t.match(
    findIssue(issues, 'routes[0].schema.params.required[0]')?.message,
    /name is not a parameter of the path template \/c\/\{collection\}\/ask/,
  );
  t.ok(findIssue(issues, 'routes[0].schema.params.properties.name'));

  const prefix = await loadIssues(t, {
    'routes.yaml': [
      'version: 1',
      'routes:',
      '  - name: docs',
      '    match: { path_prefix: /docs/ }',
      '    auth: none',
      '    schema: { params: { type: object } }',
      '',
    ].join('\n'),
  });
  t.match(findIssue(prefix.issues, 'routes[0].schema.params')?.message, /no \{param\} segments/);
});

t.test('body schema needs a JSON content type', async (t) => {
  const { issues } = await loadIssues(t, {
    'routes.yaml': policyWithSchema(
      '      body: { type: object }',
      '    body: { content_types: [multipart/form-data] }',
    ),
  });
  t.match(findIssue(issues, 'routes[0].schema.body')?.message, /accepts no JSON media type/);
});

t.test('schema issues join the other issues', async (t) => {
  const { issues } = await loadIssues(t, {
    'a.yaml': policyWithSchema('      body: { type: string, pattern: "\\\\1" }'),
    'b.yaml': 'version: 1\nroutes:\n  - name: b\n    match: { path: b }\n',
  });
  t.ok(findIssue(issues, 'routes[0].schema.body.pattern'), 'the pattern issue');
  t.ok(
    issues.some((issue) => issue.file.endsWith('b.yaml') && issue.path === 'routes[0].match.path'),
    'the issue of the other file',
  );
});

t.test('unknown schema keys and modes', async (t) => {
  const { issues } = await loadIssues(t, {
    'routes.yaml': policyWithSchema('      cookies: { type: object }\n      additional: deny'),
  });
  t.equal(findIssue(issues, 'routes[0].schema.cookies')?.message, 'unknown key');
  t.ok(findIssue(issues, 'routes[0].schema.additional'));
});

t.test('additional reject closes objects', async (t) => {
  const schema = [
    '      additional: reject',
    '      body:',
    '        type: object',
    '        properties:',
    '          query: { type: string }',
    '          filter: { type: object, properties: { tag: { type: string } } }',
    '          open: { type: object, properties: { a: { type: string } }, additionalProperties: true }',
    '          items: { type: array, items: { type: object, properties: { id: { type: integer } } } }',
    '          merged:',
    '            type: object',
    '            allOf: [{ properties: { a: { type: string } } }, { properties: { b: { type: string } } }]',
  ].join('\n');
  const dir = t.testdir({ 'routes.yaml': policyWithSchema(schema) });
  const body = (await loadPolicies(dir)).routes[0]!.requestSchema!.body!;
  t.equal(body({ query: 'a' }), true, 'known fields pass');
  t.equal(body({ query: 'a', extra: 1 }), false, 'an unknown top-level field fails');
  t.equal(body({ filter: { tag: 'a', other: 1 } }), false, 'an unknown nested field fails');
  t.equal(body({ items: [{ id: 1, other: 1 }] }), false, 'an unknown field in an item fails');
  t.equal(body({ open: { a: 'x', other: 1 } }), true, 'additionalProperties: true is kept');
  t.equal(body({ merged: { a: 'x', b: 'y' } }), true, 'allOf branches stay open');

  const openDir = t.testdir({ 'routes.yaml': policyWithSchema(schema.replace('reject', 'allow')) });
  const openBody = (await loadPolicies(openDir)).routes[0]!.requestSchema!.body!;
  t.equal(openBody({ query: 'a', extra: 1 }), true, 'allow keeps unknown fields');
});

t.test('shipped policy schemas', async (t) => {
  const snapshot = await loadPolicies('policies', { issuerNames: new Set(['demo']) });
  const [ragQuery, upload] = snapshot.routes;
  const body = ragQuery!.requestSchema?.body;
  t.ok(body, 'rag-query has a body schema');
  t.equal(body?.({ query: 'What is AgentFlow?' }), true);
  t.equal(body?.({ query: 'What?', collection: 'faq', stream: true }), true);
  t.equal(body?.({ query: '' }), false, 'an empty query fails');
  t.equal(body?.({ query: '   ' }), false, 'a blank query fails');
  t.equal(body?.({ query: 'x'.repeat(2001) }), false, 'a query over 2000 characters fails');
  t.equal(body?.({ query: 'a', collection: 'a/b' }), false, 'a collection with a slash fails');
  t.equal(body?.({ query: 'a', stream: 'yes' }), false, 'a string stream fails');
  t.equal(body?.({ query: 'a', other: 1 }), false, 'an unknown field fails');
  t.equal(body?.({ query: 'a', leak: ['secret'] }), false, 'the backend test switch is refused');
  const query = upload!.requestSchema?.query;
  t.ok(query, 'document-upload has a query schema');
  t.equal(query?.({}), true);
  t.equal(query?.({ collection: 'docs' }), false, 'the upload takes no query parameters');
});

t.test('a schema file change changes the policy hash', async (t) => {
  const routes =
    'version: 1\nroutes:\n  - name: a\n    match: { methods: [POST], path: /a }\n    auth: none\n' +
    '    body: { content_types: [application/json] }\n' +
    '    schema: { body: { $ref_file: schemas/a.json } }\n';
  const schema = (max: number) => JSON.stringify({ type: 'object', maxProperties: max });
  const dir = t.testdir({ 'routes.yaml': routes, schemas: { 'a.json': schema(3) } });
  const first = await loadPolicies(dir);
  t.equal((await loadPolicies(dir)).hash, first.hash, 'the same files give the same hash');
  writeFileSync(path.join(dir, 'schemas', 'a.json'), schema(4));
  t.not((await loadPolicies(dir)).hash, first.hash, 'a changed schema file changes it');
});
