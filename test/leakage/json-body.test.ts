import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import t from 'tap';
import { chunksOf, fakeJwt, policyOf, runTransform } from './helpers.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const policy = policyOf();
const secret = 'ghp_FAKEfake0123456789FAKEfake0123456789';

t.test('json stays valid after redaction', async (t) => {
  const fields = JSON.stringify({
    answer: `Use ${secret} to log in.\nThen call "support".`,
    sources: [{ title: 'doc', snippet: `jwt ${fakeJwt()}` }],
  });
  // A number JavaScript cannot hold exactly; re-serialising the parsed body would change it.
  const body = `${fields.slice(0, -1)},"count":12345678901234567890}`;
  const run = await runTransform(policy, JSON_TYPE, chunksOf(body, 13));
  const parsed = JSON.parse(run.output.toString()) as {
    answer: string;
    sources: { snippet: string }[];
  };
  t.equal(parsed.answer, 'Use [REDACTED:github] to log in.\nThen call "support".');
  t.equal(parsed.sources[0]!.snippet, 'jwt [REDACTED:jwt]');
  t.ok(run.output.toString().includes('12345678901234567890'), 'numbers keep their digits');
});

t.test('unchanged json passes byte for byte', async (t) => {
  const body = '{ "a" : 1.50 ,\n  "b": ["x", true, null] }';
  const run = await runTransform(policy, JSON_TYPE, chunksOf(body, 4));
  t.equal(run.output.toString(), body);
});

t.test('member keys give context to values', async (t) => {
  const body = JSON.stringify({ db_password: 'Fk9-pQ2x7Lm4vR8s', note: 'password' });
  const run = await runTransform(policy, JSON_TYPE, [body]);
  t.same(JSON.parse(run.output.toString()), {
    db_password: '[REDACTED:generic_secret]',
    note: 'password',
  });
});

t.test('compressed json is scanned', async (t) => {
  const body = Buffer.from(JSON.stringify({ text: `key ${secret}` }));
  const encodings: [string, Buffer][] = [
    ['gzip', gzipSync(body)],
    ['deflate', deflateSync(body)],
    ['br', brotliCompressSync(body)],
  ];
  for (const [encoding, compressed] of encodings) {
    const run = await runTransform(policy, { ...JSON_TYPE, 'content-encoding': encoding }, [
      compressed.subarray(0, 5),
      compressed.subarray(5),
    ]);
    t.same(JSON.parse(run.output.toString()), { text: 'key [REDACTED:github]' }, encoding);
  }
});

t.test('invalid json is scanned as text', async (t) => {
  const run = await runTransform(policy, JSON_TYPE, [`{"broken": "${secret}`]);
  t.equal(run.output.toString(), '{"broken": "[REDACTED:github]');
});

t.test('block in json sends nothing', async (t) => {
  const blocking = policyOf({ detectors: { github: 'block' } });
  const run = await runTransform(blocking, JSON_TYPE, [JSON.stringify({ a: secret })]);
  t.equal(run.output.length, 0);
  t.equal(run.blocked?.type, 'detection');
  t.equal(run.detections[0]?.action, 'block');
});

t.test('scan size limit blocks or passes with a flag', async (t) => {
  const body = JSON.stringify({ text: 'x'.repeat(2000) });
  const blocking = policyOf({ limits: { max_scanned_size: '1KiB' } });
  const blocked = await runTransform(blocking, JSON_TYPE, chunksOf(body, 256));
  t.equal(blocked.output.length, 0);
  t.same(blocked.limits, [{ reason: 'max_scanned_size', action: 'block' }]);
  const passing = policyOf({
    limits: { max_scanned_size: '1KiB', beyond_scanned_size: 'pass_and_flag' },
  });
  const passed = await runTransform(passing, JSON_TYPE, chunksOf(body, 256));
  t.equal(passed.output.toString(), body);
  t.same(passed.limits, [{ reason: 'max_scanned_size', action: 'flag' }]);
});

t.test('decompression limits block bombs', async (t) => {
  const bomb = gzipSync(Buffer.alloc(4 * 1_048_576, 0x20));
  const sizeLimited = policyOf({ limits: { max_decompressed_size: '1MiB' } });
  const bySize = await runTransform(
    sizeLimited,
    { 'content-type': 'text/plain', 'content-encoding': 'gzip' },
    [bomb],
  );
  t.equal(bySize.blocked?.type, 'limit');
  t.same(bySize.limits, [{ reason: 'max_decompressed_size', action: 'block' }]);
  const byRatio = await runTransform(
    policy,
    { 'content-type': 'text/plain', 'content-encoding': 'gzip' },
    [bomb],
  );
  t.same(byRatio.limits, [{ reason: 'max_compression_ratio', action: 'block' }]);
});

t.test('unsupported or corrupt encodings are never passed unscanned', async (t) => {
  const zstd = await runTransform(policy, { ...JSON_TYPE, 'content-encoding': 'zstd' }, ['abc']);
  t.equal(zstd.output.length, 0);
  t.same(zstd.limits, [{ reason: 'unsupported_encoding', action: 'block' }]);
  const corrupt = await runTransform(policy, { ...JSON_TYPE, 'content-encoding': 'gzip' }, [
    Buffer.from('not gzip at all'),
  ]);
  t.equal(corrupt.output.length, 0);
  t.same(corrupt.limits, [{ reason: 'invalid_compressed_data', action: 'block' }]);
});

t.test('binary types pass unscanned and are counted', async (t) => {
  const body = Buffer.from(`PNG ${secret}`);
  const run = await runTransform(policy, { 'content-type': 'image/png' }, [body]);
  t.same(run.output, body);
  t.equal(run.detections.length, 0);
});

t.test('ndjson lines are scanned and reassembled', async (t) => {
  const lines = [
    JSON.stringify({ message: { content: 'key ghp_FAKEfake0123' } }),
    JSON.stringify({ message: { content: '456789FAKEfake0123456789 end' } }),
    'not json ghp_FAKEfake0123456789FAKEfake0123456789',
    '',
  ].join('\n');
  const run = await runTransform(
    policy,
    { 'content-type': 'application/x-ndjson' },
    chunksOf(lines, 9),
  );
  const output = run.output.toString().split('\n');
  t.same(JSON.parse(output[0]!), { message: { content: 'key [REDACTED:github]' } });
  t.same(JSON.parse(output[1]!), { message: { content: ' end' } });
  t.equal(output[2], 'not json [REDACTED:github]');
});
