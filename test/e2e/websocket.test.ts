import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import t from 'tap';
import { openRawConnection, parseHeaderLines, startProxy, waitFor } from '../helpers/e2e.js';
import type { TestUpstream } from '../helpers/upstream.js';
import { parseRawResponse, rawRequest } from '../helpers/http.js';

/** RFC 6455 section 1.3: appended to the key before hashing it into Sec-WebSocket-Accept. */
const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC11B65';
const TEXT_FRAME = 0x81;
const MASKED = 0x80;
/** Payloads up to 125 bytes carry their length in the second byte, which keeps frames simple. */
const MAX_SHORT_PAYLOAD = 125;
const MASK_BYTES = 4;

function acceptFor(key: string): string {
  return createHash('sha1').update(`${key}${HANDSHAKE_GUID}`).digest('base64');
}

/** Encodes one final text frame; clients must mask theirs (RFC 6455 section 5.3). */
function encodeFrame(text: string, mask?: Buffer): Buffer {
  const payload = Buffer.from(text);
  if (payload.length > MAX_SHORT_PAYLOAD) throw new Error('payload too long for a short frame');
  if (!mask) return Buffer.concat([Buffer.from([TEXT_FRAME, payload.length]), payload]);
  const masked = payload.map((byte, index) => byte ^ mask[index % MASK_BYTES]!);
  return Buffer.concat([Buffer.from([TEXT_FRAME, MASKED | payload.length]), mask, masked]);
}

/** Decodes the first short text frame in `bytes`, or returns undefined while it is incomplete. */
function decodeFrame(bytes: Buffer): string | undefined {
  if (bytes.length < 2) return undefined;
  const isMasked = (bytes[1]! & MASKED) !== 0;
  const length = bytes[1]! & ~MASKED;
  const start = 2 + (isMasked ? MASK_BYTES : 0);
  if (bytes.length < start + length) return undefined;
  const payload = Buffer.from(bytes.subarray(start, start + length));
  if (isMasked) {
    const mask = bytes.subarray(2, 2 + MASK_BYTES);
    for (let index = 0; index < payload.length; index += 1) payload[index]! ^= mask[index % 4]!;
  }
  return payload.toString('utf8');
}

/**
 * Makes the upstream accept WebSocket upgrades and echo the first text frame of each connection.
 * Returns the upgrade requests it received.
 */
function acceptWebSockets(upstream: TestUpstream): IncomingMessage[] {
  const upgrades: IncomingMessage[] = [];
  upstream.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    upgrades.push(req);
    const key = String(req.headers['sec-websocket-key']);
    socket.write(
      [
        'HTTP/1.1 101 Switching Protocols',
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Accept: ${acceptFor(key)}`,
        '',
        '',
      ].join('\r\n'),
    );
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const text = decodeFrame(buffered);
      if (text !== undefined) socket.write(encodeFrame(text));
    });
    // Like WebSocket servers, it closes its side when the gateway closes the other, so the
    // upstream server can close at teardown.
    socket.on('end', () => socket.end());
    socket.on('error', () => undefined);
  });
  return upgrades;
}

function upgradeRequest(host: string, path: string, key: string, extra: string[] = []): string {
  return [
    `GET ${path} HTTP/1.1`,
    `Host: ${host}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${key}`,
    ...extra,
    '',
    '',
  ].join('\r\n');
}

t.test('websocket upgrade proxied and echoed', async (t) => {
  const { upstream, gw } = await startProxy(t);
  const upgrades = acceptWebSockets(upstream);
  const { host } = new URL(gw.url);
  const key = randomBytes(16).toString('base64');
  const message = 'hello over websocket';
  const connection = openRawConnection(gw.url);
  t.teardown(() => connection.socket.destroy());

  connection.socket.write(upgradeRequest(host, '/ws/chat', key, ['X-Forwarded-For: 203.0.113.9']));
  await waitFor(() => connection.received().includes('\r\n\r\n'), 'the handshake response');
  const head = connection.received().split('\r\n\r\n', 1)[0]!;
  const headers = parseHeaderLines(head);
  t.equal(parseRawResponse(head).status, 101);
  t.same(headers.get('sec-websocket-accept'), [acceptFor(key)]);
  t.equal(upgrades.length, 1, 'one upgrade reached the upstream');
  t.equal(upgrades[0]!.url, '/ws/chat');
  t.equal(upgrades[0]!.headers['x-forwarded-for'], '127.0.0.1', 'the client copy was replaced');

  const headLength = Buffer.byteLength(`${head}\r\n\r\n`, 'latin1');
  connection.socket.write(encodeFrame(message, randomBytes(MASK_BYTES)));
  const echoed = await waitFor(
    () => decodeFrame(connection.receivedBytes().subarray(headLength)),
    'the echoed frame',
  );
  t.equal(echoed, message);
});

t.test('websocket upgrades rejected off route', async (t) => {
  const { upstream, gw } = await startProxy(t);
  const upgrades = acceptWebSockets(upstream);
  const { host } = new URL(gw.url);
  const key = randomBytes(16).toString('base64');
  const cases = [
    {
      label: 'route without websocket',
      path: '/echo/chat',
      status: 400,
      code: 'websocket_not_allowed',
    },
    { label: 'unmatched path', path: '/nowhere', status: 404, code: 'route_not_found' },
    { label: 'invalid path', path: '/ws/a%2Fb', status: 400, code: 'invalid_path' },
  ];

  for (const { label, path, status, code } of cases) {
    const response = parseRawResponse(await rawRequest(gw.url, upgradeRequest(host, path, key)));
    t.equal(response.status, status, `${label}: status`);
    t.equal((response.body as Record<string, unknown>)['code'], code, `${label}: code`);
  }
  t.equal(upgrades.length, 0, 'no upgrade reached the upstream');
  t.equal(upstream.received.length, 0, 'no request reached the upstream');
});
