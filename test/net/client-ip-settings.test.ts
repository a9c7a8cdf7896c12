import t from 'tap';
import { clientIpSettingsSchema } from '../../src/net/client-ip-settings.js';
import { addressRangeProblem, compileAddressRanges } from '../../src/net/trusted-proxies.js';
import { parseIpAddress } from '../../src/net/ip-address.js';

function messages(input: unknown): string[] {
  const result = clientIpSettingsSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

t.test('client_ip defaults', async (t) => {
  const parsed = clientIpSettingsSchema.parse({});
  t.same(parsed.trusted_proxies, []);
  t.same(parsed.headers, []);
  t.equal(parsed.max_entries, 32);
  t.equal(parsed.trusted_hops, undefined);
});

t.test('client_ip accepts a full configuration', async (t) => {
  const parsed = clientIpSettingsSchema.parse({
    trusted_proxies: [
      'loopback',
      'private',
      'linklocal',
      'uniquelocal',
      '2001:db8::/32',
      '192.0.2.7',
    ],
    headers: ['Forwarded', 'X-FORWARDED-FOR', 'x-real-ip'],
    trusted_hops: 2,
    max_entries: 10,
  });
  t.same(parsed.headers, ['forwarded', 'x-forwarded-for', 'x-real-ip']);
});

t.test('client_ip rejects invalid settings', async (t) => {
  const cases: [unknown, RegExp][] = [
    [{ trusted_proxies: ['10.0.0.0/33'], headers: ['forwarded'] }, /trusted_proxies\.0: must be/],
    [
      { trusted_proxies: ['10.0.0.1/8'], headers: ['forwarded'] },
      /host bits are set; write the network address 10\.0\.0\.0\/8/,
    ],
    [
      { trusted_proxies: ['corporate'], headers: ['forwarded'] },
      /one of loopback, private, linklocal, uniquelocal/,
    ],
    [{ trusted_proxies: ['fe80::/10%eth0'], headers: ['forwarded'] }, /zone id/],
    [{ trusted_proxies: ['127.1'], headers: ['forwarded'] }, /trusted_proxies\.0/],
    [{ headers: ['x-forwarded-for'] }, /trusted_proxies: is empty/],
    [{ trusted_proxies: ['loopback'], headers: ['x-client-ip'] }, /headers\.0: must be one of/],
    [
      { trusted_proxies: ['loopback'], headers: ['forwarded', 'Forwarded'] },
      /must not list a header twice/,
    ],
    [
      { trusted_proxies: ['loopback'], headers: ['x-real-ip'], trusted_hops: 1 },
      /trusted_hops: needs/,
    ],
    [
      { trusted_proxies: ['loopback'], headers: ['forwarded'], trusted_hops: 5, max_entries: 4 },
      /must not be larger than max_entries/,
    ],
    [{ max_entries: 0 }, /max_entries/],
    [{ trusted_proxy: [] }, /trusted_proxy/],
  ];
  for (const [input, expected] of cases) {
    const found = messages(input);
    t.ok(
      found.some((message) => expected.test(message)),
      `${JSON.stringify(input)} -> ${found.join(' | ')}`,
    );
  }
});

t.test('address ranges match by family', async (t) => {
  const ranges = compileAddressRanges(['private', '2001:db8::/32', '::ffff:203.0.113.0/120']);
  const cases: [string, boolean][] = [
    ['10.1.2.3', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['2001:db8:1::1', true],
    ['2001:db9::1', false],
    ['203.0.113.77', true],
    ['::ffff:10.0.0.1', true],
    ['fd00::1', false],
  ];
  for (const [text, expected] of cases) {
    t.equal(ranges.contains(parseIpAddress(text)!), expected, text);
  }
  t.equal(compileAddressRanges(['loopback']).size, 2);
});

t.test('address range problems', async (t) => {
  t.equal(addressRangeProblem('10.0.0.0/8'), undefined);
  t.equal(addressRangeProblem('::/0'), undefined);
  t.equal(addressRangeProblem('198.51.100.1'), undefined);
  t.match(addressRangeProblem('::ffff:10.0.0.0/64'), /must be/);
  t.match(addressRangeProblem('2001:db8::1/32'), /write the network address 2001:db8::\/32/);
  t.throws(() => compileAddressRanges(['nope']), /invalid address range "nope"/);
});
