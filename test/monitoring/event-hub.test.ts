import { Writable } from 'node:stream';
import t from 'tap';
import { createLogger } from '../../src/monitoring/logger.js';
import { EVENT_ID_PATTERN, EventIdGenerator } from '../../src/monitoring/events/event-id.js';
import type { SecurityEventInput, StoredSecurityEvent } from '../../src/monitoring/events/event.js';
import { SecurityEventHub } from '../../src/monitoring/events/hub.js';
import { LogEventSink } from '../../src/monitoring/events/log-sink.js';
import { MemoryEventSink } from '../../src/monitoring/events/memory-sink.js';
import { EventPrivacy } from '../../src/monitoring/events/privacy.js';

const KEY = Buffer.from('k'.repeat(32));

function rejection(overrides: Partial<SecurityEventInput> = {}): SecurityEventInput {
  return {
    type: 'request_rejected',
    severity: 'medium',
    action: 'rejected',
    route: 'query',
    client_ip: '203.0.113.7',
    peer: '10.0.0.2',
    subject: 'alice',
    session: 'session-7',
    request_id: 'request-1',
    detail: { code: 'unauthorized', reason: 'token_expired: exp in the past' },
    ...overrides,
  };
}

/** Creates a hub with a log sink writing into `lines` and a memory sink of `capacity` events. */
function hubWithSinks(privacy = EventPrivacy.keepAll(), capacity = 100) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  const log = createLogger('info', destination);
  const memory = new MemoryEventSink(capacity);
  const hub = new SecurityEventHub({ log, privacy, sinks: [new LogEventSink(log), memory] });
  return { hub, memory, lines };
}

t.test('event ids sort in publish order', async (t) => {
  const ids = new EventIdGenerator();
  const sameMillisecond = Array.from({ length: 1000 }, () => ids.next(1_700_000_000_000));
  const later = ids.next(1_700_000_000_001);
  const clockStepsBack = ids.next(1_699_999_999_000);
  const all = [...sameMillisecond, later, clockStepsBack];
  for (const id of all) t.match(id, EVENT_ID_PATTERN);
  t.same([...all].sort(), all, 'lexical order is publish order');
  t.equal(new Set(all).size, all.length, 'every id is unique');
  t.equal(
    sameMillisecond[0]!.slice(0, 10),
    '01HF7YAT00',
    'the first 10 characters encode the time',
  );
});

t.test('hub stamps and reaches every sink', async (t) => {
  const { hub, memory, lines } = hubWithSinks();
  const seen: StoredSecurityEvent[] = [];
  hub.subscribe((event) => seen.push(event));
  const before = Date.now();
  const event = hub.publish(rejection());
  t.match(event.id, EVENT_ID_PATTERN);
  t.ok(Date.parse(event.time) >= before, 'time is the publish time');
  t.match(event.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'RFC 3339 with milliseconds');
  t.equal(seen.length, 1, 'the listener ran');
  t.equal(seen[0], event, 'the listener got the stored event');
  t.equal(memory.size, 1, 'the ring buffer has it');
  const line = lines.find((candidate) => candidate['msg'] === 'security event');
  t.equal(line?.['level'], 'warn');
  t.equal(line?.['request_id'], 'request-1', 'the request id is at the top level');
  t.same(line?.['event'], JSON.parse(JSON.stringify(event)), 'the log line has the event');
  t.same(Object.keys(JSON.parse(JSON.stringify(event)) as object), [
    'id',
    'time',
    'type',
    'severity',
    'action',
    'route',
    'client_ip',
    'peer',
    'subject',
    'session',
    'request_id',
    'detail',
  ]);
});

t.test('hub freezes what it stores', async (t) => {
  const { hub } = hubWithSinks();
  const rules = ['rule-a'];
  const detail = { rule_sets: ['set-a'], score: 5 };
  const event = hub.publish(rejection({ rules, detail }));
  rules.push('added later');
  detail.rule_sets.push('added later');
  t.same(event.rules, ['rule-a'], 'a change to the producer array does not reach the event');
  t.same(event.detail['rule_sets'], ['set-a']);
  t.ok(Object.isFrozen(event), 'the event is frozen');
  t.ok(Object.isFrozen(event.detail), 'its detail is frozen');
  t.ok(Object.isFrozen(event.rules), 'its rules are frozen');
});

t.test('throwing listener is logged and ignored', async (t) => {
  const { hub, memory, lines } = hubWithSinks();
  const seen: string[] = [];
  hub.subscribe(() => {
    throw new Error('listener bug');
  });
  const unsubscribe = hub.subscribe((event) => seen.push(event.id));
  const first = hub.publish(rejection());
  t.same(seen, [first.id], 'the next listener still ran');
  t.equal(memory.size, 1);
  t.ok(
    lines.some((line) => line['level'] === 'error' && String(line['msg']).includes('listener')),
    'the failure is logged',
  );
  unsubscribe();
  hub.publish(rejection());
  t.same(seen, [first.id], 'an unsubscribed listener is not called');
});

