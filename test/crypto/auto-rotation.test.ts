import t from 'tap';
import {
  AutoRotation,
  type AutoRotationSchedule,
  type RotationReason,
} from '../../src/crypto/auto-rotation.js';
import { MessageCounter } from '../../src/crypto/message-counter.js';
import { cryptoSettingsSchema } from '../../src/crypto/settings.js';
import { masterKeys, serviceFor } from './fixtures.js';

const DAY = 24 * 60 * 60 * 1000;
const START = Date.parse('2025-06-01T00:00:00Z');

interface Events {
  rotated: [number, number, RotationReason][];
  overdue: [number, RotationReason][];
}

function rotationWith(schedule: Partial<AutoRotationSchedule>): {
  rotation: AutoRotation;
  events: Events;
} {
  const events: Events = { rotated: [], overdue: [] };
  const rotation = new AutoRotation(
    {
      baseVersion: 1,
      periodMs: undefined,
      startMs: undefined,
      afterMessages: undefined,
      ...schedule,
    },
    {
      rotated: (from, to, reason) => events.rotated.push([from, to, reason]),
      overdue: (due, reason) => events.overdue.push([due, reason]),
    },
  );
  return { rotation, events };
}

const counter = () => new MessageCounter(2 ** 30, () => undefined);

t.test('period schedule moves versions', async (t) => {
  const { rotation, events } = rotationWith({ periodMs: 30 * DAY, startMs: START });
  const versions = [1, 2, 3];
  const messages = counter();
  t.equal(rotation.select(versions, messages, START - DAY), 1, 'before the start');
  t.equal(rotation.select(versions, messages, START + 29 * DAY), 1, 'first period');
  t.equal(rotation.select(versions, messages, START + 30 * DAY), 2, 'second period');
  t.equal(rotation.select(versions, messages, START + 61 * DAY), 3, 'third period');
  t.same(events.rotated, [
    [1, 2, 'period'],
    [2, 3, 'period'],
  ]);
  t.same(events.overdue, [], 'nothing overdue yet');
  t.notOk(rotation.overdue);
  t.equal(rotation.select(versions, messages, START + 95 * DAY), 3, 'stays on the newest');
  t.same(events.overdue, [[4, 'period']], 'version 4 reported once');
  rotation.select(versions, messages, START + 96 * DAY);
  t.equal(events.overdue.length, 1, 'not reported again');
  t.ok(rotation.overdue, 'overdue flag set');
});

t.test('period schedule skips gaps', async (t) => {
  const { rotation } = rotationWith({ periodMs: DAY, startMs: START, baseVersion: 5 });
  t.equal(rotation.select([5, 7], counter(), START + DAY), 5, 'version 6 missing: 5 stays');
  t.ok(rotation.overdue, 'the missing version is overdue');
  t.equal(rotation.select([5, 7], counter(), START + 2 * DAY), 7, 'version 7 on time');
  t.notOk(rotation.overdue);
});

t.test('message count moves ahead', async (t) => {
  const { rotation, events } = rotationWith({ afterMessages: 100 });
  const messages = counter();
  const versions = [1, 2, 3];
  t.equal(rotation.select(versions, messages), 1);
  messages.add(1, 99);
  t.equal(rotation.select(versions, messages), 1, 'below the count');
  messages.add(1, 1);
  t.equal(rotation.select(versions, messages), 2, 'at the count');
  messages.add(2, 250);
  t.equal(rotation.select(versions, messages), 3, 'version 2 used up too');
  messages.add(3, 100);
  t.equal(rotation.select(versions, messages), 3, 'no version left');
  t.same(events.rotated, [
    [1, 2, 'messages'],
    [2, 3, 'messages'],
  ]);
  t.same(events.overdue, [[4, 'messages']]);
  rotation.update({ baseVersion: 1, periodMs: undefined, startMs: undefined, afterMessages: 100 });
  t.equal(rotation.select([1, 2, 3, 4], messages), 4, 'a reload that adds version 4 moves on');
});

t.test('next rotation reported', async (t) => {
  const { rotation } = rotationWith({ periodMs: 30 * DAY, startMs: START });
  t.same(rotation.next([1, 2], 1), {
    version: 2,
    time: new Date(START + 30 * DAY).toISOString(),
  });
  t.same(rotation.next([1, 2], 2), {
    version: null,
    time: new Date(START + 60 * DAY).toISOString(),
  });
  const counted = rotationWith({ afterMessages: 10 }).rotation;
  t.same(counted.next([1, 2], 1), { version: 2, time: null }, 'no time without a period');
});

t.test('service encrypts with rotated version', async (t) => {
  const { rotation } = rotationWith({ afterMessages: 2 });
  const service = serviceFor(masterKeys(1, 2), { encryptVersion: 1, rotation });
  t.match(service.encrypt('file:a', Buffer.from('x')), /^agfw:v1:1:/);
  t.match(service.encrypt('file:a', Buffer.from('x')), /^agfw:v1:1:/);
  t.match(service.encrypt('file:a', Buffer.from('x')), /^agfw:v1:2:/, 'version 2 after 2 messages');
  t.same(
    service.keys().map((key) => [key.version, key.state]),
    [
      [2, 'active'],
      [1, 'decrypt_only'],
    ],
  );
});

t.test('pending versions listed', async (t) => {
  const { rotation } = rotationWith({ periodMs: DAY, startMs: Date.now() + DAY });
  const service = serviceFor(masterKeys(1, 2), { encryptVersion: 1, rotation });
  t.same(
    service.keys().map((key) => [key.version, key.state]),
    [
      [2, 'pending'],
      [1, 'active'],
    ],
  );
});

t.test('auto rotation settings checked', async (t) => {
  const base = {
    enabled: true,
    keys: [{ version: 1, env: 'K1' }],
    callers: [{ name: 'backend', token_env: 'T', context_prefixes: ['file:'] }],
  };
  const cases: [string, object, string][] = [
    ['no trigger', { encrypt_version: 1, auto: {} }, 'set period, after_messages or both'],
    [
      'period without start',
      { encrypt_version: 1, auto: { period: '30d' } },
      'is required with period',
    ],
    ['no base version', { auto: { after_messages: 10 } }, 'is required with rotation.auto'],
    [
      'start not a time',
      { encrypt_version: 1, auto: { period: '30d', start: 'June' } },
      'must be an RFC 3339 time',
    ],
    [
      'period too short',
      { encrypt_version: 1, auto: { period: '1s', start: '2025-06-01T00:00:00Z' } },
      'at least 1m',
    ],
  ];
  for (const [name, rotation, message] of cases) {
    const parsed = cryptoSettingsSchema.safeParse({ ...base, rotation });
    t.notOk(parsed.success, `${name}: rejected`);
    t.match(JSON.stringify(parsed.error?.issues), message, `${name}: message`);
  }
  const valid = cryptoSettingsSchema.safeParse({
    ...base,
    rotation: { encrypt_version: 1, auto: { period: '30d', start: '2025-06-01T00:00:00Z' } },
  });
  t.ok(valid.success, 'a complete schedule is accepted');
  t.equal(valid.data?.rotation.auto?.period, 30 * DAY, 'the period in milliseconds');
});
