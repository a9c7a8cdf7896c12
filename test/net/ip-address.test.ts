import t from 'tap';
import { parseForwardedLine } from '../../src/net/forwarded-header.js';
import { canonicalIpText, maskIpAddress, parseIpAddress } from '../../src/net/ip-address.js';

t.test('parseIpAddress accepts canonical and mapped forms', async (t) => {
  const cases: [string, string][] = [
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:c000:0201', '192.0.2.1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['fe80::1%25eth0', 'fe80::1'],
    ['::', '::'],
  ];
  for (const [input, expected] of cases) t.equal(canonicalIpText(input), expected, input);
});

t.test('parseIpAddress rejects ambiguous or invalid text', async (t) => {
  const cases = [
    '',
    '127.1',
    '0x7f.0.0.1',
    '010.0.0.1',
    '1.2.3.4.5',
    '256.0.0.1',
    '1.2.3.4:80',
    '[::1]',
    '::ffff:010.0.0.1',
    '1::2::3',
    '%eth0',
    'fe80::1%',
    ' 1.2.3.4',
  ];
  for (const input of cases) t.equal(parseIpAddress(input), undefined, JSON.stringify(input));
});

t.test('canonicalIpText keeps non-address text', async (t) => {
  t.equal(canonicalIpText('unix-socket'), 'unix-socket');
});

t.test('maskIpAddress keeps the prefix bits', async (t) => {
  const cases: [string, number, string][] = [
    ['198.51.100.77', 24, '198.51.100.0/24'],
    ['198.51.100.77', 20, '198.51.96.0/20'],
    ['198.51.100.77', 32, '198.51.100.77'],
    ['198.51.100.77', 64, '198.51.100.77'],
    ['2001:db8:1:2:3:4:5:6', 64, '2001:db8:1:2::/64'],
    ['2001:db8:1:2:3:4:5:6', 56, '2001:db8:1::/56'],
    ['2001:db8:1:2:3:4:5:6', 128, '2001:db8:1:2:3:4:5:6'],
    ['2001:db8::1', 0, '::/0'],
  ];
  for (const [input, prefix, expected] of cases) {
    t.equal(maskIpAddress(parseIpAddress(input)!, prefix), expected, `${input}/${prefix}`);
  }
});

t.test('parseForwardedLine follows the RFC 7239 grammar', async (t) => {
  const parsed = parseForwardedLine('for=192.0.2.43;Proto=https, for="[2001:db8::1]:80";by=_a');
  t.equal(parsed.malformed, false);
  t.same(
    parsed.elements.map((element) => Object.fromEntries(element)),
    [
      { for: '192.0.2.43', proto: 'https' },
      { for: '[2001:db8::1]:80', by: '_a' },
    ],
  );
  const malformed: [string, number][] = [
    ['for=1.2.3.4, for', 1],
    ['for=1.2.3.4, =x', 1],
    ['for=1.2.3.4, for = 5.6.7.8', 1],
    ['for="a\\', 0],
    ['for="a\u0001"', 0],
    ['for=a b', 1],
    ['for=[::1]', 0],
    ['for=1;for=2', 0],
  ];
  for (const [line, kept] of malformed) {
    const result = parseForwardedLine(line);
    t.equal(result.malformed, true, `${JSON.stringify(line)} malformed`);
    t.equal(result.elements.length, kept, `${JSON.stringify(line)} keeps ${kept}`);
  }
  t.same(parseForwardedLine('  ').elements, [], 'blank line has no elements');
  t.equal(parseForwardedLine('for=a;;proto=b;').malformed, false, 'empty pairs allowed');
});
