import t from 'tap';
import { bodyFormatOf, textDecodingOf } from '../../src/leakage/formats/content-type.js';

t.test('charset read as any client may read it', async (t) => {
  const cases: [string | undefined, string][] = [
    [undefined, 'utf8'],
    ['text/plain', 'utf8'],
    ['text/plain; charset=utf-8', 'utf8'],
    ['text/event-stream;charset=UTF-8', 'utf8'],
    ['text/plain; Charset="UTF-8"', 'utf8'],
    ['text/plain; charset=', 'utf8'],
    ['text/plain; charset=iso-8859-1', 'latin1'],
    ['text/plain; charset=utf-16', 'unsupported'],
    ['text/plain; charset = utf-16', 'unsupported'],
    ['text/plain; charset= utf-16', 'unsupported'],
    ['text/event-stream; charset = utf-16', 'unsupported'],
    ['text/plain; x="a;charset=utf-8"; charset=utf-16', 'unsupported'],
    ['text/plain; charset=utf-8; charset=shift_jis', 'unsupported'],
    ['text/plain; charset=utf-8; charset=latin1', 'utf8'],
  ];
  for (const [contentType, decoding] of cases) {
    t.equal(textDecodingOf(contentType), decoding, String(contentType));
  }
});

t.test('ndjson aliases are line streams', async (t) => {
  for (const contentType of [
    'application/x-ndjson',
    'application/x-ldjson',
    'application/stream+json',
    'text/x-ndjson',
    'application/jsonl',
  ]) {
    t.equal(bodyFormatOf(contentType), 'ndjson', contentType);
  }
  t.equal(bodyFormatOf('application/problem+json'), 'json', 'other +json types stay json');
  t.equal(bodyFormatOf('text/plain'), 'text');
});
