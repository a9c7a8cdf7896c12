import t from 'tap';
import { request } from 'undici';
import { startGateway } from '../helpers/gateway.js';
import { startUpstream } from '../helpers/upstream.js';

const SPOOFED = '203.0.113.7';
const CLIENT = '198.51.100.20';

async function forwardedFor(config: string, headers: Record<string, string>) {
  const upstream = await startUpstream();
  const gw = await startGateway({ upstreamUrl: upstream.url, config });
  try {
    const response = await request(`${gw.url}/echo`, { headers });
    await response.body.dump();
    const received = upstream.received[0]!;
    const access = gw.logs.find((line) => line['msg'] === 'request completed');
    return { received, access };
  } finally {
    await gw.stop();
    await upstream.close();
  }
}

t.test('spoofed header from untrusted peer', async (t) => {
  const { received, access } = await forwardedFor('', { 'x-forwarded-for': SPOOFED });
  t.equal(received.headers['x-forwarded-for'], '127.0.0.1');
  t.equal(access?.['client_ip'], '127.0.0.1');
});

t.test('header from trusted proxy', async (t) => {
  const config = 'client_ip: { trusted_proxies: [loopback], headers: [x-forwarded-for] }';
  const { received, access } = await forwardedFor(config, {
    'x-forwarded-for': `${SPOOFED}, ${CLIENT}`,
  });
  t.equal(received.headers['x-forwarded-for'], CLIENT, 'rightmost untrusted entry');
  t.match(String(received.headers['forwarded']), new RegExp(`^for=${CLIENT};`));
  t.equal(access?.['client_ip'], CLIENT);
  t.equal(access?.['peer'], '127.0.0.1');
});
