import t from 'tap';
import { TokenCache } from '../../src/auth/token-cache.js';
import type { VerifiedToken } from '../../src/auth/verified-token.js';
import { ManualClock } from './helpers/tokens.js';

function verified(expiresAt: number, sub = 'user-1'): VerifiedToken {
  return {
    issuer: 'main',
    claims: { sub },
    expiresAt,
    algorithm: 'RS256',
    keyId: 'k1',
    encrypted: false,
  };
}

t.test('token cache returns stored tokens', async (t) => {
  const clock = new ManualClock(1_000_000);
  const cache = new TokenCache({ maxEntries: 10, maxAgeMs: 60_000, clock: clock.now });
  cache.set('token-a', verified(clock.now() + 30_000));
  t.equal(cache.get('token-a')?.claims.sub, 'user-1');
  t.equal(cache.get('token-b'), undefined);
});

t.test('token cache entry ends at exp', async (t) => {
  const clock = new ManualClock(1_000_000);
  const cache = new TokenCache({ maxEntries: 10, maxAgeMs: 60_000, clock: clock.now });
  cache.set('token-a', verified(clock.now() + 10_000));
  clock.advance(9_999);
  t.ok(cache.get('token-a'), 'valid just before exp');
  clock.advance(1);
  t.equal(cache.get('token-a'), undefined, 'gone at exp');
  t.equal(cache.size, 0, 'expired entry is removed');
});

t.test('token cache entry ends at max age', async (t) => {
  const clock = new ManualClock(1_000_000);
  const cache = new TokenCache({ maxEntries: 10, maxAgeMs: 5_000, clock: clock.now });
  cache.set('token-a', verified(clock.now() + 3_600_000));
  clock.advance(5_000);
  t.equal(cache.get('token-a'), undefined);
});

t.test('token cache skips expired tokens', async (t) => {
  const clock = new ManualClock(1_000_000);
  const cache = new TokenCache({ maxEntries: 10, maxAgeMs: 5_000, clock: clock.now });
  cache.set('token-a', verified(clock.now()));
  t.equal(cache.size, 0);
});

t.test('token cache evicts least recently used', async (t) => {
  const clock = new ManualClock(1_000_000);
  const cache = new TokenCache({ maxEntries: 3, maxAgeMs: 60_000, clock: clock.now });
  for (const name of ['a', 'b', 'c']) cache.set(name, verified(clock.now() + 30_000, name));
  t.ok(cache.get('a'), 'touch a, so b is now the oldest');
  cache.set('d', verified(clock.now() + 30_000, 'd'));
  t.equal(cache.size, 3);
  t.equal(cache.get('b'), undefined, 'b was evicted');
  for (const name of ['a', 'c', 'd']) t.equal(cache.get(name)?.claims.sub, name);
});

t.test('token cache with zero entries stores nothing', async (t) => {
  const cache = new TokenCache({ maxEntries: 0, maxAgeMs: 60_000 });
  cache.set('token-a', verified(Date.now() + 30_000));
  t.equal(cache.get('token-a'), undefined);
});
