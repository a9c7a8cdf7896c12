import t from 'tap';
import { request } from 'undici';
import { parseRawResponse, rawRequest } from '../helpers/http.js';
import { startGateway } from '../helpers/gateway.js';
import { startUpstream } from '../helpers/upstream.js';

interface EventLine {
  msg: string;
  event: {
    type: string;
    action: string;
    request_id: string;
    client_ip: string;
    detail: { code?: string; reason?: string };
  };
}

t.test('one security event per rejection', async (t) => {
  const upstream = await startUpstream();
  const gw = await startGateway({ upstreamUrl: upstream.url });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const events = () =>
    gw.logs.filter((line) => line['msg'] === 'security event') as unknown as EventLine[];

  const notFound = await request(`${gw.url}/nowhere`);
  const notFoundBody = (await notFound.body.json()) as { request_id: string };
  t.equal(events().length, 1, 'one event for the 404');
  t.equal(events()[0]!.event.detail.code, 'route_not_found');
  t.equal(events()[0]!.event.action, 'rejected');
  t.equal(events()[0]!.event.request_id, notFoundBody.request_id);
  t.equal(events()[0]!.event.client_ip, '127.0.0.1');

  const raw = await rawRequest(
    gw.url,
    'GET /echo/%2e%2e%2fx HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  );
  t.equal(parseRawResponse(raw).status, 400);
  t.equal(events().length, 2, 'one more event for the invalid path');
  t.equal(events()[1]!.event.detail.code, 'invalid_path');

  const parserRejected = await rawRequest(gw.url, 'GET /echo/x HTTP/1.1\r\nBad Header: x\r\n\r\n');
  t.equal(parseRawResponse(parserRejected).status, 400);
  t.equal(events().length, 3, 'one more event for the parser rejection');
  t.equal(events()[2]!.event.detail.code, 'bad_request');
  t.equal(upstream.received.length, 0, 'nothing reached the upstream');
});
