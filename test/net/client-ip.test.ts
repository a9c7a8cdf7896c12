import fc from 'fast-check';
import t from 'tap';
import {
  clientIpSettingsSchema,
  compileClientIpSettings,
  SOCKET_PEER_ONLY,
  type CompiledClientIpSettings,
} from '../../src/net/client-ip-settings.js';
import { resolveClientIp } from '../../src/net/resolve-client-ip.js';

function settings(input: Record<string, unknown>): CompiledClientIpSettings {
  return compileClientIpSettings(clientIpSettingsSchema.parse(input));
}

const XFF = settings({ trusted_proxies: ['10.0.0.0/8', 'loopback'], headers: ['X-Forwarded-For'] });
const FORWARDED = settings({ trusted_proxies: ['10.0.0.0/8'], headers: ['forwarded'] });
const SINGLE = settings({
  trusted_proxies: ['10.0.0.0/8'],
  headers: ['x-real-ip', 'cf-connecting-ip', 'true-client-ip'],
});
const TRUSTED_PEER = '10.0.0.1';
const UNTRUSTED_PEER = '203.0.113.50';

interface Case {
  name: string;
  settings: CompiledClientIpSettings;
  peer: string | undefined;
  headers?: [string, string][];
  clientIp: string;
  source?: string;
}

function run(c: Case) {
  return resolveClientIp(
    { remoteAddress: c.peer, rawHeaders: (c.headers ?? []).flat() },
    c.settings,
  );
}

const socketCases: Case[] = [
  { name: 'plain IPv4 peer', settings: SOCKET_PEER_ONLY, peer: '192.0.2.1', clientIp: '192.0.2.1' },
  {
    name: 'IPv4-mapped peer keyed as IPv4',
    settings: SOCKET_PEER_ONLY,
    peer: '::ffff:192.0.2.1',
    clientIp: '192.0.2.1',
  },
  {
    name: 'zone id stripped',
    settings: SOCKET_PEER_ONLY,
    peer: 'fe80::1%eth0',
    clientIp: 'fe80::1',
  },
  {
    name: 'IPv6 written in RFC 5952 form',
    settings: SOCKET_PEER_ONLY,
    peer: '2001:DB8:0:0:0:0:0:1',
    clientIp: '2001:db8::1',
  },
  { name: 'no peer address', settings: SOCKET_PEER_ONLY, peer: undefined, clientIp: 'unknown' },
  {
    name: 'headers ignored without settings',
    settings: SOCKET_PEER_ONLY,
    peer: '127.0.0.1',
    headers: [['X-Forwarded-For', '198.51.100.7']],
    clientIp: '127.0.0.1',
    source: 'socket',
  },
];

