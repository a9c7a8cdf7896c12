import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  body: Buffer;
}

export interface TestUpstream {
  url: string;
  server: Server;
  /** Requests whose handler ran, in arrival order; readiness probes are not recorded. */
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/** The readiness probe path test gateways use; the test upstream answers it without recording. */
export const PROBE_PATH = '/__probe';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** The default handler echoes what arrived as JSON. */
export const echo: Handler = (req, res, body) => {
  const text = JSON.stringify({
    method: req.method,
    url: req.url,
    headers: req.headers,
    bytes: body.length,
  });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(text);
};

/**
 * Starts an HTTP server on a free loopback port that records each request and answers with
 * `handler`. With `streamBody`, the handler is called before the body is read.
 */
export async function startUpstream(
  handler: Handler = echo,
  options: { streamBody?: boolean } = {},
): Promise<TestUpstream> {
  const received: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    if (req.url === PROBE_PATH) {
      res.end();
      return;
    }
    const record: ReceivedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: Buffer.alloc(0),
    };
    received.push(record);
    if (options.streamBody) {
      handler(req, res, record.body);
      return;
    }
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
    url: `http://127.0.0.1:${port}`,
    server,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
