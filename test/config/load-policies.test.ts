import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { loadPolicies } from '../../src/policy/load-policies.js';
import { findRoute } from '../../src/routing/router.js';
import { issuesOf } from '../helpers/config-issues.js';

/** Builds a version 1 policy file from route entries, each a `- name: …` block of YAML lines. */
function policy(...routes: string[]): string {
  return `version: 1\nroutes:\n${routes.join('')}`;
}

t.test('shipped policies load', async (t) => {
  const snapshot = await loadPolicies('policies', { issuerNames: new Set(['demo']) });
  t.same(
    snapshot.routes.map((route) => route.name),
    ['rag-query', 'document-upload', 'document-read', 'admin', 'backend-health'],
  );
  t.same(snapshot.files, [path.join('policies', 'routes.yaml')]);
  t.match(snapshot.hash, /^[0-9a-f]{64}$/);
  t.equal(snapshot.routes[0]!.maxBodyBytes, 65_536);
  t.equal(snapshot.routes[0]!.websocket, false);
  t.same([...snapshot.routes[4]!.methods!], ['GET', 'HEAD']);
  const ragQueryLine =
    readFileSync('policies/routes.yaml', 'utf8').split('\n').indexOf('  - name: rag-query') + 1;
  t.equal(snapshot.routes[0]!.origin, `${path.join('policies', 'routes.yaml')}:${ragQueryLine}`);
  t.same(
    snapshot.ruleSets.map((ruleSet) => ruleSet.id),
    ['command-injection', 'path-traversal', 'prompt-injection', 'sql-injection', 'xss'],
    'the shipped rule sets load once',
  );
  t.ok(
    snapshot.routes.every((route) => route.inspector !== undefined),
    'every shipped route inspects requests',
  );
  t.same(
    snapshot.routes.map((route) => route.auth.mode),
    ['required', 'required', 'required', 'required', 'none'],
    'only the health check is open',
  );
  t.same(snapshot.routes[0]!.require?.roles?.any_of, ['user', 'admin']);
  t.same(snapshot.routes[3]!.require?.roles?.all_of, ['admin']);
});

t.test('files load in name order', async (t) => {
  const dir = t.testdir({
    'b.yaml': policy('  - name: b-one\n    match: { path: /b }\n'),
    'a.yml': policy(
      '  - name: a-one\n    match: { path: /a }\n',
      '  - name: a-two\n    match: { path_prefix: /a/ }\n',
    ),
    'notes.txt': 'not a policy',
    'c.yaml.bak': 'version: [',
  });
  const snapshot = await loadPolicies(dir);
  t.same(
    snapshot.files,
    ['a.yml', 'b.yaml'].map((name) => path.join(dir, name)),
  );
  t.same(
    snapshot.routes.map((route) => route.name),
    ['a-one', 'a-two', 'b-one'],
  );
});

t.test('file without routes is valid', async (t) => {
  const snapshot = await loadPolicies(t.testdir({ 'empty.yaml': 'version: 1\n' }));
  t.same(snapshot.routes, []);
});

t.test('empty policy folder', async (t) => {
  const dir = t.testdir({ 'README.md': '# policies' });
  t.same(await issuesOf(t, loadPolicies(dir)), [
    { file: dir, line: 0, column: 0, path: '', message: 'no *.yaml or *.yml policy files found' },
  ]);
});

t.test('missing policy folder', async (t) => {
  const dir = path.join(t.testdir({}), 'absent');
  t.same(await issuesOf(t, loadPolicies(dir)), [
    { file: dir, line: 0, column: 0, path: '', message: 'cannot read policy folder (ENOENT)' },
  ]);
});

t.test('duplicate route name across files', async (t) => {
  const dir = t.testdir({
    'a.yaml': policy(
      '  - name: other\n    match: { path: /o }\n',
      '  - name: query\n    match: { path: /q }\n',
    ),
    'b.yaml': policy('  - name: query\n    match: { path: /q2 }\n'),
  });
  const first = path.join(dir, 'a.yaml');
  t.same(await issuesOf(t, loadPolicies(dir)), [
    {
      file: path.join(dir, 'b.yaml'),
      line: 3,
      column: 11,
      path: 'routes[0].name',
      message: `duplicate route name "query", first declared at ${first}:5`,
    },
  ]);
});

t.test('path and path_prefix together', async (t) => {
  const dir = t.testdir({
    'a.yaml': policy('  - name: both\n    match: { path: /a, path_prefix: /b }\n'),
  });
  t.same(await issuesOf(t, loadPolicies(dir)), [
    {
      file: path.join(dir, 'a.yaml'),
      line: 4,
      column: 12,
      path: 'routes[0].match',
      message: 'set exactly one of path or path_prefix',
    },
  ]);
});

