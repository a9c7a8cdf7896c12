import t from 'tap';
import { parseDuration, parseSize } from '../../src/util/units.js';

t.test('parseDuration units', async (t) => {
  const cases: [string, number][] = [
    ['0ms', 0],
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1.5s', 1_500],
    ['0.5ms', 1],
    [' 10s ', 10_000],
  ];
  for (const [text, ms] of cases) t.equal(parseDuration(text), ms, JSON.stringify(text));
});

t.test('parseDuration rejects invalid text', async (t) => {
  const cases = ['30', '', 's', '-5s', '5 s', '5S', '5sec', '1m30s', '1e3ms', '.5s', '5.s', '5us'];
  for (const text of cases) t.equal(parseDuration(text), undefined, JSON.stringify(text));
});

t.test('parseSize units', async (t) => {
  const cases: [string, number][] = [
    ['0B', 0],
    ['512B', 512],
    ['64KiB', 65_536],
    ['10MiB', 10_485_760],
    ['1GiB', 1_073_741_824],
    ['64KB', 64_000],
    ['1MB', 1_000_000],
    ['2GB', 2_000_000_000],
    ['1.5KiB', 1_536],
    ['0.5B', 0],
  ];
  for (const [text, bytes] of cases) t.equal(parseSize(text), bytes, JSON.stringify(text));
});

t.test('parseSize rejects invalid text', async (t) => {
  const cases = ['64', '64kb', '64kib', '64K', '64 KiB', '-1KiB', '1TiB', 'KiB', ''];
  for (const text of cases) t.equal(parseSize(text), undefined, JSON.stringify(text));
});
