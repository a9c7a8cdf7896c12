import t from 'tap';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { GcraCheck, LimitCheck, SlidingWindowCheck } from '../../src/store/store.js';

/** Creates a clock in ms that the test sets by hand. */
function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, set: (ms: number) => (now = ms), advance: (ms: number) => (now += ms) };
}

function gcra(
  key: string,
  requests: number,
  perMs: number,
  extra: Partial<GcraCheck> = {},
): GcraCheck {
  return {
    kind: 'gcra',
    key,
    cost: 1,
    intervalMs: perMs / requests,
    burst: requests,
    shadow: false,
    failMode: 'local',
    ...extra,
  };
}

function sliding(key: string, limit: number, windowMs: number): SlidingWindowCheck {
  return {
    kind: 'sliding_window',
    key,
    cost: 1,
    windowMs,
    limit,
    shadow: false,
    failMode: 'local',
  };
}

function countAdmitted(store: MemoryStore, checks: LimitCheck[], times: number): number {
  let admitted = 0;
  for (let i = 0; i < times; i++) if (store.decideNow(checks).committed) admitted++;
  return admitted;
}

t.test('memory: parallel decisions admit limit', async (t) => {
  const store = new MemoryStore({ now: manualClock().now });
  const checks = [gcra('k', 50, 60_000)];
  const decisions = await Promise.all(Array.from({ length: 200 }, () => store.decide(checks)));
  t.equal(decisions.filter((decision) => decision.committed).length, 50);
  const window = [sliding('w', 50, 60_000)];
  const windowDecisions = await Promise.all(
    Array.from({ length: 200 }, () => store.decide(window)),
  );
  t.equal(windowDecisions.filter((decision) => decision.committed).length, 50);
});

t.test('memory: GCRA no double burst', async (t) => {
  const clock = manualClock(0);
  const store = new MemoryStore({ now: clock.now });
  const checks = [gcra('edge', 10, 10_000)];
  clock.set(9_999);
  t.equal(countAdmitted(store, checks, 10), 10, 'burst before the edge');
  clock.set(10_001);
  t.equal(countAdmitted(store, checks, 10), 0, 'nothing right after the edge');
  clock.set(10_999);
  t.equal(countAdmitted(store, checks, 10), 1, 'one unit back after one interval');
});

t.test('memory: sliding window no double burst', async (t) => {
  const clock = manualClock(0);
  const store = new MemoryStore({ now: clock.now });
  const checks = [sliding('edge', 10, 10_000)];
  clock.set(9_999);
  t.equal(countAdmitted(store, checks, 10), 10, 'full window before the edge');
  clock.set(10_001);
  t.equal(countAdmitted(store, checks, 10), 0, 'previous window still counts after the edge');
  clock.set(15_000);
  t.equal(countAdmitted(store, checks, 10), 5, 'half the previous window has slid out');
});

t.test('memory: GCRA outcome values', async (t) => {
  const clock = manualClock(0);
  const store = new MemoryStore({ now: clock.now });
  const checks = [gcra('values', 5, 5_000)];
  const first = store.decideNow(checks).outcomes[0]!;
  t.same(first, { allowed: true, remaining: 4, resetMs: 1_000, retryAfterMs: 0 });
  countAdmitted(store, checks, 4);
  const rejected = store.decideNow(checks).outcomes[0]!;
  t.equal(rejected.allowed, false);
  t.equal(rejected.remaining, 0);
  t.equal(rejected.retryAfterMs, 1_000);
  t.equal(rejected.resetMs, 5_000);
  clock.advance(1_000);
  t.equal(store.decideNow(checks).outcomes[0]!.allowed, true, 'admitted after retry-after');
});

t.test('memory: GCRA with burst and cost', async (t) => {
  const clock = manualClock(0);
  const store = new MemoryStore({ now: clock.now });
  const checks = [gcra('burst', 60, 60_000, { burst: 3, cost: 2 })];
  t.equal(store.decideNow(checks).committed, true, 'cost 2 of burst 3');
  const rejected = store.decideNow(checks).outcomes[0]!;
  t.equal(rejected.allowed, false, 'one unit left is not enough');
  t.equal(rejected.remaining, 1);
  t.equal(rejected.retryAfterMs, 1_000);
  clock.advance(1_000);
  t.equal(store.decideNow(checks).committed, true);
});