t.test('neither path nor path_prefix', async (t) => {
  const dir = t.testdir({
    'a.yaml': policy('  - name: none\n    match:\n      methods: [GET]\n'),
  });
  t.same(await issuesOf(t, loadPolicies(dir)), [
    {
      file: path.join(dir, 'a.yaml'),
      line: 5,
      column: 7,
      path: 'routes[0].match',
      message: 'set exactly one of path or path_prefix',
    },
  ]);
});

t.test('template with two parameters in a segment', async (t) => {
  const dir = t.testdir({
    'a.yaml': policy("  - name: bad\n    match:\n      path: '/files/{a}{b}'\n"),
  });
  t.same(await issuesOf(t, loadPolicies(dir)), [
    {
      file: path.join(dir, 'a.yaml'),
      line: 5,
      column: 13,
      path: 'routes[0].match.path',
      message: 'invalid template segment "{a}{b}": a parameter is a whole segment {name}',
    },
  ]);
});

t.test('other invalid templates', async (t) => {
  const cases: [string, string][] = [
    [
      '/files/{id}.json',
      'invalid template segment "{id}.json": a parameter is a whole segment {name}',
    ],
    ['/a/{id}/b/{id}', 'parameter {id} appears twice'],
    ['/a/{1st}', 'invalid template segment "{1st}": a parameter is a whole segment {name}'],
    ['/a/{id', 'invalid template segment "{id": a parameter is a whole segment {name}'],
  ];
  for (const [template, message] of cases) {
    const dir = t.testdir({
      'a.yaml': policy(`  - name: bad\n    match: { path: '${template}' }\n`),
    });
    t.same(
      await issuesOf(t, loadPolicies(dir)),
      [
        {
          file: path.join(dir, 'a.yaml'),
          line: 4,
          column: 20,
          path: 'routes[0].match.path',
          message,
        },
      ],
      template,
    );
  }
});

t.test('paths that never match', async (t) => {
  const cases: [string, string, string][] = [
    ['path', '/a//b', 'never matches: requests are normalised before routing, so write "/a/b"'],
    ['path', '/a/./b', 'never matches: requests are normalised before routing, so write "/a/b"'],
    [
      'path',
      '/x/{id}/../y',
      'never matches: requests are normalised before routing, so write "/x/y"',
    ],
    [
      'path',
      '/caf%c3%a9/%7euser',
      'never matches: requests are normalised before routing, so write "/caf%C3%A9/~user"',
    ],
    [
      'path',
      '/a%2Fb',
      'never matches: path contains an encoded slash or backslash, and requests with such a path get 400 invalid_path',
    ],
    [
      'path_prefix',
      '/a b/',
      'never matches: path contains a character outside the URI grammar, and requests with such a path get 400 invalid_path',
    ],
    [
      'path_prefix',
      '/x/{id}',
      'a prefix cannot contain template parameters; use path for a template',
    ],
    ['path_prefix', 'api/', 'must start with "/"'],
  ];
  for (const [key, value, message] of cases) {
    const dir = t.testdir({
      'a.yaml': policy(`  - name: dead\n    match:\n      ${key}: '${value}'\n`),
    });
    t.same(
      await issuesOf(t, loadPolicies(dir)),
      [
        {
          file: path.join(dir, 'a.yaml'),
          line: 5,
          column: key.length + 9,
          path: `routes[0].match.${key}`,
          message,
        },
      ],
      `${key}: ${value}`,
    );
  }
});

t.test('normalised paths are accepted', async (t) => {
  const dir = t.testdir({
    'a.yaml': policy(
      '  - name: root\n    match: { path: / }\n',
      '  - name: slash\n    match: { path: /a/ }\n',
      "  - name: template\n    match: { path: '/c/{name}/q' }\n",
      '  - name: escaped\n    match: { path: /caf%C3%A9 }\n',
      '  - name: all\n    match: { path_prefix: / }\n',
    ),
  });
  const snapshot = await loadPolicies(dir);
  t.equal(snapshot.routes.length, 5);
});