const xffCases: Case[] = [
  {
    name: 'untrusted peer: spoofed X-Forwarded-For ignored',
    settings: XFF,
    peer: UNTRUSTED_PEER,
    headers: [['X-Forwarded-For', '198.51.100.7']],
    clientIp: UNTRUSTED_PEER,
    source: 'socket',
  },
  {
    name: 'trusted peer: single entry believed',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '198.51.100.7']],
    clientIp: '198.51.100.7',
    source: 'x-forwarded-for',
  },
  {
    name: 'IPv4-mapped trusted peer matched as IPv4',
    settings: XFF,
    peer: '::ffff:10.0.0.1',
    headers: [['X-Forwarded-For', '198.51.100.7']],
    clientIp: '198.51.100.7',
  },
  {
    name: 'IPv6 loopback peer trusted by name',
    settings: XFF,
    peer: '::1',
    headers: [['X-Forwarded-For', '198.51.100.7']],
    clientIp: '198.51.100.7',
  },
  {
    name: 'walk from the right past trusted proxies',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '203.0.113.9, 198.51.100.7, 10.0.0.2, 10.0.0.3']],
    clientIp: '198.51.100.7',
  },
  {
    name: 'every entry trusted: leftmost used',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '10.0.0.3, 10.0.0.2']],
    clientIp: '10.0.0.3',
  },
  {
    name: 'repeated lines joined in order',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [
      ['X-Forwarded-For', '203.0.113.9'],
      ['x-forwarded-for', '198.51.100.7, 10.0.0.2'],
    ],
    clientIp: '198.51.100.7',
  },
  {
    name: 'upper-case header name',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-FORWARDED-FOR', '198.51.100.7']],
    clientIp: '198.51.100.7',
  },
  {
    name: 'malformed entry: last good address to its right',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '198.51.100.7, not-an-ip, 10.0.0.2']],
    clientIp: '10.0.0.2',
  },
  {
    name: 'malformed rightmost entry: peer',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '198.51.100.7, 10.0.0.2, 300.1.1.1']],
    clientIp: TRUSTED_PEER,
    source: 'socket',
  },
  {
    name: 'unknown entry ends the walk',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '198.51.100.7, unknown, 10.0.0.2']],
    clientIp: '10.0.0.2',
  },
  {
    name: 'short IPv4 form rejected',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '198.51.100.7, 127.1']],
    clientIp: TRUSTED_PEER,
  },
  {
    name: 'hex IPv4 form rejected',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '0x7f.0.0.1']],
    clientIp: TRUSTED_PEER,
  },
  {
    name: 'octal IPv4 form rejected',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '010.0.0.1']],
    clientIp: TRUSTED_PEER,
  },
  {
    name: 'empty list elements ignored',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '198.51.100.7,, ,10.0.0.2']],
    clientIp: '198.51.100.7',
  },
  {
    name: 'IPv4 port stripped',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '198.51.100.7:4711']],
    clientIp: '198.51.100.7',
  },
  {
    name: 'bracketed IPv6 with port',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '[2001:db8::7]:443']],
    clientIp: '2001:db8::7',
  },
  {
    name: 'bare IPv6 entry',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '2001:DB8:0::7']],
    clientIp: '2001:db8::7',
  },
  {
    name: 'IPv6 zone id in an entry stripped',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', 'fe80::7%eth0']],
    clientIp: 'fe80::7',
  },
  {
    name: 'IPv4-mapped entry keyed as IPv4',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '::ffff:198.51.100.7']],
    clientIp: '198.51.100.7',
  },
  {
    name: 'non-breaking space is not whitespace',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '\u00a0198.51.100.7']],
    clientIp: TRUSTED_PEER,
  },
  {
    name: 'bracketed IPv4 rejected',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '[198.51.100.7]']],
    clientIp: TRUSTED_PEER,
  },
  {
    name: 'port out of form rejected',
    settings: XFF,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '198.51.100.7:123456']],
    clientIp: TRUSTED_PEER,
  },
];

const MAX_TWO = settings({
  trusted_proxies: ['10.0.0.0/8'],
  headers: ['x-forwarded-for'],
  max_entries: 2,
});

const limitCases: Case[] = [
  {
    name: 'entries past max_entries ignored',
    settings: MAX_TWO,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '198.51.100.1, 10.0.0.3, 10.0.0.2']],
    clientIp: '10.0.0.3',
  },
  {
    name: 'malformed entry past max_entries has no effect',
    settings: MAX_TWO,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', 'garbage, 198.51.100.1, 10.0.0.2']],
    clientIp: '198.51.100.1',
  },
];

const HOPS_TWO = settings({
  trusted_proxies: ['10.0.0.0/8'],
  headers: ['x-forwarded-for'],
  trusted_hops: 2,
});
const HOPS_THREE = settings({
  trusted_proxies: ['10.0.0.0/8'],
  headers: ['x-forwarded-for'],
  trusted_hops: 3,
});

