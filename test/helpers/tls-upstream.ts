import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ReceivedRequest, TestUpstream } from './upstream.js';
import { echo, PROBE_PATH } from './upstream.js';

export interface TlsReceivedRequest extends ReceivedRequest {
  /** SNI name the gateway sent; false or null without one. */
  servername: string | false | null;
  /** Subject CN of the gateway's client certificate, when it sent one. */
  clientCertCn: string | string[] | undefined;
}

export interface TestTlsUpstream extends Omit<TestUpstream, 'received'> {
  received: TlsReceivedRequest[];
}

/**
 * Starts an HTTPS server on a free loopback port that records each request, with its SNI name
 * and client certificate, and responds with `handler` once the body has arrived. It responds
 * to the readiness probe without recording it. `tls` contains the server's certificate and
 * key and, for mutual TLS, `ca` and `requestCert`.
 */
export async function startTlsUpstream(
  tls: ServerOptions,
  handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void = echo,
): Promise<TestTlsUpstream> {
  const received: TlsReceivedRequest[] = [];
  const server = createServer(tls, (req, res) => {
    if (req.url === PROBE_PATH) {
      res.end();
      return;
    }
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate();
    const record: TlsReceivedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: Buffer.alloc(0),
      servername: socket.servername,
      clientCertCn: peer.subject?.CN,
    };
    received.push(record);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      record.body = Buffer.concat(chunks);
      handler(req, res, record.body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    server,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
