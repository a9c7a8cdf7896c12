import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Signatures older or newer than this are rejected, as docs/alerts.md advises receivers. */
const TOLERANCE_SECONDS = 300;

export interface ReceivedDelivery {
  readonly id: string | undefined;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  readonly body: string;
  /** Whether the signature and the timestamp checked out. */
  readonly valid: boolean;
  readonly json: Record<string, unknown>;
}

export interface WebhookReceiver {
  readonly url: string;
  /** Every request received, valid or not, in arrival order. */
  readonly deliveries: ReceivedDelivery[];
  /** Status of the next responses; 204 unless set. */
  status: number;
  /** Closes the listener and every connection, so that attempts are refused. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a webhook receiver on loopback that verifies each request as docs/alerts.md describes: the
 * timestamp within five minutes, then HMAC-SHA256 over `timestamp + "." + body`, compared in
 * constant time. It is written apart from the gateway's signing code, so that a test of the
 * two together checks the documented format. Invalid requests get 401.
 */
export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const deliveries: ReceivedDelivery[] = [];
  let server: Server;
  let port = 0;
  const receiver = {
    url: '',
    deliveries,
    status: 204,
    async down() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
    async up() {
      server = listen();
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
    },
    async close() {
      if (server.listening) await receiver.down();
    },
  };
  const listen = () =>
    createServer((request, response) => {
      void readBody(request).then((body) => {
        const timestamp = header(request, 'x-agentflow-timestamp');
        const signature = header(request, 'x-agentflow-signature');
        const valid = verify(secret, timestamp, signature, body);
        deliveries.push({
          id: header(request, 'x-agentflow-delivery'),
          timestamp,
          signature,
          body,
          valid,
          json: JSON.parse(body) as Record<string, unknown>,
        });
        response.writeHead(valid ? receiver.status : 401).end();
      });
    });
  server = listen();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${port}/hook`;
  return receiver;
}

function verify(
  secret: string,
  timestamp: string | undefined,
  signature: string | undefined,
  body: string,
): boolean {
  if (timestamp === undefined || signature === undefined) return false;
  const age = Math.abs(Date.now() / 1000 - Number(timestamp));
  if (!Number.isFinite(age) || age > TOLERANCE_SECONDS) return false;
  const expected = Buffer.from(
    'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex'),
  );
  const presented = Buffer.from(signature);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