t.test('route field errors', async (t) => {
  const dir = t.testdir({
    'a.yaml': [
      'version: 1',
      'routes:',
      '  - name: Bad_Name',
      '    match: { methods: [get], hosts: [Example.com], path: /a }',
      '    websocket: yes',
      '    body: { max_bytes: 64kb }',
      '    timeout: 5s',
      '',
    ].join('\n'),
  });
  const file = path.join(dir, 'a.yaml');
  t.same(await issuesOf(t, loadPolicies(dir)), [
    {
      file,
      line: 3,
      column: 11,
      path: 'routes[0].name',
      message: 'must be 1-64 characters of a-z, 0-9, "_", "." and "-"',
    },
    {
      file,
      line: 4,
      column: 24,
      path: 'routes[0].match.methods[0]',
      message: 'must be an upper-case HTTP method such as GET',
    },
    {
      file,
      line: 4,
      column: 38,
      path: 'routes[0].match.hosts[0]',
      message: 'must be a lower-case host name, optionally starting with "*."',
    },
    {
      file,
      line: 5,
      column: 16,
      path: 'routes[0].websocket',
      message: 'Invalid input: expected boolean, received string',
    },
    {
      file,
      line: 6,
      column: 24,
      path: 'routes[0].body.max_bytes',
      message:
        'invalid size "64kb": write a number with a unit: B, KiB, MiB, GiB, KB, MB or GB (e.g. 64KiB)',
    },
    { file, line: 7, column: 5, path: 'routes[0].timeout', message: 'unknown key' },
  ]);
});

t.test('version must be 1', async (t) => {
  const dir = t.testdir({ 'a.yaml': 'version: 2\nroutes: []\n' });
  t.same(await issuesOf(t, loadPolicies(dir)), [
    { file: path.join(dir, 'a.yaml'), line: 1, column: 10, path: 'version', message: 'must be 1' },
  ]);
});

t.test('empty policy file misses version', async (t) => {
  const dir = t.testdir({ 'a.yaml': '' });
  t.same(await issuesOf(t, loadPolicies(dir)), [
    {
      file: path.join(dir, 'a.yaml'),
      line: 1,
      column: 1,
      path: 'version',
      message: 'missing required key',
    },
  ]);
});

t.test('YAML errors in policy files', async (t) => {
  const dir = t.testdir({
    'a.yaml': policy('  - name: a\n    match: { path: /a }\n    match: { path: /b }\n'),
    'b.yaml': 'version: 1\nroutes:\n  - name: b\n    match: { path: /b\n',
  });
  t.same(await issuesOf(t, loadPolicies(dir)), [
    {
      file: path.join(dir, 'a.yaml'),
      line: 5,
      column: 5,
      path: 'routes[0].match',
      message: 'duplicate key, first written at line 4',
    },
    {
      file: path.join(dir, 'b.yaml'),
      line: 5,
      column: 1,
      path: '',
      message: 'Flow map in block collection must be sufficiently indented and end with a }',
    },
  ]);
});

t.test('every error of every file at once', async (t) => {
  const dir = t.testdir({
    'a.yaml': policy(
      '  - name: one\n    match: { path: /a, path_prefix: /b }\n',
      "  - name: two\n    match: { path: '/x/{a}{b}' }\n",
      '  - name: three\n    match: { path: /c }\n    body: { max_bytes: 10 }\n',
    ),
    'b.yaml': 'version: 1\nroute: []\n',
    'c.yaml': policy('  - name: c\n    match: { methods: [get], path: /c }\n'),
  });
  const issues = await issuesOf(t, loadPolicies(dir));
  t.same(
    issues.map((issue) => [path.basename(issue.file), issue.line, issue.column, issue.path]),
    [
      ['a.yaml', 4, 12, 'routes[0].match'],
      ['a.yaml', 6, 20, 'routes[1].match.path'],
      ['a.yaml', 9, 24, 'routes[2].body.max_bytes'],
      ['b.yaml', 2, 1, 'route'],
      ['c.yaml', 4, 24, 'routes[0].match.methods[0]'],
    ],
  );
  t.equal(
    issues[1]!.message,
    'invalid template segment "{a}{b}": a parameter is a whole segment {name}',
  );
  t.equal(issues[3]!.message, 'unknown key');
});

