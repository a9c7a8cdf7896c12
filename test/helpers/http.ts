import { connect } from 'node:net';

/**
 * Sends bytes exactly as given over a new TCP connection and returns everything the server
 * writes until it closes the connection or `timeoutMs` passes. For requests that HTTP clients
 * refuse to send, such as malformed paths.
 */
export function rawRequest(url: string, text: string, timeoutMs = 5_000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(text);
  });
}

/** Parses the status line and the JSON body of a raw HTTP/1.1 response. */
export function parseRawResponse(text: string): { status: number; body: unknown; head: string } {
  const [head = '', body = ''] = text.split('\r\n\r\n', 2);
  const status = Number(head.split(' ')[1]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = body;
  }
  return { status, body: parsed, head };
}
