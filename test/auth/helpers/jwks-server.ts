import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Server behavior: serve the keys, fail with HTTP 500, never respond, or send a body over 64 KiB. */
export type JwksServerMode = 'ok' | 'error' | 'hang' | 'oversized';

/** A JWKS endpoint on 127.0.0.1 that the tests control and whose requests they count. */
export interface JwksServer {
  readonly url: string;
  /** Requests received so far, whatever the mode. */
  readonly fetches: number;
  document: unknown;
  mode: JwksServerMode;
  /** Delay before each response, in milliseconds, so that concurrent lookups overlap. */
  delayMs: number;
  close(): Promise<void>;
}

/** Starts a JWKS server on a free loopback port, serving `document` at `/jwks`. */
export async function startJwksServer(document: unknown): Promise<JwksServer> {
  const control = {
    document,
    mode: 'ok' as JwksServerMode,
    delayMs: 0,
    fetches: 0,
    url: '',
    close: async () => {},
  };
  const server = createServer((_req, res) => {
    control.fetches += 1;
    if (control.mode === 'hang') return;
    const answer = () => {
      if (res.destroyed) return;
      if (control.mode === 'error') {
        res.writeHead(500).end('unavailable');
        return;
      }
      const body =
        control.mode === 'oversized'
          ? JSON.stringify({ keys: [], padding: 'x'.repeat(200_000) })
          : JSON.stringify(control.document);
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(body);
    };
    if (control.delayMs > 0) setTimeout(answer, control.delayMs);
    else answer();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  control.url = `http://127.0.0.1:${port}/jwks`;
  control.close = async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  };
  return control;
}
