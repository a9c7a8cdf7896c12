import t from 'tap';
import { EventSequencer } from '../../src/revocation/event-sequencer.js';
import type { RevocationEvent } from '../../src/revocation/redis-codec.js';

const unrevoke = (key: string): RevocationEvent => ({ op: 'unrevoke', key });

function sequencer() {
  const applied: string[] = [];
  const events = new EventSequencer((event) => {
    if (event.op === 'unrevoke') applied.push(event.key);
  });
  return { events, applied };
}

t.test('sequencer applies in order', async (t) => {
  const { events, applied } = sequencer();
  t.equal(events.receive({ version: 1, event: unrevoke('a') }), 'applied');
  t.equal(events.receive({ version: 2, event: unrevoke('b') }), 'applied');
  t.equal(events.receive({ version: 2, event: unrevoke('b') }), 'duplicate');
  t.equal(events.receive({ version: 1, event: unrevoke('a') }), 'duplicate');
  t.same(applied, ['a', 'b']);
  t.equal(events.version, 2);
});

t.test('sequencer reports a gap', async (t) => {
  const { events, applied } = sequencer();
  events.receive({ version: 1, event: unrevoke('a') });
  t.equal(events.receive({ version: 4, event: unrevoke('d') }), 'gap');
  t.same(applied, ['a', 'd'], 'the newer event is applied anyway');
  t.equal(events.version, 4);
});

t.test('sequencer holds events during a reload', async (t) => {
  const { events, applied } = sequencer();
  events.beginReload();
  t.equal(events.receive({ version: 5, event: unrevoke('e') }), 'buffered');
  t.equal(events.receive({ version: 6, event: unrevoke('f') }), 'buffered');
  t.same(applied, []);
  t.equal(events.endReload(5), false, 'no gap after the snapshot');
  t.same(applied, ['f'], 'only the event newer than the snapshot is replayed');
  t.equal(events.version, 6);
});

t.test('sequencer reload may go back', async (t) => {
  const { events } = sequencer();
  events.receive({ version: 1, event: unrevoke('a') });
  events.receive({ version: 2, event: unrevoke('b') });
  events.beginReload();
  // Redis lost its data: the counter starts again.
  t.equal(events.endReload(0), false);
  t.equal(events.version, 0);
  t.equal(events.receive({ version: 1, event: unrevoke('x') }), 'applied');
});

t.test('sequencer abort replays held events', async (t) => {
  const { events, applied } = sequencer();
  events.receive({ version: 1, event: unrevoke('a') });
  events.beginReload();
  events.receive({ version: 3, event: unrevoke('c') });
  t.equal(events.abortReload(), true, 'the held event skips version 2');
  t.same(applied, ['a', 'c']);
});

t.test('own write survives an older snapshot', async (t) => {
  const { events, applied } = sequencer();
  events.receive({ version: 1, event: unrevoke('a') });
  events.beginReload();
  t.equal(events.receive({ version: 2, event: unrevoke('b') }), 'buffered');
  events.holdOwnWrite({ version: 4, event: unrevoke('own') });
  t.equal(events.receive({ version: 3, event: unrevoke('c') }), 'buffered');
  t.equal(events.endReload(1), false, 'versions 2 to 4 follow the snapshot without a gap');
  t.same(applied, ['a', 'b', 'c', 'own'], 'replayed in version order, own write included');
  t.equal(events.version, 4);
  t.equal(events.receive({ version: 4, event: unrevoke('own') }), 'duplicate');
  t.same(applied, ['a', 'b', 'c', 'own'], 'its channel message is not applied again');
});

t.test('own write in a newer snapshot is skipped', async (t) => {
  const { events, applied } = sequencer();
  events.beginReload();
  events.holdOwnWrite({ version: 2, event: unrevoke('own') });
  t.equal(events.endReload(3), false);
  t.same(applied, [], 'the snapshot already contains it');
  t.equal(events.version, 3);
});

t.test('own write outside a reload is not held', async (t) => {
  const { events, applied } = sequencer();
  events.holdOwnWrite({ version: 1, event: unrevoke('own') });
  t.same(applied, [], 'the caller applies it');
  t.equal(events.version, 0, 'the version waits for the channel message');
  t.equal(events.receive({ version: 1, event: unrevoke('own') }), 'applied');
});
