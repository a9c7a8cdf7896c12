import type { IncomingMessage, ServerResponse } from 'node:http';
import t from 'tap';
import { accessLine, openRawConnection, startProxy, waitFor } from '../helpers/e2e.js';

/** The status the access log gives a request whose client left first, as NGINX does. */
const CLIENT_CLOSED_REQUEST = 499;
const FIRST_PART = 'first part\n';
const DECLARED_BYTES = 1_000;

/** Resolves with `res.writableFinished` when the upstream response closes. */
function finishedWhenClosed(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => res.once('close', () => resolve(res.writableFinished)));
}

/** Resolves with `req.complete` when the upstream request closes. */
function completedWhenClosed(req: IncomingMessage): Promise<boolean> {
  return new Promise((resolve) => req.once('close', () => resolve(req.complete)));
}

function requestHead(host: string, requestId: string, lines: string[]): string {
  return [...lines.slice(0, 1), `Host: ${host}`, `X-Request-Id: ${requestId}`, ...lines.slice(1)]
    .concat('', '')
    .join('\r\n');
}

t.test('client abort mid-response', async (t) => {
  const upstreamClosed: Promise<boolean>[] = [];
  const { gw } = await startProxy(t, {
    handler: (_req, res) => {
      upstreamClosed.push(finishedWhenClosed(res));
      res.writeHead(200, { 'content-type': 'text/plain' });
      // Never ends on its own: only the client leaving ends this response.
      res.write(FIRST_PART);
    },
  });
  const { host } = new URL(gw.url);
  const requestId = 'abort-mid-response';
  const connection = openRawConnection(gw.url);
  t.teardown(() => connection.socket.destroy());

  connection.socket.write(requestHead(host, requestId, ['GET /stream/slow HTTP/1.1']));
  await waitFor(() => connection.received().includes(FIRST_PART), 'the first part at the client');
  connection.socket.destroy();

  t.equal(await upstreamClosed[0], false, 'the upstream response closed before it finished');
  const line = await accessLine(gw, requestId);
  t.equal(line['outcome'], 'aborted');
  t.equal(line['status'], CLIENT_CLOSED_REQUEST);
});

t.test('client abort awaiting headers', async (t) => {
  const upstreamClosed: Promise<boolean>[] = [];
  const { upstream, gw } = await startProxy(t, {
    handler: (_req, res) => {
      // Never responds: only the client leaving ends this response.
      upstreamClosed.push(finishedWhenClosed(res));
    },
  });
  const { host } = new URL(gw.url);
  const requestId = 'abort-awaiting-headers';
  const connection = openRawConnection(gw.url);
  t.teardown(() => connection.socket.destroy());

  connection.socket.write(requestHead(host, requestId, ['GET /stream/silent HTTP/1.1']));
  await waitFor(() => upstream.received.length === 1, 'the request at the upstream');
  connection.socket.destroy();

  t.equal(await upstreamClosed[0], false, 'the upstream response closed before it finished');
  const line = await accessLine(gw, requestId);
  t.equal(line['outcome'], 'aborted');
  t.equal(line['status'], CLIENT_CLOSED_REQUEST);
});

t.test('client abort mid-request body', async (t) => {
  const upstreamClosed: Promise<boolean>[] = [];
  let upstreamBytes = 0;
  const { gw } = await startProxy(t, {
    streamBody: true,
    handler: (req, res) => {
      upstreamClosed.push(completedWhenClosed(req));
      req.on('data', (data: Buffer) => {
        upstreamBytes += data.length;
      });
      req.on('end', () => res.end('read'));
    },
  });
  const { host } = new URL(gw.url);
  const framings: Record<string, { head: string; firstPart: string }> = {
    'content-length': {
      head: `Content-Length: ${DECLARED_BYTES}`,
      firstPart: FIRST_PART,
    },
    chunked: {
      head: 'Transfer-Encoding: chunked',
      firstPart: `${FIRST_PART.length.toString(16)}\r\n${FIRST_PART}\r\n`,
    },
  };

  for (const [framing, { head, firstPart }] of Object.entries(framings)) {
    const requestId = `abort-mid-body-${framing}`;
    const bytesBefore = upstreamBytes;
    const connection = openRawConnection(gw.url);
    t.teardown(() => connection.socket.destroy());

    connection.socket.write(
      requestHead(host, requestId, ['POST /echo/upload HTTP/1.1', head]) + firstPart,
    );
    await waitFor(
      () => upstreamBytes - bytesBefore >= FIRST_PART.length,
      `the first part at the upstream (${framing})`,
    );
    connection.socket.destroy();

    t.equal(await upstreamClosed.at(-1), false, `${framing}: the upstream request was aborted`);
    const line = await accessLine(gw, requestId);
    t.equal(line['outcome'], 'aborted', `${framing}: outcome`);
    t.equal(line['status'], CLIENT_CLOSED_REQUEST, `${framing}: status`);
  }
});

t.test('client abort mid-body after response', async (t) => {
  const upstreamClosed: Promise<boolean>[] = [];
  const { gw } = await startProxy(t, {
    streamBody: true,
    // Responds at once and keeps the response open while the body arrives.
    handler: (req, res) => {
      upstreamClosed.push(completedWhenClosed(req));
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(FIRST_PART);
      req.resume();
      req.on('end', () => res.end());
    },
  });
  const { host } = new URL(gw.url);
  const framings: Record<string, { head: string; firstPart: string }> = {
    'content-length': {
      head: `Content-Length: ${DECLARED_BYTES}`,
      firstPart: FIRST_PART,
    },
    chunked: {
      head: 'Transfer-Encoding: chunked',
      firstPart: `${FIRST_PART.length.toString(16)}\r\n${FIRST_PART}\r\n`,
    },
  };

  for (const [framing, { head, firstPart }] of Object.entries(framings)) {
    const requestId = `abort-after-response-${framing}`;
    const connection = openRawConnection(gw.url);
    t.teardown(() => connection.socket.destroy());

    connection.socket.write(
      requestHead(host, requestId, ['POST /upload/doc HTTP/1.1', head]) + firstPart,
    );
    await waitFor(
      () => connection.received().includes(FIRST_PART),
      `the start of the response (${framing})`,
    );
    connection.socket.destroy();

    t.equal(await upstreamClosed.at(-1), false, `${framing}: the upstream request was aborted`);
    const line = await accessLine(gw, requestId);
    t.equal(line['outcome'], 'aborted', `${framing}: outcome`);
    t.equal(line['status'], CLIENT_CLOSED_REQUEST, `${framing}: status`);
  }
});
