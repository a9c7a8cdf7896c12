import t from 'tap';
import { applyIdentityHeaders, headerValue } from '../../src/auth/identity-headers.js';
import { routeIdentitySchema } from '../../src/auth/schema.js';
import { removeQueryParameter, removeTokenFromHeaders } from '../../src/auth/token-removal.js';

const CLAIMS = { sub: 'alice', roles: ['reader', 'writer'], sid: 'session-1', tenant: 'acme' };

function identity(input: unknown = {}) {
  return routeIdentitySchema.parse(input);
}

function pairs(headers: readonly string[]): [string, string][] {
  const output: [string, string][] = [];
  for (let index = 0; index < headers.length; index += 2) {
    output.push([headers[index]!, headers[index + 1]!]);
  }
  return output;
}

t.test('identity headers replace client copies', async (t) => {
  const headers = [
    'Host',
    'backend',
    'x-user-id',
    'mallory',
    'X-USER-ID',
    'mallory-2',
    'X-User-Roles',
    'admin',
    'x-session-id',
    'forged',
    'Accept',
    'application/json',
  ];
  const result = applyIdentityHeaders(headers, CLAIMS, identity(), { source: 'bearer' });
  t.same(pairs(result.headers), [
    ['Host', 'backend'],
    ['Accept', 'application/json'],
    ['X-User-Id', 'alice'],
    ['X-User-Roles', 'reader,writer'],
    ['X-Session-Id', 'session-1'],
  ]);
  t.same(result.omitted, []);
});

t.test('identity headers for absent claims stay removed', async (t) => {
  const headers = ['X-Session-Id', 'forged', 'x-user-roles', 'admin'];
  const result = applyIdentityHeaders(headers, { sub: 'alice' }, identity(), { source: 'bearer' });
  t.same(pairs(result.headers), [['X-User-Id', 'alice']]);
});

t.test('identity mapping is configurable', async (t) => {
  const config = identity({
    headers: [
      { header: 'X-Tenant', claim: 'tenant' },
      { header: 'X-Roles', claim: 'realm_access.roles' },
    ],
  });
  const claims = { ...CLAIMS, realm_access: { roles: ['admin'] } };
  const result = applyIdentityHeaders(['x-tenant', 'evil'], claims, config, { source: 'bearer' });
  t.same(pairs(result.headers), [
    ['X-Tenant', 'acme'],
    ['X-Roles', 'admin'],
  ]);
});

t.test('unsafe claim values are omitted', async (t) => {
  const claims = { sub: 'alice\r\nX-Admin: true', roles: ['a,b'], sid: { nested: 1 } };
  const result = applyIdentityHeaders([], claims, identity(), { source: 'bearer' });
  t.same(result.headers, []);
  t.same(result.omitted, ['X-User-Id', 'X-User-Roles', 'X-Session-Id']);
});

t.test('header values from claim types', async (t) => {
  t.equal(headerValue('alice'), 'alice');
  t.equal(headerValue(42), '42');
  t.equal(headerValue(true), 'true');
  t.equal(headerValue(['a', 1]), 'a,1');
  t.equal(headerValue([]), undefined);
  t.equal(headerValue(''), undefined);
  t.equal(headerValue(' padded'), undefined);
  t.equal(headerValue('José'), undefined);
  t.equal(headerValue(Number.NaN), undefined);
});

t.test('bearer token is removed unless forwarded', async (t) => {
  const headers = ['Authorization', 'Bearer abc', 'authorization', 'Bearer def', 'Accept', '*/*'];
  const removed = applyIdentityHeaders(headers, {}, identity(), { source: 'bearer' });
  t.same(pairs(removed.headers), [['Accept', '*/*']]);
  const forwarded = applyIdentityHeaders(headers, {}, identity({ forward_token: true }), {
    source: 'bearer',
  });
  t.same(forwarded.headers, headers);
});

t.test('cookie token is removed and other cookies kept', async (t) => {
  const headers = ['Cookie', 'theme=dark; at=abc; lang=en', 'Cookie', 'at=def'];
  t.same(pairs(removeTokenFromHeaders(headers, 'cookie', 'at')), [
    ['Cookie', 'theme=dark; lang=en'],
  ]);
  t.same(removeTokenFromHeaders(['Authorization', 'Basic x'], 'cookie', 'at'), [
    'Authorization',
    'Basic x',
  ]);
});

t.test('query token is removed and other parameters kept raw', async (t) => {
  t.equal(removeQueryParameter('a=%2F&access_token=x&b=1', 'access_token'), 'a=%2F&b=1');
  t.equal(removeQueryParameter('access%5Ftoken=x&b=1', 'access_token'), 'b=1');
  t.equal(removeQueryParameter('access_token=x', 'access_token'), undefined);
  t.equal(removeQueryParameter(undefined, 'access_token'), undefined);
});
