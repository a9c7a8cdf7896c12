import t from 'tap';
import {
  authConfigSchema,
  routeAuthSchema,
  routeIdentitySchema,
  routeRequireSchema,
} from '../../src/auth/schema.js';
import { issuerEntry } from './helpers/tokens.js';

const JWKS = { url: 'https://id.example.test/jwks' };

function issuesOf(
  input: unknown,
  schema: { safeParse(value: unknown): unknown } = authConfigSchema,
) {
  const result = schema.safeParse(input) as {
    success: boolean;
    error?: { issues: { path: PropertyKey[]; message: string }[] };
  };
  return (result.error?.issues ?? []).map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

t.test('auth config defaults', async (t) => {
  const config = authConfigSchema.parse({
    issuers: [issuerEntry({ algorithms: ['RS256'], jwks: JWKS })],
  });
  t.equal(config.max_token_bytes, 8192);
  t.same(config.token_cache, { max_entries: 10_000, max_age: 300_000 });
  const issuer = config.issuers[0]!;
  t.equal(issuer.clock_tolerance, 30_000);
  t.equal(issuer.max_lifetime, 86_400_000);
  t.same(issuer.jwks, {
    url: JWKS.url,
    ttl: 300_000,
    refresh_ahead: 30_000,
    max_age: 3_600_000,
    cooldown: 30_000,
    timeout: 5_000,
    max_bytes: 65_536,
  });
});

t.test('alg none is a schema error', async (t) => {
  const issues = issuesOf({ issuers: [issuerEntry({ algorithms: ['none'], jwks: JWKS })] });
  t.match(issues.join('\n'), /issuers\.0\.algorithms\.0: "none" is never allowed/);
  const other = issuesOf({ issuers: [issuerEntry({ algorithms: ['HS1'], jwks: JWKS })] });
  t.match(other.join('\n'), /must be one of HS256/);
});

t.test('issuer key sources must fit the algorithms', async (t) => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['HS256 without secrets', { algorithms: ['HS256'] }, /secrets: HS256 needs at least one/],
    ['RS256 without keys', { algorithms: ['RS256'] }, /keys: RS256 needs jwks or keys/],
    [
      'secrets without HS',
      { algorithms: ['RS256'], jwks: JWKS, secrets: [{ env: 'S' }] },
      /algorithms: secrets are set/,
    ],
    [
      'jwks without asymmetric',
      { algorithms: ['HS256'], jwks: JWKS, secrets: [{ env: 'S' }] },
      /algorithms: jwks or keys are set/,
    ],
    ['duplicate algorithm', { algorithms: ['RS256', 'RS256'], jwks: JWKS }, /twice/],
    [
      'secret with file and env',
      { algorithms: ['HS256'], secrets: [{ env: 'S', file: 'f' }] },
      /exactly one/,
    ],
    ['unknown key', { algorithms: ['RS256'], jwks: JWKS, extra: 1 }, /extra/],
  ];
  for (const [name, issuer, message] of cases) {
    t.match(issuesOf({ issuers: [issuerEntry(issuer)] }).join('\n'), message, name);
  }
});

t.test('jwks url and timings are checked', async (t) => {
  const issuer = (jwks: Record<string, unknown>) => ({
    issuers: [issuerEntry({ algorithms: ['RS256'], jwks })],
  });
  t.match(issuesOf(issuer({ url: 'http://id.example.test/jwks' })).join(), /must use https/);
  t.same(issuesOf(issuer({ url: 'http://127.0.0.1:8000/jwks' })), [], 'loopback http');
  t.match(issuesOf(issuer({ url: 'file:///etc/jwks' })).join(), /https/);
  t.match(issuesOf(issuer({ ...JWKS, ttl: '30' })).join(), /invalid duration/);
  t.match(issuesOf(issuer({ ...JWKS, refresh_ahead: '5m' })).join(), /shorter than ttl/);
  t.match(issuesOf(issuer({ ...JWKS, max_age: '1m' })).join(), /at least ttl/);
  t.match(issuesOf(issuer({ ...JWKS, cooldown: '1h' })).join(), /not be longer than ttl/);
});