t.test('ring buffer keeps the newest events', async (t) => {
  const { hub, memory } = hubWithSinks(EventPrivacy.keepAll(), 5);
  const ids = Array.from(
    { length: 12 },
    (_, index) => hub.publish(rejection({ request_id: `r${index}` })).id,
  );
  t.equal(memory.size, 5, 'bounded by its capacity');
  const page = await memory.read({ limit: 10 });
  t.same(
    page.events.map((event) => event.id),
    ids.slice(-5).reverse(),
    'the newest five, newest first',
  );
  t.equal(page.next, undefined, 'no next page');
  const first = await memory.read({ limit: 2 });
  t.same(
    first.events.map((event) => event.request_id),
    ['r11', 'r10'],
  );
  t.equal(first.next, ids[10]);
  const second = await memory.read({ limit: 2, after: first.next });
  t.same(
    second.events.map((event) => event.request_id),
    ['r9', 'r8'],
  );
  const last = await memory.read({ limit: 2, after: second.next });
  t.same(
    last.events.map((event) => event.request_id),
    ['r7'],
  );
  t.equal(last.next, undefined, 'the last page has no next');
});

t.test('privacy truncates addresses', async (t) => {
  const privacy = new EventPrivacy({
    client_ip: 'truncate',
    ipv4_prefix: 24,
    ipv6_prefix: 48,
    subject: 'keep',
    hash_length: 16,
  });
  t.equal(privacy.address('203.0.113.77'), '203.0.113.0/24');
  t.equal(privacy.address('2001:db8:abcd:12:1:2:3:4'), '2001:db8:abcd::/48');
  t.equal(privacy.address('::ffff:198.51.100.9'), '198.51.100.0/24', 'mapped IPv4 is IPv4');
  t.equal(privacy.address('not an address'), 'unknown', 'unparsed text is never copied');
  const { hub, memory, lines } = hubWithSinks(privacy);
  const seen: StoredSecurityEvent[] = [];
  hub.subscribe((event) => seen.push(event));
  const event = hub.publish(rejection());
  t.equal(event.client_ip, '203.0.113.0/24');
  t.equal(event.peer, '10.0.0.0/24', 'the peer is truncated too');
  t.equal(event.subject, 'alice', 'subjects are kept');
  const stored = (await memory.read({ limit: 1 })).events[0];
  t.equal(stored?.client_ip, '203.0.113.0/24', 'the ring buffer has the truncated address');
  t.equal(seen[0]?.client_ip, '203.0.113.0/24', 'listeners get the truncated address');
  const logged = JSON.stringify(lines);
  t.notOk(logged.includes('203.0.113.7'), 'the log never has the full address');
  t.notOk(logged.includes('10.0.0.2'), 'nor the full peer');
});

t.test('privacy hashes with the key', async (t) => {
  const settings = {
    client_ip: 'hash',
    ipv4_prefix: 24,
    ipv6_prefix: 48,
    subject: 'hash',
    hash_length: 16,
  } as const;
  const privacy = new EventPrivacy(settings, KEY);
  const other = new EventPrivacy(settings, Buffer.from('o'.repeat(32)));
  const event = privacy.apply(rejection());
  t.match(event.client_ip, /^hmac:[0-9a-f]{16}$/);
  t.match(event.subject, /^hmac:[0-9a-f]{16}$/);
  t.match(event.session, /^hmac:[0-9a-f]{16}$/);
  t.equal(privacy.apply(rejection()).client_ip, event.client_ip, 'stable under one key');
  t.not(other.apply(rejection()).client_ip, event.client_ip, 'another key, another hash');
  t.not(privacy.subject('alice'), privacy.session('alice'), 'subject and session hash apart');
  t.not(privacy.address('alice'), privacy.subject('alice'), 'address and subject hash apart');
  t.equal(privacy.address('2001:DB8::1'), privacy.address('2001:db8:0::1'), 'hashed canonical');
  t.throws(() => new EventPrivacy(settings), /no key/, 'hashing needs a key');
});

t.test('leak hashes are always keyed', async (t) => {
  const scannerHash = '0123456789abcdef';
  const leak = rejection({
    type: 'response_leak',
    action: 'redacted',
    rules: ['credit-card'],
    detail: { kind: 'credit_card', hash: scannerHash },
  });
  const keepAll = EventPrivacy.keepAll();
  const keyed = keepAll.apply(leak);
  t.match(keyed.detail?.['hash'], /^hmac:[0-9a-f]{16}$/, 'an HMAC without privacy settings');
  t.equal(keyed.detail?.['kind'], 'credit_card', 'the rest of the detail stays');
  t.equal(keyed.client_ip, '203.0.113.7', 'keep settings still keep the address');
  t.equal(keepAll.apply(leak).detail?.['hash'], keyed.detail?.['hash'], 'stable in one process');
  t.not(
    EventPrivacy.keepAll().apply(leak).detail?.['hash'],
    keyed.detail?.['hash'],
    'another process key, another hash',
  );
  const settings = {
    client_ip: 'keep',
    ipv4_prefix: 32,
    ipv6_prefix: 128,
    subject: 'keep',
    hash_length: 64,
  } as const;
  t.equal(
    new EventPrivacy(settings, KEY).apply(leak).detail?.['hash'],
    new EventPrivacy(settings, KEY).apply(leak).detail?.['hash'],
    'a configured key hashes alike on every replica',
  );
  t.equal(keepAll.apply(rejection()).detail?.['code'], 'unauthorized', 'other types unchanged');
});
