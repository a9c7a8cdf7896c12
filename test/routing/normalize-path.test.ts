import fc from 'fast-check';
import t from 'tap';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { normalizePath, normalizeTarget } from '../../src/routing/normalize-path.js';

function rejectionCode(path: string): string | undefined {
  try {
    normalizePath(path);
    return undefined;
  } catch (error) {
    return error instanceof GatewayError ? error.code : 'unexpected';
  }
}

t.test('normalizePath resolves bypass attempts', async (t) => {
  const cases: [string, string][] = [
    ['/api/rag/../admin', '/api/admin'],
    ['/api/%2e%2e/admin', '/admin'],
    ['/api/%2E%2e/admin', '/admin'],
    ['/api/.%2E/admin', '/admin'],
    ['//api//rag/query', '/api/rag/query'],
    ['/api/./rag/./query', '/api/rag/query'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/api/rag/..', '/api/'],
    ['/', '/'],
    ['/a/', '/a/'],
    ['/%61%70%69/rag', '/api/rag'],
    ['/api/%7euser', '/api/~user'],
    ['/api/caf%c3%a9', '/api/caf%C3%A9'],
    ['/api/a%20b', '/api/a%20b'],
  ];
  for (const [input, expected] of cases) t.equal(normalizePath(input), expected, input);
});

t.test('normalizePath rejects ambiguous paths', async (t) => {
  const cases = [
    '/api/%2fadmin',
    '/api/%2Fadmin',
    '/api/%5cadmin',
    '/api\\admin',
    '/api/%00',
    '/api/%zz',
    '/api/%4',
    '/api/\u0000',
    '/api/a b',
    '/api/<script>',
  ];
  for (const input of cases) t.equal(rejectionCode(input), 'invalid_path', JSON.stringify(input));
});

t.test('normalizeTarget keeps the query raw', async (t) => {
  t.same(normalizeTarget('/a/../b?x=%2F..&y=1'), { path: '/b', query: 'x=%2F..&y=1' });
  t.same(normalizeTarget('/b'), { path: '/b', query: undefined });
  t.throws(() => normalizeTarget('http://example.test/b'), { code: 'invalid_path' });
  t.throws(() => normalizeTarget('*'), { code: 'invalid_path' });
  t.throws(() => normalizeTarget('/b?x=%00'), { code: 'invalid_path' });
});

const pathCharacter = fc.constantFrom(
  ..."abcXYZ019-._~!$&'()*+,;=:@/".split(''),
  '%2e',
  '%2E',
  '%41',
  '%7e',
  '%20',
  '%c3',
  '.',
  '..',
  '//',
);
const rawPath = fc.array(pathCharacter, { maxLength: 40 }).map((parts) => `/${parts.join('')}`);

t.test('normalizePath is idempotent', async (t) => {
  fc.assert(
    fc.property(rawPath, (path) => {
      const once = normalizePath(path);
      return normalizePath(once) === once;
    }),
    { numRuns: 2_000 },
  );
  t.pass('2000 generated paths');
});

t.test('normalizePath never yields dot segments', async (t) => {
  fc.assert(
    fc.property(rawPath, (path) => {
      const segments = normalizePath(path).split('/');
      return (
        !segments.includes('..') && !segments.includes('.') && !normalizePath(path).includes('//')
      );
    }),
    { numRuns: 2_000 },
  );
  t.pass('2000 generated paths');
});