const hopCases: Case[] = [
  {
    name: 'hop count takes the entry that many from the right',
    settings: HOPS_TWO,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '203.0.113.9, 198.51.100.7, 192.0.2.200']],
    clientIp: '198.51.100.7',
  },
  {
    name: 'hop count ignores trust of inner entries',
    settings: HOPS_TWO,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '203.0.113.9, 10.0.0.7, 10.0.0.8']],
    clientIp: '10.0.0.7',
  },
  {
    name: 'hop count with a short list uses its leftmost entry',
    settings: HOPS_THREE,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '198.51.100.7']],
    clientIp: '198.51.100.7',
  },
  {
    name: 'hop count stops at a malformed entry',
    settings: HOPS_THREE,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '203.0.113.9, bad, 198.51.100.7']],
    clientIp: '198.51.100.7',
  },
  {
    name: 'hop count with malformed rightmost entry: peer',
    settings: HOPS_TWO,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '198.51.100.7, bad']],
    clientIp: TRUSTED_PEER,
  },
  {
    name: 'hop count still needs a trusted peer',
    settings: HOPS_TWO,
    peer: UNTRUSTED_PEER,
    headers: [['X-Forwarded-For', '203.0.113.9, 198.51.100.7']],
    clientIp: UNTRUSTED_PEER,
  },
];

const forwardedCases: Case[] = [
  {
    name: 'Forwarded with several parameters',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [['Forwarded', 'for=192.0.2.60;proto=http;by=203.0.113.43']],
    clientIp: '192.0.2.60',
    source: 'forwarded',
  },
  {
    name: 'Forwarded from an untrusted peer ignored',
    settings: FORWARDED,
    peer: UNTRUSTED_PEER,
    headers: [['Forwarded', 'for=192.0.2.60']],
    clientIp: UNTRUSTED_PEER,
  },
  {
    name: 'Forwarded parameter name in any case',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [['Forwarded', 'For=192.0.2.60']],
    clientIp: '192.0.2.60',
  },
  {
    name: 'Forwarded quoted IPv6 with port',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [['Forwarded', 'for="[2001:db8:cafe::17]:4711"']],
    clientIp: '2001:db8:cafe::17',
  },
  {
    name: 'Forwarded quoted IPv4',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [['Forwarded', 'for="192.0.2.43"']],
    clientIp: '192.0.2.43',
  },
  {
    name: 'Forwarded quoted-pair escapes',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [['Forwarded', 'for="\\[2001:db8::9\\]"']],
    clientIp: '2001:db8::9',
  },
  {
    name: 'Forwarded IPv4 with obfuscated port',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [['Forwarded', 'for="192.0.2.43:_p0rt"']],
    clientIp: '192.0.2.43',
  },
  {
    name: 'Forwarded list walked from the right',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [['Forwarded', 'for=192.0.2.43, for=198.51.100.17;by=10.0.0.1, for=10.0.0.5']],
    clientIp: '198.51.100.17',
  },
  {
    name: 'Forwarded commas inside quotes are not separators',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [['Forwarded', 'for=192.0.2.43;ext="a, for=203.0.113.1"']],
    clientIp: '192.0.2.43',
  },
  {
    name: 'Forwarded obfuscated node is not an address',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [['Forwarded', 'for=198.51.100.1, for=_hidden']],
    clientIp: TRUSTED_PEER,
  },
  {
    name: 'Forwarded obfuscated node ends the walk',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [['Forwarded', 'for=198.51.100.1, for=_hidden, for=10.0.0.5']],
    clientIp: '10.0.0.5',
  },
  {
    name: 'Forwarded unknown node',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [['Forwarded', 'for=198.51.100.1, for=unknown']],
    clientIp: TRUSTED_PEER,
  },
  {
    name: 'Forwarded element without for',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [['Forwarded', 'for=198.51.100.1, proto=https']],
    clientIp: TRUSTED_PEER,
  },
  {
    name: 'Forwarded unquoted IPv6 is a syntax error',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [['Forwarded', 'for=198.51.100.1, for=[2001:db8::1]']],
    clientIp: TRUSTED_PEER,
  },
  {
    name: 'Forwarded IPv6 without brackets rejected',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [['Forwarded', 'for="2001:db8::1"']],
    clientIp: TRUSTED_PEER,
  },
  {
    name: 'Forwarded duplicate parameter rejected',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [['Forwarded', 'for=198.51.100.1;for=198.51.100.2']],
    clientIp: TRUSTED_PEER,
  },
  {
    name: 'Forwarded broken client line does not swallow proxy line',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [
      ['Forwarded', 'for="198.51.100.1'],
      ['Forwarded', 'for=203.0.113.5'],
    ],
    clientIp: '203.0.113.5',
  },
  {
    name: 'Forwarded syntax error: last good entry to its right',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [
      ['Forwarded', 'for=198.51.100.1, for=10.0.0.4, for="oops'],
      ['Forwarded', 'for=10.0.0.5'],
    ],
    clientIp: '10.0.0.5',
  },
  {
    name: 'Forwarded whitespace around semicolons tolerated',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [['Forwarded', 'proto=https ; for=198.51.100.1']],
    clientIp: '198.51.100.1',
  },
  {
    name: 'Forwarded empty quoted value rejected',
    settings: FORWARDED,
    peer: TRUSTED_PEER,
    headers: [['Forwarded', 'for=""']],
    clientIp: TRUSTED_PEER,
  },
];

