import t from 'tap';
import { routeAuthSchema } from '../../src/auth/schema.js';
import { extractToken, type TokenRequest } from '../../src/auth/token-source.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
const MAX = 8 * 1024;

function sourcesOf(input: unknown) {
  return routeAuthSchema.parse({ sources: input }).sources;
}

function extract(request: Partial<TokenRequest>, sources: unknown = {}) {
  const full = { rawHeaders: [], query: undefined, ...request };
  return extractToken(full, { sources: sourcesOf(sources), maxTokenBytes: MAX });
}

function reasonOf(result: ReturnType<typeof extract>): string {
  return result.ok ? `ok:${result.source}` : result.failure.reason;
}

t.test('bearer header is read by default', async (t) => {
  const result = extract({ rawHeaders: ['Authorization', `Bearer ${TOKEN}`] });
  t.same(result, { ok: true, token: TOKEN, source: 'bearer' });
  t.equal(reasonOf(extract({ rawHeaders: ['authorization', `bearer ${TOKEN}`] })), 'ok:bearer');
  t.equal(reasonOf(extract({ rawHeaders: ['AUTHORIZATION', `BEARER  ${TOKEN}`] })), 'ok:bearer');
});

t.test('missing token is token_missing', async (t) => {
  t.equal(reasonOf(extract({})), 'token_missing');
  t.equal(reasonOf(extract({ rawHeaders: ['Cookie', `session=${TOKEN}`] })), 'token_missing');
  t.equal(
    reasonOf(
      extract(
        { rawHeaders: ['Authorization', `Bearer ${TOKEN}`] },
        { bearer: false, cookie: 'at' },
      ),
    ),
    'token_missing',
    'a disabled source is ignored',
  );
});

t.test('cookie source reads the named cookie', async (t) => {
  const sources = { bearer: false, cookie: 'access_token' };
  const rawHeaders = ['Cookie', `theme=dark; access_token=${TOKEN}; lang=en`];
  t.same(extract({ rawHeaders }, sources), { ok: true, token: TOKEN, source: 'cookie' });
  const quoted = ['Cookie', `access_token="${TOKEN}"`];
  t.equal(reasonOf(extract({ rawHeaders: quoted }, sources)), 'ok:cookie', 'quoted value');
  const prefixed = ['Cookie', `my_access_token=${TOKEN}`];
  t.equal(reasonOf(extract({ rawHeaders: prefixed }, sources)), 'token_missing', 'exact name');
});

t.test('query source is off unless enabled', async (t) => {
  const query = `access_token=${TOKEN}&q=1`;
  t.equal(reasonOf(extract({ query })), 'token_missing');
  t.same(extract({ query }, { query: 'access_token' }), {
    ok: true,
    token: TOKEN,
    source: 'query',
  });
});

t.test('two tokens in one request are token_multiple', async (t) => {
  const bearer = ['Authorization', `Bearer ${TOKEN}`];
  const sources = { cookie: 'access_token', query: 'access_token' };
  const cases: [string, Partial<TokenRequest>][] = [
    ['two Authorization fields', { rawHeaders: [...bearer, 'authorization', `Bearer ${TOKEN}x`] }],
    [
      'Authorization fields of any scheme',
      { rawHeaders: [...bearer, 'Authorization', 'Basic dTpw'] },
    ],
    ['header and cookie', { rawHeaders: [...bearer, 'Cookie', `access_token=${TOKEN}`] }],
    ['header and query', { rawHeaders: bearer, query: `access_token=${TOKEN}` }],
    ['cookie twice in one field', { rawHeaders: ['Cookie', `access_token=a; access_token=b`] }],
    [
      'cookie in two fields',
      { rawHeaders: ['Cookie', 'access_token=a', 'Cookie', 'access_token=b'] },
    ],
    ['query twice', { query: `access_token=${TOKEN}&access_token=${TOKEN}` }],
    ['query twice, one encoded', { query: `access_token=a&access%5Ftoken=b` }],
    ['cookie and query', { rawHeaders: ['Cookie', `access_token=a`], query: 'access_token=b' }],
  ];
  for (const [name, request] of cases) {
    t.equal(reasonOf(extract(request, sources)), 'token_multiple', name);
  }
});

t.test('oversized token is rejected before its syntax', async (t) => {
  const large = 'a'.repeat(MAX + 1);
  t.equal(
    reasonOf(extract({ rawHeaders: ['Authorization', `Bearer ${large}`] })),
    'token_too_large',
  );
  const invalid = '!'.repeat(MAX + 1);
  t.equal(
    reasonOf(extract({ rawHeaders: ['Authorization', `Bearer ${invalid}`] })),
    'token_too_large',
    'size is checked first',
  );
  t.equal(reasonOf(extract({ query: `t=${large}` }, { query: 't' })), 'token_too_large', 'query');
  const fits = 'a'.repeat(MAX);
  t.equal(reasonOf(extract({ rawHeaders: ['Authorization', `Bearer ${fits}`] })), 'ok:bearer');
});

t.test('malformed credentials are token_malformed', async (t) => {
  const cases: [string, string][] = [
    ['Basic scheme', 'Basic dXNlcjpwYXNz'],
    ['scheme only', 'Bearer'],
    ['empty token', 'Bearer '],
    ['two tokens in one value', `Bearer ${TOKEN}, Bearer ${TOKEN}`],
    ['space inside', `Bearer ${TOKEN} extra`],
    ['control character', `Bearer ${TOKEN}\u0001`],
    ['no scheme', TOKEN],
  ];
  for (const [name, value] of cases) {
    t.equal(reasonOf(extract({ rawHeaders: ['Authorization', value] })), 'token_malformed', name);
  }
});
