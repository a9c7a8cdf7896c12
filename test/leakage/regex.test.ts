import RE2 from 're2';
import t from 'tap';
import { maxMatchLength, minMatchLength } from '../../src/leakage/regex/bounds.js';
import { prefixPattern } from '../../src/leakage/regex/prefix.js';
import { ScanPattern } from '../../src/leakage/regex/scan-pattern.js';
import { parseRegex } from '../../src/leakage/regex/syntax.js';
import { builtinDetectors } from '../../src/leakage/index.js';

t.test('match length bounds', async (t) => {
  const cases: [string, number, number][] = [
    ['abc', 3, 3],
    ['a{2,5}', 2, 5],
    ['(?:ab|c){1,3}', 1, 6],
    ['[a-z]{0,4}x', 1, 5],
    ['\\d{3}-\\d{4}', 8, 8],
    ['.', 1, 2],
    ['[^a]', 1, 2],
    ['\\Qa.b\\E', 3, 3],
    ['\\bfoo\\b', 3, 3],
  ];
  for (const [source, min, max] of cases) {
    const { root } = parseRegex(source);
    t.equal(minMatchLength(root), min, `${source} min`);
    t.equal(maxMatchLength(root), max, `${source} max`);
  }
  t.equal(maxMatchLength(parseRegex('a+').root), Infinity);
});

/** Returns true when some match of `source` starts with `text`, by brute force over its words. */
function isPrefixOfMatch(words: string[], text: string): boolean {
  return words.some((word) => word.startsWith(text));
}

t.test('prefix language matches brute force', async (t) => {
  const source = '(?:ab|a[cd]){1,2}e?';
  const pattern = new RE2(`^(?:${source})$`);
  const alphabet = ['a', 'b', 'c', 'd', 'e'];
  const words: string[] = [];
  const strings = [''];
  for (let length = 1; length <= 5; length += 1) {
    for (const base of strings.filter((value) => value.length === length - 1)) {
      for (const letter of alphabet) strings.push(base + letter);
    }
  }
  for (const value of strings) if (pattern.test(value)) words.push(value);
  const prefix = new RE2(`^(?:${prefixPattern(parseRegex(source).root)})$`);
  const wrong = strings.filter((value) => prefix.test(value) !== isPrefixOfMatch(words, value));
  t.same(wrong, [], `all ${strings.length} strings up to 5 letters agree`);
});

t.test('pending start finds the earliest possible match start', async (t) => {
  const pattern = new ScanPattern('KEY-[0-9]{4}');
  t.equal(pattern.pendingStart('text KEY-12', 0), 5);
  t.equal(pattern.pendingStart('text KE', 0), 5);
  t.equal(pattern.pendingStart('text KEY-1234 more', 0), 18, 'a complete match is decided');
  t.equal(pattern.pendingStart('text KEX-12', 0), 11);
  t.equal(pattern.pendingStart('KEY-1 KEY-', 6), 6, 'search starts at from');
});

t.test('pending start reads the character before the tail', async (t) => {
  // Only the last maxLength characters can start a pending match, but \b at the first of them
  // depends on the character before, which the search must still see.
  const pattern = new ScanPattern('\\bKEY-[0-9]{4}');
  const long = `${'x'.repeat(1000)} KEY-12`;
  t.equal(pattern.pendingStart(long, 0), long.length - 6, 'a word start is pending');
  const inWord = `${'x'.repeat(1000)}KEY-12`;
  t.equal(pattern.pendingStart(inWord, 0), inWord.length, 'no word boundary, nothing pending');
  const lineStart = new ScanPattern('(?m)^KEY-[0-9]{4}');
  t.equal(lineStart.pendingStart(`${'x'.repeat(500)}\nKEY-1`, 0), 501);
  const midLine = `${'x'.repeat(500)} KEY-1`;
  t.equal(lineStart.pendingStart(midLine, 0), midLine.length, 'not at a line start');
});

t.test('built-in detectors are bounded', async (t) => {
  for (const detector of builtinDetectors()) {
    t.ok(Number.isFinite(detector.maxLength) && detector.maxLength <= 32_768, detector.id);
  }
});
