import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Test } from 'tap';
import { startGateway, type TestGateway } from './gateway.js';
import { echo, startUpstream, type TestUpstream } from './upstream.js';

const POLL_MS = 10;
const DEFAULT_WAIT_MS = 5_000;

export type UpstreamHandler = Parameters<typeof startUpstream>[0];

/**
 * Starts a recording upstream and a gateway in front of it, and registers one teardown that
 * stops the gateway first and the upstream after it.
 */
export async function startProxy(
  t: Test,
  options: {
    handler?: UpstreamHandler;
    streamBody?: boolean;
    config?: string;
    policy?: string;
    env?: NodeJS.ProcessEnv;
    policyFiles?: Record<string, string>;
  } = {},
): Promise<{ upstream: TestUpstream; gw: TestGateway }> {
  const upstream = await startUpstream(options.handler ?? echo, {
    streamBody: options.streamBody ?? false,
  });
  let gw: TestGateway;
  try {
    gw = await startGateway({
      upstreamUrl: upstream.url,
      config: options.config,
      policy: options.policy,
      env: options.env,
      policyFiles: options.policyFiles,
    });
  } catch (error) {
    await upstream.close();
    throw error;
  }
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  return { upstream, gw };
}

/**
 * Polls `read` until it returns something other than undefined or false, and returns that.
 * Throws when `timeoutMs` passes first, with `description` in the message.
 */
export async function waitFor<T>(
  read: () => T | undefined | false,
  description: string,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    await sleep(POLL_MS);
  }
}

/** Waits for the access log line of the request with `requestId` and returns it. */
export function accessLine(gw: TestGateway, requestId: string): Promise<Record<string, unknown>> {
  return waitFor(
    () =>
      gw.logs.find(
        (line) => line['msg'] === 'request completed' && line['request_id'] === requestId,
      ),
    `the access log line of request ${requestId}`,
  );
}

/** Waits for the first access log line whose route is `route` and returns it. */
export function accessLineOfRoute(
  gw: TestGateway,
  route: string,
): Promise<Record<string, unknown>> {
  return waitFor(
    () => gw.logs.find((line) => line['msg'] === 'request completed' && line['route'] === route),
    `an access log line of route ${route}`,
  );
}

/**
 * Parses the header lines of a raw HTTP/1.1 response head into lower-case names and every value
 * received for each, in order. The status line is skipped.
 */
export function parseHeaderLines(head: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, [...(headers.get(name) ?? []), value]);
  }
  return headers;
}

/** Returns every value of `name` (any case) in a Node `rawHeaders` list. */
export function rawHeaderValues(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (rawHeaders[index]!.toLowerCase() === name) values.push(rawHeaders[index + 1]!);
  }
  return values;
}

/**
 * Opens a TCP connection for writing a request in steps. `response` resolves with everything the
 * server wrote once it closes the connection, or after `timeoutMs`; `received` and
 * `receivedBytes` return what has arrived so far.
 */
export function openRawConnection(
  url: string,
  timeoutMs = DEFAULT_WAIT_MS,
): {
  socket: Socket;
  received: () => string;
  receivedBytes: () => Buffer;
  response: Promise<string>;
} {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.setTimeout(timeoutMs, () => socket.destroy());
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const response = new Promise<string>((resolve) => {
    // A reset still ends the exchange, and the test reads what arrived before it.
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
  return {
    socket,
    received: () => Buffer.concat(chunks).toString('latin1'),
    receivedBytes: () => Buffer.concat(chunks),
    response,
  };
}
