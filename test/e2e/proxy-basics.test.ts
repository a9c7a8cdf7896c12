import t from 'tap';
import { request } from 'undici';
import { startGateway } from '../helpers/gateway.js';
import { startUpstream } from '../helpers/upstream.js';

t.test('forwards a matched request', async (t) => {
  const upstream = await startUpstream();
  const gw = await startGateway({ upstreamUrl: upstream.url });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });

  const response = await request(`${gw.url}/api/rag/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'hello' }),
  });
  const body = (await response.body.json()) as { url: string; bytes: number };
  t.equal(response.statusCode, 200);
  t.equal(body.url, '/api/rag/query');
  t.equal(body.bytes, JSON.stringify({ query: 'hello' }).length);
  t.equal(upstream.received.length, 1);
});

t.test('unmatched route is 404 route_not_found', async (t) => {
  const upstream = await startUpstream();
  const gw = await startGateway({ upstreamUrl: upstream.url });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });

  const response = await request(`${gw.url}/admin`);
  const body = (await response.body.json()) as Record<string, unknown>;
  t.equal(response.statusCode, 404);
  t.equal(response.headers['content-type'], 'application/problem+json');
  t.equal(body['code'], 'route_not_found');
  t.equal(body['request_id'], response.headers['x-request-id']);
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
});
