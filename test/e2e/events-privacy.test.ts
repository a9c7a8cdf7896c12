import { createHmac } from 'node:crypto';
import t from 'tap';
import { request } from 'undici';
import type { StoredSecurityEvent } from '../../src/monitoring/events/event.js';
import type { SecurityEventHub } from '../../src/monitoring/events/hub.js';
import type { MemoryEventSink } from '../../src/monitoring/events/memory-sink.js';
import { startProxy, type UpstreamHandler } from '../helpers/e2e.js';
import { startRedis } from '../helpers/redis.js';
import {
  STREAM_KEY,
  createIssuer,
  eventsOf,
  getEvents,
  loggedEvents,
  pollUntil,
  readStream,
  writeAdminToken,
} from '../monitoring/events-fixtures.js';

const HASH_KEY = 'privacy-test-key-0123456789abcdef0123456789';
const SUBJECT = 'alice-subject-5c1f';
const SESSION = 'sid-42-9a8b';
const CLIENT_V4 = '203.0.113.77';
const CLIENT_V6 = '2001:db8:abcd:12::5';
const OTHER_V4 = '198.51.100.23';

const POLICY = `version: 1
routes:
  - name: answer
    match: { methods: [GET], path: /answer }
  - name: open
    match: { path_prefix: /open }
    auth: none
`;

/** The upstream responds with a card number, so that each response has a leak event. */
const handler: UpstreamHandler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ answer: 'card 4539 1488 0343 6467' }));
};

/** `hmac:` and 16 hex digits of HMAC-SHA256 over the domain, a NUL and the value. */
function expectedHash(domain: string, value: string): string {
  const digest = createHmac('sha256', HASH_KEY).update(`${domain}\0${value}`).digest('hex');
  return `hmac:${digest.slice(0, 16)}`;
}

t.test('privacy applies in every sink', async (t) => {
  const redis = await startRedis(t);
  const issuer = await createIssuer(t);
  const tokenFile = await writeAdminToken(t);
  const { upstream, gw } = await startProxy(t, {
    handler,
    policy: POLICY,
    env: { EVENTS_HASH_KEY: HASH_KEY },
    config: [
      `admin: { token_file: '${tokenFile}' }`,
      'client_ip: { trusted_proxies: [loopback], headers: [x-forwarded-for] }',
      issuer.config,
      'events:',
      '  redis:',
      `    enabled: true`,
      `    url: redis://127.0.0.1:${redis.port}`,
      `    stream_key: ${STREAM_KEY}`,
      '  privacy:',
      '    client_ip: truncate',
      '    subject: hash',
      '    hash_key_env: EVENTS_HASH_KEY',
    ].join('\n'),
  });
  const heard: StoredSecurityEvent[] = [];
  gw.gateway.events.subscribe((event) => heard.push(event));

  const token = await issuer.token({ sub: SUBJECT, sid: SESSION });
  const send = async (path: string, client: string, bearer?: string) => {
    const headers: Record<string, string> = { 'x-forwarded-for': client };
    if (bearer !== undefined) headers['authorization'] = `Bearer ${bearer}`;
    const response = await request(`${gw.url}${path}`, { headers });
    await response.body.text();
    return response.statusCode;
  };
  t.equal(await send('/answer', CLIENT_V4, token), 200, 'the leak is redacted and sent');
  t.equal(await send('/open/x', CLIENT_V6), 200, 'an IPv6 client');
  t.equal(await send('/answer', OTHER_V4), 401, 'no token');
  t.equal(upstream.received.length, 2, 'the 401 did not reach the upstream');

  const hub = gw.gateway.events as SecurityEventHub;
  const memory = hub.sinks.find((sink) => sink.name === 'memory') as MemoryEventSink;
  const stream = await pollUntil(async () => {
    const entries = await readStream(redis);
    return entries.length === 3 ? entries : undefined;
  }, 'three stream entries');
  const api = await getEvents(gw);
  t.equal(api.status, 200);
  const sinks: [string, StoredSecurityEvent[]][] = [
    ['log', loggedEvents(gw)],
    ['memory', [...(await memory.read({ limit: 10 })).events].reverse()],
    ['redis', stream.map((entry) => entry.event)],
    ['admin api', [...eventsOf(api)].reverse()],
    ['listener', heard],
  ];
  for (const [sink, events] of sinks) {
    t.equal(events.length, 3, `${sink}: three events`);
    const [leak, ipv6, rejected] = events;
    t.equal(leak?.type, 'response_leak', `${sink}: the leak first`);
    t.equal(leak?.client_ip, '203.0.113.0/24', `${sink}: IPv4 client /24`);
    t.equal(leak?.peer, '127.0.0.0/24', `${sink}: the peer is truncated too`);
    t.equal(leak?.subject, expectedHash('subject', SUBJECT), `${sink}: subject hashed`);
    t.equal(leak?.session, expectedHash('session', SESSION), `${sink}: session hashed`);
    t.equal(ipv6?.client_ip, '2001:db8:abcd::/48', `${sink}: IPv6 client /48`);
    t.equal(rejected?.client_ip, '198.51.100.0/24', `${sink}: rejected client /24`);
    t.equal(rejected?.subject, undefined, `${sink}: no subject without a token`);
    const text = JSON.stringify(events);
    for (const raw of [CLIENT_V4, CLIENT_V6, OTHER_V4, SUBJECT, SESSION, '127.0.0.1']) {
      t.notOk(text.includes(raw), `${sink}: no ${raw}`);
    }
  }

  const filtered = await getEvents(gw, `?client_ip=${CLIENT_V4}`);
  t.same(
    eventsOf(filtered).map((event) => event.type),
    ['response_leak'],
    'a client_ip filter matches the truncated address',
  );
});

t.test('hash key must be long enough', async (t) => {
  const rejected = startProxy(t, {
    env: { EVENTS_HASH_KEY: 'short' },
    config: 'events:\n  privacy: { client_ip: hash, hash_key_env: EVENTS_HASH_KEY }',
  });
  await t.rejects(rejected, /events\.privacy\.hash_key_env: the key in environment variable/);
});
