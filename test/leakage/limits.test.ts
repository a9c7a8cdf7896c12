import t from 'tap';
import { LeakageTransform } from '../../src/leakage/index.js';
import { chatChunk, chunksOf, policyOf, runTransform, sseData } from './helpers.js';

const TEXT = { 'content-type': 'text/plain; charset=utf-8' };
const SSE = { 'content-type': 'text/event-stream' };
const NDJSON = { 'content-type': 'application/x-ndjson' };
const secret = 'ghp_FAKEfake0123456789FAKEfake0123456789';

const blocking = policyOf({ limits: { max_scanned_size: '1KiB' } });
const passing = policyOf({
  limits: { max_scanned_size: '1KiB', beyond_scanned_size: 'pass_and_flag' },
});

/** About 3 KiB of text in lines of 64 bytes, with no secret in it. */
const cleanText = Array.from({ length: 48 }, (_, index) =>
  `line ${String(index).padStart(2, '0')} of a report with nothing to hide at all.`.padEnd(63),
).join('\n');

t.test('text past the scanned size stops', async (t) => {
  const run = await runTransform(blocking, TEXT, chunksOf(cleanText, 256));
  t.same(run.limits, [{ reason: 'max_scanned_size', action: 'block' }]);
  t.same(run.blocked, { type: 'limit', reason: 'max_scanned_size' });
  const output = run.output.toString();
  t.ok(output.length <= 1024, 'no more than the scanned size is sent');
  t.equal(output, cleanText.slice(0, output.length), 'what was sent is unchanged');
  t.equal(run.counters.unscannedBytes, 0, 'nothing passed unscanned');
});

t.test('text past the scanned size passes with a flag', async (t) => {
  const body = `${secret} at the start, ${cleanText}, ${secret} at the end`;
  const run = await runTransform(passing, TEXT, chunksOf(body, 256));
  t.same(run.limits, [{ reason: 'max_scanned_size', action: 'flag' }], 'reported once');
  t.equal(run.blocked, undefined);
  const output = run.output.toString();
  t.ok(output.startsWith('[REDACTED:github] at the start'), 'scanned text is still redacted');
  t.ok(output.endsWith(`${secret} at the end`), 'text past the limit is sent as received');
  t.equal(run.counters.scannedBytes + run.counters.unscannedBytes, Buffer.byteLength(body));
  t.ok(run.counters.scannedBytes <= 1024);
});

t.test('sse past the scanned size ends with an error event', async (t) => {
  const events = Array.from({ length: 30 }, (_, index) => chatChunk(`piece ${index} `.repeat(8)));
  const body = `${events.join('')}data: [DONE]\n\n`;
  const run = await runTransform(blocking, SSE, chunksOf(body, 200));
  t.same(run.limits, [{ reason: 'max_scanned_size', action: 'block' }]);
  const data = sseData(run.output.toString());
  const last = JSON.parse(data.at(-1)!) as { error: { code: string } };
  t.equal(last.error.code, 'response_blocked');
  t.match(run.output.toString(), /event: error\ndata: .*\n\n$/, 'the error event ends the stream');
  t.ok(data.length > 1, 'events before the limit were sent');
  t.ok(data.length < events.length, 'events past the limit were not');
});

t.test('sse past the scanned size passes intact with a flag', async (t) => {
  const events = Array.from({ length: 30 }, (_, index) => chatChunk(`piece ${index} `.repeat(8)));
  const body = `${events.join('')}data: [DONE]\n\n`;
  for (const size of [1, 7, 200, 5000]) {
    const run = await runTransform(passing, SSE, chunksOf(body, size));
    t.equal(run.output.toString(), body, `chunks of ${size}`);
    t.same(run.limits, [{ reason: 'max_scanned_size', action: 'flag' }]);
  }
});

t.test('ndjson past the scanned size ends with an error line', async (t) => {
  const lines = Array.from(
    { length: 30 },
    (_, index) => `${JSON.stringify({ message: { content: `piece ${index} `.repeat(8) } })}\n`,
  );
  const run = await runTransform(blocking, NDJSON, chunksOf(lines.join(''), 200));
  t.same(run.limits, [{ reason: 'max_scanned_size', action: 'block' }]);
  const output = run.output.toString().split('\n').filter(Boolean);
  const last = JSON.parse(output.at(-1)!) as { error: { code: string } };
  t.equal(last.error.code, 'response_blocked');
  t.same(
    output.slice(0, -1),
    lines.slice(0, output.length - 1).map((line) => line.trim()),
  );
});

t.test('hold-back limit stops a stream whose matches keep overlapping', async (t) => {
  // ABAB and BABA matches overlap all along "ABABAB…", so they form one redaction whose end
  // is never known, and the scanner must hold all of it.
  const overlapping = policyOf({
    detectors: { all: 'off' },
    custom_patterns: [
      { id: 'abab', pattern: 'ABAB' },
      { id: 'baba', pattern: 'BABA' },
    ],
    limits: { max_hold_back: '64B' },
  });
  const run = await runTransform(overlapping, TEXT, ['Status: ', ...Array<string>(50).fill('AB')]);
  t.same(run.limits, [{ reason: 'max_hold_back', action: 'block' }]);
  t.same(run.blocked, { type: 'limit', reason: 'max_hold_back' });
  t.equal(run.output.toString(), 'Status: ', 'only text before the held redaction was sent');

  const short = await runTransform(overlapping, TEXT, ['Status: ', ...Array<string>(8).fill('AB')]);
  t.same(short.limits, [], 'a chain shorter than the limit is redacted at the end');
  t.equal(short.output.toString(), 'Status: [REDACTED:custom]');
});

t.test('binary bodies are counted as unscanned', async (t) => {
  const body = Buffer.from(`GIF89a ${secret}`);
  const run = await runTransform(blocking, { 'content-type': 'image/gif' }, [body, body]);
  t.same(run.output, Buffer.concat([body, body]), 'sent unchanged');
  t.equal(run.counters.unscannedBytes, body.length * 2);
  t.equal(run.counters.scannedBytes, 0);
  t.same(run.limits, [], 'no limit applies to a binary body');
});

t.test('a body in an unsupported charset is stopped before any output', async (t) => {
  const body = `data: token ${secret}\n\n`;
  for (const contentType of [
    'text/event-stream; charset=utf-16',
    'application/x-ndjson; charset=shift_jis',
    'text/plain; charset=x-unknown',
    'application/json; charset=utf-32',
  ]) {
    const transform = new LeakageTransform(blocking, { 'content-type': contentType });
    t.same(
      transform.blocked,
      { type: 'limit', reason: 'unsupported_charset' },
      `${contentType}: blocked before the body arrives`,
    );
    const run = await runTransform(blocking, { 'content-type': contentType }, [body, body]);
    t.equal(run.output.length, 0, `${contentType}: nothing is output, not even an error record`);
    t.same(run.limits, [{ reason: 'unsupported_charset', action: 'block' }]);
    t.equal(run.counters.unscannedBytes, 0, `${contentType}: nothing passed unscanned`);
  }
});

t.test('an unsupported encoding is stopped before any output', async (t) => {
  const run = await runTransform(
    blocking,
    { 'content-type': 'text/event-stream', 'content-encoding': 'zstd' },
    [`data: token ${secret}\n\n`],
  );
  t.same(run.blocked, { type: 'limit', reason: 'unsupported_encoding' });
  t.equal(run.output.length, 0);
});