const singleCases: Case[] = [
  {
    name: 'X-Real-IP from a trusted peer',
    settings: SINGLE,
    peer: TRUSTED_PEER,
    headers: [['X-Real-IP', '198.51.100.7']],
    clientIp: '198.51.100.7',
    source: 'x-real-ip',
  },
  {
    name: 'X-Real-IP from an untrusted peer ignored',
    settings: SINGLE,
    peer: UNTRUSTED_PEER,
    headers: [['X-Real-IP', '198.51.100.7']],
    clientIp: UNTRUSTED_PEER,
  },
  {
    name: 'CF-Connecting-IP',
    settings: SINGLE,
    peer: TRUSTED_PEER,
    headers: [['CF-Connecting-IP', '2001:db8::5']],
    clientIp: '2001:db8::5',
  },
  {
    name: 'True-Client-IP',
    settings: SINGLE,
    peer: TRUSTED_PEER,
    headers: [['True-Client-IP', '198.51.100.8']],
    clientIp: '198.51.100.8',
  },
  {
    name: 'single-value header repeated: peer',
    settings: SINGLE,
    peer: TRUSTED_PEER,
    headers: [
      ['X-Real-IP', '198.51.100.7'],
      ['X-Real-IP', '198.51.100.8'],
    ],
    clientIp: TRUSTED_PEER,
  },
  {
    name: 'single-value header with a list: peer',
    settings: SINGLE,
    peer: TRUSTED_PEER,
    headers: [['X-Real-IP', '198.51.100.7, 198.51.100.8']],
    clientIp: TRUSTED_PEER,
  },
  {
    name: 'single-value header malformed: peer',
    settings: SINGLE,
    peer: TRUSTED_PEER,
    headers: [['X-Real-IP', 'not-an-ip']],
    clientIp: TRUSTED_PEER,
  },
  {
    name: 'single-value header port stripped',
    settings: SINGLE,
    peer: TRUSTED_PEER,
    headers: [['X-Real-IP', ' 198.51.100.7:8080 ']],
    clientIp: '198.51.100.7',
  },
];

const ORDERED = settings({
  trusted_proxies: ['10.0.0.0/8'],
  headers: ['cf-connecting-ip', 'x-forwarded-for'],
});

