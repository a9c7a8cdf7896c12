import type { PeerCertificate } from 'node:tls';
import { connect, type ConnectionOptions } from 'node:tls';
import { request } from 'node:https';

const DEFAULT_TIMEOUT_MS = 5_000;

export interface HttpsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Sends one request over a new TLS connection, without connection reuse, so that every call
 * runs a full handshake. `tls` carries the client's CA, certificate and protocol options.
 * Rejects when the handshake or the request fails.
 */
export function httpsRequest(
  url: string,
  options: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
    tls?: ConnectionOptions;
    timeoutMs?: number;
  } = {},
): Promise<HttpsResponse> {
  const target = new URL(options.path ?? '/', url);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      target,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
        timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        ...options.tls,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error('request timed out')));
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

/**
 * Runs a TLS handshake with `url`'s host and port and returns the server's certificate and
 * the negotiated protocol. Rejects with the handshake error, such as
 * `ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION`.
 */
export function handshake(
  url: string,
  options: ConnectionOptions = {},
): Promise<{ certificate: PeerCertificate; protocol: string | null }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ...options }, () => {
      const result = { certificate: socket.getPeerCertificate(), protocol: socket.getProtocol() };
      socket.end();
      resolve(result);
    });
    socket.setTimeout(DEFAULT_TIMEOUT_MS, () => socket.destroy(new Error('handshake timed out')));
    socket.on('error', reject);
  });
}
