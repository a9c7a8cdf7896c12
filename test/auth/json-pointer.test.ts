import t from 'tap';
import { readClaim, renderTemplate, isValidTemplate } from '../../src/auth/claim-path.js';
import { evaluateJsonPointer, parseJsonPointer } from '../../src/auth/json-pointer.js';

// The example document of RFC 6901 section 5.
const RFC_DOCUMENT = {
  foo: ['bar', 'baz'],
  '': 0,
  'a/b': 1,
  'c%d': 2,
  'e^f': 3,
  'g|h': 4,
  'i\\j': 5,
  'k"l': 6,
  ' ': 7,
  'm~n': 8,
};

t.test('JSON Pointer evaluates the RFC 6901 examples', async (t) => {
  const cases: [string, unknown][] = [
    ['', RFC_DOCUMENT],
    ['/foo', ['bar', 'baz']],
    ['/foo/0', 'bar'],
    ['/', 0],
    ['/a~1b', 1],
    ['/c%d', 2],
    ['/e^f', 3],
    ['/g|h', 4],
    ['/i\\j', 5],
    ['/k"l', 6],
    ['/ ', 7],
    ['/m~0n', 8],
  ];
  for (const [pointer, expected] of cases) {
    t.same(evaluateJsonPointer(RFC_DOCUMENT, pointer), expected, JSON.stringify(pointer));
  }
});

t.test('JSON Pointer decodes ~1 before ~0', async (t) => {
  t.same(parseJsonPointer('/~01'), ['~1']);
  t.equal(evaluateJsonPointer({ '~1': 'x', '/': 'y' }, '/~01'), 'x');
});

t.test('JSON Pointer rejects invalid syntax', async (t) => {
  for (const pointer of ['foo', '/~2', '/a~', '#/foo']) {
    t.equal(parseJsonPointer(pointer), undefined, pointer);
  }
});

t.test('JSON Pointer misses return undefined', async (t) => {
  const cases: [unknown, string][] = [
    [RFC_DOCUMENT, '/foo/2'],
    [RFC_DOCUMENT, '/foo/-'],
    [RFC_DOCUMENT, '/foo/01'],
    [RFC_DOCUMENT, '/foo/bar'],
    [RFC_DOCUMENT, '/missing'],
    [{}, '/__proto__'],
    [{}, '/constructor'],
    [{}, '/toString'],
    ['text', '/0'],
    [null, '/a'],
    [undefined, '/a'],
  ];
  for (const [document, pointer] of cases) {
    t.equal(evaluateJsonPointer(document, pointer), undefined, pointer);
  }
});

t.test('claim paths read dots and pointers', async (t) => {
  const claims = {
    roles: ['reader'],
    realm_access: { roles: ['admin'] },
    'https://example.com/roles': ['editor'],
  };
  t.same(readClaim(claims, 'roles'), ['reader']);
  t.same(readClaim(claims, 'realm_access.roles'), ['admin']);
  t.same(readClaim(claims, '/https:~1~1example.com~1roles'), ['editor']);
  t.equal(readClaim(claims, 'realm_access..roles'), undefined);
  t.equal(readClaim(claims, 'roles.length'), undefined);
});

t.test('templates render claims', async (t) => {
  t.equal(renderTemplate('user_{sub}', { sub: 'alice' }), 'user_alice');
  t.equal(renderTemplate('{tenant.id}/{sub}', { sub: 'a', tenant: { id: 7 } }), '7/a');
  t.equal(renderTemplate('user_{sub}', {}), undefined, 'missing claim');
  t.equal(renderTemplate('user_{sub}', { sub: ['a'] }), undefined, 'array claim');
  t.ok(isValidTemplate('user_{sub}'));
  for (const template of ['user_{', 'user_}', 'user_{}', 'user_{a{b}}']) {
    t.notOk(isValidTemplate(template), template);
  }
});
