import t from 'tap';
import { selectJsonStrings } from '../../src/inspection/parts/json-fields.js';
import { inspectWith } from './helpers.js';

const CHAT = {
  model: 'rag-1',
  messages: [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'hello', meta: { note: 'n' } },
  ],
  options: { 'a/b': 'slash', 'c~d': 'tilde' },
};

t.test('wildcard selects every array element', async (t) => {
  const found = selectJsonStrings(CHAT, ['/messages/*/content'], 100);
  t.same(found, [
    { pointer: '/messages/0/content', value: 'be brief' },
    { pointer: '/messages/1/content', value: 'hello' },
  ]);
});

t.test('wildcard selects every object key', async (t) => {
  const found = selectJsonStrings(CHAT, ['/options/*'], 100);
  t.same(
    found.map((entry) => entry.pointer),
    ['/options/a~1b', '/options/c~0d'],
  );
});

t.test('a selected object yields its strings', async (t) => {
  const found = selectJsonStrings(CHAT, ['/messages/1'], 100);
  t.same(
    found.map((entry) => entry.value),
    ['user', 'hello', 'n'],
  );
});

t.test('empty pointer selects the whole document', async (t) => {
  t.equal(selectJsonStrings(CHAT, [''], 100).length, 8);
});

t.test('missing paths and prototype keys select nothing', async (t) => {
  t.same(selectJsonStrings(CHAT, ['/nope/*', '/messages/9/content', '/__proto__'], 100), []);
});

t.test('string limit stops the walk', async (t) => {
  t.equal(selectJsonStrings(CHAT, [''], 2).length, 2);
});

t.test('route fields limit what is inspected', async (t) => {
  const body = JSON.stringify({
    messages: [{ role: 'user', content: 'hi' }],
    metadata: { tag: '<script>alert(1)</script>' },
  });
  const request = { path: '/chat', headers: { 'content-type': 'application/json' }, body };
  const narrow = await inspectWith(request, { parts: { json_fields: ['/messages/*/content'] } });
  t.equal(narrow.score, 0);
  const wide = await inspectWith(request);
  t.ok(wide.thresholdReached);
  t.equal(wide.matches[0]!.part.name, '/metadata/tag');
});
