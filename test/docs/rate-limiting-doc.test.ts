import { readFileSync } from 'node:fs';
import t from 'tap';
import type { Test } from 'tap';
import { parse } from 'yaml';
import { loadPolicies } from '../../src/policy/load-policies.js';
import type { CompiledLayer } from '../../src/ratelimit/compile.js';
import { renderRateLimitHeaders } from '../../src/ratelimit/headers.js';
import { RateLimiter } from '../../src/ratelimit/limiter.js';
import { planChecks } from '../../src/ratelimit/plan.js';
import type { RateLimitRequest } from '../../src/ratelimit/request.js';
import { MemoryRateLimitStore } from '../../src/store/create-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { rateLimitStoreSettingsSchema } from '../../src/store/settings.js';

const DOC = readFileSync('docs/rate-limiting.md', 'utf8');

/** Returns the first YAML block after `heading`. */
function yamlAfter(heading: string): string {
  const start = DOC.indexOf(`\n${heading}\n`);
  return /```yaml\n([\s\S]*?)```/.exec(DOC.slice(start))?.[1] ?? '';
}

async function exampleLayers(t: Test): Promise<readonly CompiledLayer[]> {
  const dir = t.testdir({ 'routes.yaml': yamlAfter('## Worked example') });
  return (await loadPolicies(dir)).rateLimitLayers;
}

function request(fields: Partial<RateLimitRequest> & { route: string }): RateLimitRequest {
  return { clientIp: '203.0.113.7', method: 'POST', headers: {}, ...fields };
}

const ALICE = { claims: { sub: 'alice', roles: ['user'] }, roles: ['user'] };
const ROOT = { claims: { sub: 'root', roles: ['admin'] }, roles: ['admin'] };

t.test('worked example binds layers', async (t) => {
  const layers = await exampleLayers(t);
  const routes = Object.fromEntries(
    layers.map((layer) => [layer.name, layer.routes && [...layer.routes].sort()]),
  );
  t.same(routes, {
    'per-ip': undefined,
    'per-user': ['document-upload', 'rag-query'],
    uploads: ['document-upload'],
    'global-candidate': undefined,
  });
  t.ok(layers.find((layer) => layer.name === 'global-candidate')?.shadow, 'shadow layer');
});

t.test('worked example table holds', async (t) => {
  const layers = await exampleLayers(t);
  const cases: [string, RateLimitRequest, string[]][] = [
    [
      'health from a public address',
      request({ route: 'backend-health', method: 'GET' }),
      ['per-ip', 'global-candidate'],
    ],
    [
      'health from a private address',
      request({ route: 'backend-health', method: 'GET', clientIp: '10.1.2.3' }),
      ['global-candidate'],
    ],
    [
      'query by alice',
      request({ route: 'rag-query', ...ALICE }),
      ['per-ip', 'per-user', 'global-candidate'],
    ],
    ['query by an admin', request({ route: 'rag-query', ...ROOT }), ['per-ip', 'global-candidate']],
    [
      'upload by alice',
      request({ route: 'document-upload', ...ALICE }),
      ['per-ip', 'per-user', 'uploads', 'global-candidate'],
    ],
  ];
  for (const [name, input, expected] of cases) {
    const decided = new Set(planChecks(layers, input).targets.map((target) => target.layer.name));
    t.same([...decided], expected, name);
  }
});

t.test('worked example decisions', async (t) => {
  const layers = await exampleLayers(t);
  // A clock that stands still, so that no quota comes back while the test runs.
  const store = new MemoryRateLimitStore(new MemoryStore({ now: () => 1_000_000 }));
  const limiter = new RateLimiter({ layers, store });
  const query = request({ route: 'rag-query', ...ALICE });

  const first = await Promise.all(Array.from({ length: 3 }, () => limiter.decide(query)));
  const third = first[2]!;
  t.equal(third.outcome, 'allowed', 'third query admitted');
  if (third.outcome === 'allowed' && third.headers !== undefined) {
    t.same(renderRateLimitHeaders(third.headers), {
      'RateLimit-Policy': '"per-user-60s";q=60;w=60, "per-user-86400s";q=2000;w=86400',
      RateLimit: '"per-user-60s";r=17;t=3',
    });
  }

  for (let index = 3; index < 20; index += 1) await limiter.decide(query);
  const rejected = await limiter.decide(query);
  t.equal(rejected.outcome, 'limited', '21st query limited');
  if (rejected.outcome === 'limited') {
    t.equal(rejected.layer, 'per-user', 'by per-user');
    const headers = renderRateLimitHeaders(rejected.headers);
    t.equal(headers['Retry-After'], '1');
    t.equal(headers['RateLimit'], '"per-user-60s";r=0;t=1');
  }

  const fromSameNetwork = await limiter.decide(
    request({ route: 'backend-health', method: 'GET', clientIp: '203.0.113.99' }),
  );
  t.equal(fromSameNetwork.outcome, 'allowed');
  if (fromSameNetwork.outcome === 'allowed' && fromSameNetwork.headers !== undefined) {
    t.equal(
      renderRateLimitHeaders(fromSameNetwork.headers)['RateLimit'],
      '"per-ip";r=579;t=3',
      'the /24 shares per-ip, and the rejected query consumed none of it',
    );
  }

  const upload = request({ route: 'document-upload', ...ROOT });
  const uploads = await Promise.all([limiter.decide(upload), limiter.decide(upload)]);
  const thirdUpload = await limiter.decide(upload);
  t.same(
    uploads.map((decision) => decision.outcome),
    ['allowed', 'allowed'],
    'two uploads at once',
  );
  t.equal(thirdUpload.outcome, 'limited', 'third concurrent upload limited');
  if (thirdUpload.outcome === 'limited') {
    t.equal(thirdUpload.layer, 'uploads');
    t.equal(thirdUpload.retryAfterSeconds, 1);
  }
});

t.test('store example is valid', async (t) => {
  const blocks = [...DOC.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!);
  const example = blocks.find((block) => block.startsWith('store:'));
  t.ok(example, 'the store example was found');
  const parsed = rateLimitStoreSettingsSchema.safeParse(
    (parse(example ?? '') as { store?: unknown })?.store,
  );
  t.ok(parsed.success, parsed.success ? 'valid' : parsed.error.message);
  t.equal(parsed.data?.redis?.mode, 'sentinel');
});
