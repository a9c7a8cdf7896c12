import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Test } from 'tap';

/** Debian's Chromium package, which .ci/run installs when it is missing. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags for headless Chromium run as root on a machine without network. Chromium's sandbox fails
 * to start as root, hence `--no-sandbox`. The rest turn off the GPU, QUIC, the first-run setup,
 * and the background connections for updates and sync, which would fail without a network.
 * playwright-core 1.65 passes most of these itself; listing them keeps them if it stops.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const LAUNCH_TIMEOUT_MS = 30_000;

/** Returns the `skip` option for tests that need Chromium: false, or why they are skipped. */
export function chromiumSkip(): { skip: false | string } {
  if (existsSync(CHROMIUM_PATH)) return { skip: false };
  return { skip: `${CHROMIUM_PATH} not found; install it with: apt-get install -y chromium` };
}

/**
 * Launches headless Chromium with a new temporary profile, which playwright-core creates and
 * removes, and registers its close as a teardown of `t`.
 */
export async function launchChromium(t: Test): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS],
    timeout: LAUNCH_TIMEOUT_MS,
  });
  t.teardown(() => browser.close());
  return browser;
}

/** An HTTP server on 127.0.0.1 that serves one HTML page, so that a page has that origin. */
export interface PageServer {
  /** `http://127.0.0.1:PORT`, as the browser sends it in `Origin`. */
  readonly origin: string;
}

/**
 * Starts a server on a free loopback port that responds to `GET /` with `html` and to anything
 * else with 404, and registers its close as a teardown of `t`.
 */
export async function startPageServer(t: Test, html: string): Promise<PageServer> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
      return;
    }
    res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { origin: `http://127.0.0.1:${port}` };
}

/** A response as the browser received it before CORS filtering, with header names in lower case. */
export interface ObservedResponse {
  status: number;
  headers: Record<string, string>;
}

/**
 * Requests of a page as Chromium's DevTools protocol reports them, including the CORS
 * preflights that the page's scripts never see.
 */
export interface NetworkLog {
  /** Request headers of each CORS preflight sent, names in lower case. */
  preflightRequests: Record<string, string>[];
  preflightResponses: ObservedResponse[];
  /** Responses to `fetch()` calls, with the headers the page may not be allowed to read. */
  fetchResponses: ObservedResponse[];
  /**
   * Chromium's reason for each request that failed its CORS checks, such as
   * `PreflightMissingAllowOriginHeader`.
   */
  corsErrors: string[];
}

/** Starts recording the network events of `page`. Call it before the page loads. */
export async function recordNetwork(page: Page): Promise<NetworkLog> {
  const log: NetworkLog = {
    preflightRequests: [],
    preflightResponses: [],
    fetchResponses: [],
    corsErrors: [],
  };
  const session = await page.context().newCDPSession(page);
  session.on('Network.requestWillBeSent', (event) => {
    if (event.initiator.type === 'preflight') {
      log.preflightRequests.push(lowerCaseNames(event.request.headers));
    }
  });
  session.on('Network.responseReceived', (event) => {
    const observed = {
      status: event.response.status,
      headers: lowerCaseNames(event.response.headers),
    };
    if (event.type === 'Preflight') log.preflightResponses.push(observed);
    if (event.type === 'Fetch') log.fetchResponses.push(observed);
  });
  session.on('Network.loadingFailed', (event) => {
    if (event.corsErrorStatus !== undefined) log.corsErrors.push(event.corsErrorStatus.corsError);
  });
  await session.send('Network.enable');
  return log;
}

function lowerCaseNames(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
}