t.test('memory: fractional interval admits burst', async (t) => {
  const store = new MemoryStore({ now: manualClock(0).now });
  t.equal(countAdmitted(store, [gcra('seven', 7, 60_000)], 10), 7);
});

t.test('memory: sliding window retry-after', async (t) => {
  const clock = manualClock(0);
  const store = new MemoryStore({ now: clock.now });
  const checks = [sliding('retry', 10, 10_000)];
  clock.set(2_000);
  countAdmitted(store, checks, 10);
  const sameWindow = store.decideNow(checks).outcomes[0]!;
  t.equal(sameWindow.retryAfterMs, 9_000, 'until 10% of the full window has slid out');
  clock.set(11_000);
  const atRetry = store.decideNow(checks).outcomes[0]!;
  t.equal(atRetry.allowed, true, 'admitted at the retry-after time');
  t.equal(atRetry.remaining, 0);
  const afterRetry = store.decideNow(checks).outcomes[0]!;
  t.equal(afterRetry.allowed, false);
  t.equal(afterRetry.retryAfterMs, 1_000, 'the next unit slides out 1s later');
});

t.test('memory: rejection consumes no other check', async (t) => {
  const store = new MemoryStore({ now: manualClock().now });
  const tight = gcra('tight', 1, 60_000);
  const loose = gcra('loose', 10, 60_000);
  t.equal(store.decideNow([tight, loose]).committed, true);
  for (let i = 0; i < 5; i++) t.equal(store.decideNow([tight, loose]).committed, false);
  const other = gcra('other', 1, 60_000);
  t.equal(store.decideNow([other, loose]).outcomes[1]!.remaining, 8, 'loose used twice only');
});

t.test('memory: shadow checks never reject', async (t) => {
  const store = new MemoryStore({ now: manualClock().now });
  const shadow = gcra('shadow', 1, 60_000, { shadow: true });
  const enforced = gcra('enforced', 10, 60_000);
  t.equal(store.decideNow([shadow, enforced]).committed, true);
  const second = store.decideNow([shadow, enforced]);
  t.equal(second.committed, true, 'admitted although the shadow check rejects');
  t.equal(second.outcomes[0]!.allowed, false);
  t.equal(second.outcomes[1]!.remaining, 8);
});

t.test('memory: concurrency slots are released', async (t) => {
  const store = new MemoryStore({ now: manualClock().now });
  const slot: LimitCheck = {
    kind: 'concurrency',
    key: 'c',
    maxInFlight: 2,
    shadow: false,
    failMode: 'local',
  };
  const first = store.decideNow([slot]);
  const second = store.decideNow([slot]);
  t.equal(first.committed && second.committed, true);
  t.equal(store.decideNow([slot]).committed, false, 'third is rejected');
  await first.lease!.release();
  await first.lease!.release();
  t.equal(store.decideNow([slot]).committed, true, 'one slot free after release');
  t.equal(store.decideNow([slot]).committed, false, 'double release frees one slot only');
});

t.test('memory: rejection takes no slot', async (t) => {
  const store = new MemoryStore({ now: manualClock().now });
  const slot: LimitCheck = {
    kind: 'concurrency',
    key: 'c',
    maxInFlight: 1,
    shadow: false,
    failMode: 'local',
  };
  const tight = gcra('tight', 1, 60_000);
  t.equal(store.decideNow([slot, tight]).committed, true);
  const rejected = store.decideNow([gcra('again', 1, 60_000), slot]);
  t.equal(rejected.committed, false);
  t.equal(rejected.lease, undefined);
});

t.test('memory: key count bounded under flood', async (t) => {
  const clock = manualClock();
  const store = new MemoryStore({ maxKeys: 1_000, now: clock.now });
  for (let i = 0; i < 20_000; i++) store.decideNow([gcra(`flood-${i}`, 10, 60_000)]);
  t.equal(store.size, 1_000);
  t.equal(store.evictions, 19_000);
  clock.advance(61_000);
  for (let i = 0; i < 600; i++) store.decideNow([gcra(`later-${i}`, 10, 60_000)]);
  t.ok(store.size <= 1_000, `size ${store.size}`);
  t.equal(store.evictions, 19_000, 'expired keys are dropped without counting as evictions');
});
