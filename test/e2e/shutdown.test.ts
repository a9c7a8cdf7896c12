import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { connect } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { startProxy, waitFor } from '../helpers/e2e.js';

const GRACE_PERIOD_MS = 300;
const SLOW_BODY = 'finished after stop';

/** Resolves with the error code of a new TCP connection to `url`, or 'connected'. */
async function connectOutcome(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  try {
    await once(socket, 'connect');
    return 'connected';
  } catch (error) {
    return String((error as NodeJS.ErrnoException).code);
  } finally {
    socket.destroy();
  }
}

t.test('shutdown drains in-flight request', async (t) => {
  const pending: ServerResponse[] = [];
  const { upstream, gw } = await startProxy(t, {
    // Held open until the test releases it.
    handler: (_req, res) => pending.push(res),
  });

  const inFlight = request(`${gw.url}/stream/slow`);
  await waitFor(() => upstream.received.length === 1, 'the request at the upstream');
  const stopping = gw.gateway.stop();

  const readiness = await request(`${gw.adminUrl}/readyz`);
  t.equal(readiness.statusCode, 503, 'readiness fails while draining');
  t.same(await readiness.body.json(), { status: 'draining' });
  t.equal(await connectOutcome(gw.url), 'ECONNREFUSED', 'new connections are refused');

  pending[0]!.end(SLOW_BODY);
  const response = await inFlight;
  t.equal(response.statusCode, 200);
  t.equal(await response.body.text(), SLOW_BODY, 'the in-flight request finished');
  await stopping;
  const stopped = gw.logs.find((line) => line['msg'] === 'gateway stopped');
  t.equal(stopped?.['unfinished'], 0, 'nothing was cut');
});

t.test('shutdown cuts requests past grace', async (t) => {
  const { upstream, gw } = await startProxy(t, {
    config: `shutdown: { grace_period: ${GRACE_PERIOD_MS}ms }`,
    // Never responds, and closing the upstream at teardown ends the connection.
    handler: () => undefined,
  });

  const inFlight = request(`${gw.url}/stream/silent`).then(
    (response) => `status ${response.statusCode}`,
    (error: NodeJS.ErrnoException) => String(error.code),
  );
  await waitFor(() => upstream.received.length === 1, 'the request at the upstream');
  await gw.gateway.stop();

  t.equal(await inFlight, 'UND_ERR_SOCKET', 'the client connection was closed');
  const stopped = gw.logs.find((line) => line['msg'] === 'gateway stopped');
  t.equal(stopped?.['unfinished'], 1, 'the request was still in flight');
});