t.test('routes match in policy order', async (t) => {
  const dir = t.testdir({
    '10-specific.yaml': policy(
      "  - name: collection-query\n    match: { methods: [POST], path: '/api/collections/{name}/query' }\n",
      '  - name: admin-host\n    match: { hosts: [admin.example.com], path_prefix: /api/ }\n',
      '  - name: tenant-host\n    match: { hosts: ["*.tenants.example.com"], path_prefix: /api/ }\n',
    ),
    '20-general.yaml': policy(
      '  - name: api-read\n    match: { methods: [GET, HEAD], path_prefix: /api }\n',
      '  - name: api-write\n    match: { methods: [POST], path_prefix: /api/ }\n',
    ),
  });
  const { routes } = await loadPolicies(dir);
  const lookup = (method: string, host: string | undefined, target: string) => {
    const result = findRoute(routes, method, host, target);
    return result.kind === 'matched' ? result.route.name : result.kind;
  };
  t.equal(lookup('POST', 'x', '/api/collections/docs/query'), 'collection-query');
  t.same(
    findRoute(routes, 'POST', 'x', '/api/collections/docs/query'),
    { kind: 'matched', route: routes[0], params: { name: 'docs' } },
    'template parameter',
  );
  t.equal(lookup('POST', 'x', '/api/collections/a/b/query'), 'api-write', 'one segment only');
  t.equal(lookup('POST', 'x', '/api/collections//query'), 'api-write', 'empty segment');
  t.equal(lookup('GET', 'admin.example.com', '/api/x'), 'admin-host', 'file order first');
  t.equal(lookup('GET', 'eu.tenants.example.com', '/api/x'), 'tenant-host');
  t.equal(lookup('GET', 'tenants.example.com', '/api/x'), 'api-read', 'wildcard needs a label');
  t.equal(lookup('GET', undefined, '/api/x'), 'api-read', 'no Host header');
  t.equal(lookup('GET', 'x', '/api'), 'api-read', 'prefix itself');
  t.equal(lookup('GET', 'x', '/apix'), 'not_found', 'whole segments only');
  t.equal(lookup('POST', 'x', '/api'), 'api-write', 'prefix with or without slash');
  t.same(findRoute(routes, 'DELETE', 'x', '/api/x'), {
    kind: 'method_not_allowed',
    allow: ['GET', 'HEAD', 'POST'],
  });
});

const OWN_RULE_SET = `description: The operator's own rules
rules:
  - id: own-codename
    description: A project code name
    phrases: [blue heron]
    score: 5
`;

t.test('the rulesets folder adds and replaces rule sets', async (t) => {
  const dir = t.testdir({
    'routes.yaml': policy('  - name: a\n    match: { path: /a }\n    auth: none\n'),
    rulesets: {
      'own.yaml': OWN_RULE_SET,
      'xss.yaml': OWN_RULE_SET.replace('own-codename', 'own-xss'),
    },
  });
  const snapshot = await loadPolicies(dir);
  const ids = snapshot.ruleSets.map((ruleSet) => ruleSet.id);
  t.same(ids, [
    'command-injection',
    'own',
    'path-traversal',
    'prompt-injection',
    'sql-injection',
    'xss',
  ]);
  const xss = snapshot.ruleSets.find((ruleSet) => ruleSet.id === 'xss')!;
  t.same(
    xss.rules.map((rule) => rule.id),
    ['own-xss'],
    'a file named like a shipped set replaces it',
  );
  t.same(snapshot.ruleSetFiles.length, 6);
  const before = snapshot.hash;
  const changed = t.testdir({
    'routes.yaml': policy('  - name: a\n    match: { path: /a }\n    auth: none\n'),
    rulesets: { 'own.yaml': OWN_RULE_SET.replace('blue heron', 'grey heron') },
  });
  t.not((await loadPolicies(changed)).hash, before, 'rule sets are part of the hash');
});

t.test('rule-set and inspection problems have positions', async (t) => {
  const dir = t.testdir({
    'routes.yaml': policy(
      '  - name: a\n    match: { path: /a }\n    auth: none\n' +
        '    inspect: { rule_sets: [nope], disable: { ids: [no-such-rule] } }\n',
    ),
    rulesets: {
      'bad.yaml':
        'description: d\nrules:\n  - id: bad-backreference\n    description: d\n' +
        "    pattern: '(a)\\1'\n    score: 5\n",
    },
  });
  const issues = await issuesOf(t, loadPolicies(dir));
  const messages = issues.map(
    (issue) => `${path.basename(issue.file)}:${issue.line}: ${issue.message}`,
  );
  t.match(messages, [/^bad\.yaml:5: /]);
  t.ok(
    messages.some((m) => m.startsWith('routes.yaml:6: ') && m.includes('unknown rule set "nope"')),
    'unknown rule set',
  );
  t.ok(
    messages.some((m) => m.includes('unknown rule id "no-such-rule"')),
    'unknown rule id',
  );
});

t.test('body and inspection settings are validated', async (t) => {
  const dir = t.testdir({
    'routes.yaml': policy(
      '  - name: a\n    match: { path: /a }\n    auth: none\n' +
        '    body: { content_types: [json], compressed: maybe }\n' +
        '    inspect: { mode: block-all, threshold: 0 }\n',
    ),
  });
  const issues = await issuesOf(t, loadPolicies(dir));
  const paths = issues.map((issue) => issue.path).sort();
  t.same(paths, [
    'routes[0].body.compressed',
    'routes[0].body.content_types[0]',
    'routes[0].inspect.mode',
    'routes[0].inspect.threshold',
  ]);
});