t.test('issuer names and iss values are unique', async (t) => {
  const first = issuerEntry({ algorithms: ['RS256'], jwks: JWKS });
  const issues = issuesOf({ issuers: [first, { ...first }] }).join('\n');
  t.match(issues, /issuers\.1\.name: issuer name "main" is used twice/);
  t.match(issues, /issuers\.1\.issuer: issuer .* is configured twice/);
});

t.test('max token bytes is bounded', async (t) => {
  const issuers = [issuerEntry({ algorithms: ['RS256'], jwks: JWKS })];
  t.match(issuesOf({ issuers, max_token_bytes: '1MiB' }).join(), /1B to 64KiB/);
});

t.test('decryption needs keys for its algorithms', async (t) => {
  const issuers = [issuerEntry({ algorithms: ['RS256'], jwks: JWKS })];
  const decryption = {
    key_management_algorithms: ['dir', 'RSA-OAEP-256'],
    content_algorithms: ['A256GCM'],
  };
  const issues = issuesOf({ issuers, decryption }).join('\n');
  t.match(issues, /decryption\.secrets: dir needs at least one secret/);
  t.match(issues, /decryption\.keys: RSA-OAEP and ECDH-ES need at least one private key/);
  const rsa15 = { ...decryption, key_management_algorithms: ['RSA1_5'] };
  t.ok(issuesOf({ issuers, decryption: rsa15 }).length > 0, 'RSA1_5 is not accepted');
});

t.test('route auth sources', async (t) => {
  t.same(routeAuthSchema.parse({}), { sources: { bearer: true } });
  t.match(issuesOf({ sources: { bearer: false } }, routeAuthSchema).join(), /at least one/);
  t.match(issuesOf({ sources: { cookie: 'a b' } }, routeAuthSchema).join(), /cookie name/);
});

t.test('route require rules', async (t) => {
  t.same(routeRequireSchema.parse({ roles: { any_of: ['a'] } }).roles, {
    claim: 'roles',
    any_of: ['a'],
  });
  const cases: [unknown, RegExp][] = [
    [{ roles: {} }, /any_of, all_of or both/],
    [{ claims: [{ claim: 'a', equals: 1, one_of: [1] }] }, /exactly one of equals/],
    [{ claims: [{ claim: 'a..b', equals: 1 }] }, /dot path/],
    [{ bindings: [{ body: 'collection', equals: 'x' }] }, /JSON Pointer/],
    [{ bindings: [{ body: '/c', param: 'c', equals: 'x' }] }, /exactly one of body or param/],
    [{ bindings: [{ body: '/c' }] }, /equals, in_claim or both/],
    [{ bindings: [{ body: '/c', equals: 'user_{sub' }] }, /placeholders/],
  ];
  for (const [input, message] of cases) {
    t.match(issuesOf(input, routeRequireSchema).join('\n'), message, JSON.stringify(input));
  }
});

t.test('route identity headers', async (t) => {
  t.same(routeIdentitySchema.parse({}), {
    headers: [
      { header: 'X-User-Id', claim: 'sub' },
      { header: 'X-User-Roles', claim: 'roles' },
      { header: 'X-Session-Id', claim: 'sid' },
    ],
    forward_token: false,
  });
  for (const header of ['Content-Length', 'host', 'Authorization', 'X-Forwarded-For']) {
    const issues = issuesOf({ headers: [{ header, claim: 'sub' }] }, routeIdentitySchema);
    t.match(issues.join(), /must not be a header that frames/, header);
  }
  const twice = [
    { header: 'X-User', claim: 'sub' },
    { header: 'x-user', claim: 'sid' },
  ];
  t.match(issuesOf({ headers: twice }, routeIdentitySchema).join(), /same header/);
});
