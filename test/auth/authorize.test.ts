import t from 'tap';
import { authorize, scopesOf, type AuthorizationRequest } from '../../src/auth/authorize.js';
import { routeRequireSchema } from '../../src/auth/schema.js';

const CLAIMS: Readonly<Record<string, unknown>> = {
  sub: 'alice',
  roles: ['reader', 'writer'],
  realm_access: { roles: ['admin'] },
  scope: 'rag:query rag:upload',
  tenant: 'acme',
  tier: 2,
  groups: ['eng', 'ops'],
  collections: ['shared_docs', 'team_eng'],
};

function decide(require: unknown, request: AuthorizationRequest = {}, claims = CLAIMS): string {
  const decision = authorize(claims, routeRequireSchema.parse(require), request);
  return decision.allow ? 'allow' : decision.reason;
}

t.test('no requirements allow', async (t) => {
  t.equal(decide({}), 'allow');
});

t.test('roles any_of and all_of', async (t) => {
  t.equal(decide({ roles: { any_of: ['admin', 'writer'] } }), 'allow');
  t.equal(decide({ roles: { any_of: ['admin'] } }), 'role_missing');
  t.equal(decide({ roles: { all_of: ['reader', 'writer'] } }), 'allow');
  t.equal(decide({ roles: { all_of: ['reader', 'admin'] } }), 'role_missing');
  t.equal(decide({ roles: { claim: 'realm_access.roles', any_of: ['admin'] } }), 'allow');
  t.equal(decide({ roles: { any_of: ['reader'] } }, {}, { ...CLAIMS, roles: 'reader' }), 'allow');
  const noRoles = { ...CLAIMS, roles: undefined };
  t.equal(decide({ roles: { any_of: ['reader'] } }, {}, noRoles), 'role_missing');
});

t.test('scopes from scope and scp', async (t) => {
  t.equal(decide({ scopes: { all_of: ['rag:query', 'rag:upload'] } }), 'allow');
  t.equal(decide({ scopes: { any_of: ['rag:admin'] } }), 'scope_missing');
  t.same([...scopesOf({ scp: ['a', 'b'] })], ['a', 'b']);
  t.same([...scopesOf({ scp: 'a b' })], ['a', 'b']);
  t.same([...scopesOf({ scope: 'a  b', scp: ['c'] })], ['a', 'b', 'c']);
  t.same([...scopesOf({ scope: ['not', 'a', 'string'] })], ['not', 'a', 'string']);
});

t.test('claim conditions', async (t) => {
  t.equal(decide({ claims: [{ claim: 'tenant', equals: 'acme' }] }), 'allow');
  t.equal(decide({ claims: [{ claim: 'tenant', equals: 'other' }] }), 'claim_mismatch');
  t.equal(decide({ claims: [{ claim: 'tier', equals: '2' }] }), 'claim_mismatch', 'no coercion');
  t.equal(decide({ claims: [{ claim: 'tier', one_of: [1, 2] }] }), 'allow');
  t.equal(decide({ claims: [{ claim: 'tier', one_of: [3] }] }), 'claim_mismatch');
  t.equal(decide({ claims: [{ claim: 'groups', contains: 'ops' }] }), 'allow');
  t.equal(decide({ claims: [{ claim: 'groups', contains: 'hr' }] }), 'claim_mismatch');
  t.equal(decide({ claims: [{ claim: 'tenant', contains: 'acme' }] }), 'claim_mismatch');
  t.equal(decide({ claims: [{ claim: 'missing', equals: 'x' }] }), 'claim_mismatch');
});

t.test('body binding to a template or a claim list', async (t) => {
  const require = {
    bindings: [{ body: '/collection', equals: 'user_{sub}', in_claim: 'collections' }],
  };
  const cases: [string, unknown, string][] = [
    ['own collection', { collection: 'user_alice' }, 'allow'],
    ['listed collection', { collection: 'team_eng' }, 'allow'],
    ['another user', { collection: 'user_bob' }, 'binding_mismatch'],
    ['missing field', { query: 'x' }, 'binding_mismatch'],
    ['not a string', { collection: ['user_alice'] }, 'binding_mismatch'],
    ['no body', undefined, 'binding_mismatch'],
    ['body not an object', 'user_alice', 'binding_mismatch'],
  ];
  for (const [name, body, expected] of cases) {
    t.equal(decide(require, { body }), expected, name);
  }
  const nested = { bindings: [{ body: '/filter/collection', equals: 'user_{sub}' }] };
  t.equal(decide(nested, { body: { filter: { collection: 'user_alice' } } }), 'allow', 'nested');
  const noSub = { ...CLAIMS, sub: undefined };
  const own = { body: { collection: 'user_' } };
  t.equal(decide(nested, own, noSub), 'binding_mismatch', 'missing claim never matches');
});

t.test('param binding', async (t) => {
  const require = { bindings: [{ param: 'tenant', equals: '{tenant}' }] };
  t.equal(decide(require, { params: { tenant: 'acme' } }), 'allow');
  t.equal(decide(require, { params: { tenant: 'other' } }), 'binding_mismatch');
  t.equal(decide(require, {}), 'binding_mismatch');
});

t.test('rules are checked in order', async (t) => {
  const require = {
    roles: { any_of: ['admin'] },
    bindings: [{ body: '/collection', equals: 'user_{sub}' }],
  };
  t.equal(decide(require, { body: {} }), 'role_missing');
});