const orderCases: Case[] = [
  {
    name: 'first configured header wins',
    settings: ORDERED,
    peer: TRUSTED_PEER,
    headers: [
      ['X-Forwarded-For', '203.0.113.9'],
      ['CF-Connecting-IP', '198.51.100.7'],
    ],
    clientIp: '198.51.100.7',
    source: 'cf-connecting-ip',
  },
  {
    name: 'later header used when the first is absent',
    settings: ORDERED,
    peer: TRUSTED_PEER,
    headers: [['X-Forwarded-For', '203.0.113.9']],
    clientIp: '203.0.113.9',
    source: 'x-forwarded-for',
  },
  {
    name: 'first present header decides even when malformed',
    settings: ORDERED,
    peer: TRUSTED_PEER,
    headers: [
      ['CF-Connecting-IP', 'garbage'],
      ['X-Forwarded-For', '203.0.113.9'],
    ],
    clientIp: TRUSTED_PEER,
    source: 'socket',
  },
  {
    name: 'headers not configured are ignored',
    settings: ORDERED,
    peer: TRUSTED_PEER,
    headers: [['X-Real-IP', '198.51.100.7']],
    clientIp: TRUSTED_PEER,
  },
];

const IPV6_PROXIES = settings({
  trusted_proxies: ['2001:db8:ffff::/48', '::ffff:192.168.0.0/112'],
  headers: ['x-forwarded-for'],
});

const ipv6Cases: Case[] = [
  {
    name: 'IPv6 CIDR trusts an IPv6 peer',
    settings: IPV6_PROXIES,
    peer: '2001:db8:ffff:1::2',
    headers: [['X-Forwarded-For', '2001:db8:1::9, 2001:db8:ffff::3']],
    clientIp: '2001:db8:1::9',
  },
  {
    name: 'IPv4-mapped CIDR matches an IPv4 peer',
    settings: IPV6_PROXIES,
    peer: '192.168.4.4',
    headers: [['X-Forwarded-For', '198.51.100.7']],
    clientIp: '198.51.100.7',
  },
  {
    name: 'IPv6 CIDR does not trust other peers',
    settings: IPV6_PROXIES,
    peer: '2001:db8:fffe::1',
    headers: [['X-Forwarded-For', '198.51.100.7']],
    clientIp: '2001:db8:fffe::1',
  },
];

const groups: [string, Case[]][] = [
  ['socket peer', socketCases],
  ['X-Forwarded-For', xffCases],
  ['max_entries', limitCases],
  ['trusted_hops', hopCases],
  ['Forwarded', forwardedCases],
  ['single-value headers', singleCases],
  ['header order', orderCases],
  ['IPv6 proxies', ipv6Cases],
];

for (const [group, cases] of groups) {
  t.test(`resolveClientIp: ${group}`, async (t) => {
    for (const c of cases) {
      const result = run(c);
      t.equal(result.clientIp, c.clientIp, c.name);
      t.equal(result.peer, c.peer, `${c.name}: peer kept`);
      if (c.source !== undefined) t.equal(result.source, c.source, `${c.name}: source`);
    }
  });
}

t.test('client text left of proxy unused', async (t) => {
  // The trusted proxy at 10.0.0.1 appended the client's address to whatever the client sent.
  const spoofedText = fc.string({ unit: 'binary-ascii', maxLength: 200 });
  const resolve = (rawHeaders: string[], compiled: CompiledClientIpSettings) =>
    resolveClientIp({ remoteAddress: TRUSTED_PEER, rawHeaders }, compiled).clientIp;
  const options = { numRuns: 500 };
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(spoofedText, (spoofed) => {
          return resolve(['X-Forwarded-For', `${spoofed}, 198.51.100.7`], XFF) === '198.51.100.7';
        }),
        options,
      ),
    'X-Forwarded-For prefix',
  );
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(spoofedText, (spoofed) => {
          const rawHeaders = ['Forwarded', spoofed, 'Forwarded', 'for=198.51.100.7'];
          return resolve(rawHeaders, FORWARDED) === '198.51.100.7';
        }),
        options,
      ),
    'Forwarded line before the proxy line',
  );
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(spoofedText, (spoofed) => {
          const clientIp = resolve(['Forwarded', `${spoofed}, for=198.51.100.7`], FORWARDED);
          return clientIp === '198.51.100.7' || clientIp === TRUSTED_PEER;
        }),
        options,
      ),
    'Forwarded prefix in the proxy line',
  );
});
