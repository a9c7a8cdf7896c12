import type { Test } from 'tap';
import { isRevoked } from './fixtures.js';
import type { RevocationList } from '../../src/revocation/revocation-list.js';

/** Creates a started list that is empty, for one subtest. */
export type ListFactory = (t: Test) => Promise<RevocationList>;

const seconds = (ms: number) => Math.floor(ms / 1000);

/** Registers the tests that every RevocationList must pass. */
export function testListContract(t: Test, createList: ListFactory): void {
  t.test('jti revocation', async (t) => {
    const list = await createList(t);
    t.same(list.check({ jti: 'token-1' }), { revoked: false }, 'unknown jti');
    const record = await list.revoke({ kind: 'jti', value: 'token-1', reason: 'leaked' });
    t.equal(record.kind, 'jti');
    t.ok(record.expiresAt !== undefined, 'jti record gets the default lifetime');
    t.same(list.check({ jti: 'token-1' }), { revoked: true, kind: 'jti', reason: 'leaked' });
    t.same(list.check({ jti: 'token-2' }), { revoked: false }, 'other jti');
    t.same(list.check({ sub: 'token-1' }), { revoked: false }, 'same value in another claim');
    t.same(list.check({ jti: 42 }), { revoked: false }, 'non-string jti');
    t.equal(await list.unrevoke('jti', 'token-1'), true);
    t.same(list.check({ jti: 'token-1' }), { revoked: false }, 'after unrevoke');
    t.equal(await list.unrevoke('jti', 'token-1'), false, 'second unrevoke');
  });

  t.test('jti record expires with the token', async (t) => {
    const list = await createList(t);
    const now = Date.now();
    const record = await list.revoke({
      kind: 'jti',
      value: 'short',
      reason: 'test',
      tokenExpiresAt: now + 60_000,
    });
    t.ok(record.expiresAt! >= now + 60_000, 'kept at least until exp');
    t.ok(record.expiresAt! <= now + 60_000 + 60_000 + 1_000, 'plus the retention margin');
    // Long enough that a loaded machine still checks before it ends.
    await list.revoke({ kind: 'jti', value: 'ttl', reason: 'test', ttlMs: 2_000 });
    t.ok(isRevoked(list.check({ jti: 'ttl' })), 'revoked before the TTL');
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    t.same(list.check({ jti: 'ttl' }), { revoked: false }, 'free after the TTL');
    const page = await list.list();
    t.same(
      page.records.map((r) => r.value),
      ['short'],
      'expired record is not listed',
    );
  });

  t.test('sub revocation compares iat', async (t) => {
    const list = await createList(t);
    const cutOff = Date.now() - 10_000;
    await list.revoke({ kind: 'sub', value: 'alice', reason: 'offboarded', issuedBefore: cutOff });
    const revoked = { revoked: true, kind: 'sub', reason: 'offboarded' };
    t.same(list.check({ sub: 'alice', iat: seconds(cutOff) - 60 }), revoked, 'issued before');
    t.same(list.check({ sub: 'alice', iat: seconds(cutOff) }), revoked, 'issued at the cut-off');
    t.same(
      list.check({ sub: 'alice', iat: seconds(cutOff) + 1 }),
      { revoked: false },
      'issued after',
    );
    t.same(list.check({ sub: 'alice' }), revoked, 'no iat counts as old');
    t.same(list.check({ sub: 'bob', iat: 0 }), { revoked: false }, 'other subject');
  });

  t.test('sub revocation defaults to now', async (t) => {
    const list = await createList(t);
    const before = Date.now();
    const record = await list.revoke({ kind: 'sub', value: 'carol', reason: 'password reset' });
    t.ok(record.issuedBefore! >= before, 'cut-off is the time of the revocation');
    t.equal(record.expiresAt, undefined, 'sub record without TTL does not expire');
    t.ok(isRevoked(list.check({ sub: 'carol', iat: seconds(before) })));
    t.same(list.check({ sub: 'carol', iat: seconds(before) + 5 }), { revoked: false });
  });

  t.test('sid revocation', async (t) => {
    const list = await createList(t);
    await list.revoke({ kind: 'sid', value: 'session-9', reason: 'logout', ttlMs: 60_000 });
    const claims = { jti: 'a', sub: 'dave', sid: 'session-9', iat: seconds(Date.now()) + 100 };
    t.same(list.check(claims), { revoked: true, kind: 'sid', reason: 'logout' });
    t.same(list.check({ ...claims, sid: 'session-10' }), { revoked: false });
  });

  t.test('revoke replaces a record', async (t) => {
    const list = await createList(t);
    await list.revoke({ kind: 'sid', value: 's', reason: 'first' });
    await list.revoke({ kind: 'sid', value: 's', reason: 'second' });
    t.same(list.check({ sid: 's' }), { revoked: true, kind: 'sid', reason: 'second' });
    t.equal((await list.list()).records.length, 1);
  });

  t.test('list pages in key order', async (t) => {
    const list = await createList(t);
    for (const value of ['c', 'a', 'e', 'b', 'd']) {
      await list.revoke({ kind: 'jti', value, reason: 'test' });
    }
    await list.revoke({ kind: 'sid', value: 'a', reason: 'test' });
    const first = await list.list({ limit: 2 });
    t.same(
      first.records.map((r) => `${r.kind}:${r.value}`),
      ['jti:a', 'jti:b'],
    );
    t.type(first.nextCursor, 'string');
    const second = await list.list({ limit: 2, cursor: first.nextCursor });
    t.same(
      second.records.map((r) => r.value),
      ['c', 'd'],
    );
    const third = await list.list({ limit: 2, cursor: second.nextCursor });
    t.same(
      third.records.map((r) => `${r.kind}:${r.value}`),
      ['jti:e', 'sid:a'],
    );
    t.equal(third.nextCursor, undefined, 'no cursor after the last page');
    const all = await list.list({ limit: 6 });
    t.equal(all.records.length, 6);
    t.equal(all.nextCursor, undefined, 'no cursor when the page holds the rest');
    await t.rejects(list.list({ cursor: 'not a cursor' }), { name: 'InvalidCursorError' });
  });

  t.test('invalid requests are rejected', async (t) => {
    const list = await createList(t);
    await t.rejects(list.revoke({ kind: 'jti', value: '', reason: 'x' }), {
      name: 'InvalidRevocationError',
    });
    await t.rejects(list.revoke({ kind: 'jti', value: 'v', reason: '' }), {
      name: 'InvalidRevocationError',
    });
    await t.rejects(list.revoke({ kind: 'jti', value: 'v', reason: 'x', ttlMs: 0 }), {
      name: 'InvalidRevocationError',
    });
    await t.rejects(
      list.revoke({ kind: 'jti', value: 'v', reason: 'x', tokenExpiresAt: Date.now() - 3_600_000 }),
      { name: 'InvalidRevocationError' },
    );
  });
}
