import { realpathSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { CORPUS } from './corpus.js';
import { logError, logLine } from './log.js';
import { DocumentStore } from './retrieval.js';
import { createRequestListener } from './router.js';
import { DEFAULT_UPLOAD_COLLECTION } from './upload.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8000;
export const DEFAULT_STREAM_DELAY_MS = 20;

export interface RagBackendOptions {
  /** Address to bind. Defaults to 127.0.0.1. */
  host?: string;
  /** TCP port to bind. Defaults to 0, which picks a free port. */
  port?: number;
  /** Pause between two streamed events, in milliseconds. Defaults to 20. */
  streamDelayMs?: number;
  /**
   * Test switch: lets a query's `leak` field append a planted token, a card number or the
   * system prompt to its answer (see leak.ts), so that tests can show what the gateway stops.
   * Off by default, and then a `leak` field gets 400.
   */
  leakTestData?: boolean;
}

export interface RagBackend {
  url: string;
  port: number;
  /** Stops listening and cuts open connections, including streams in progress. */
  close(): Promise<void>;
}

function formatUrl(host: string, port: number): string {
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error === undefined ? resolve() : reject(error)));
    // Without this, close() waits for every stream in progress to send its last event.
    server.closeAllConnections();
  });
}

/**
 * Starts the sample RAG backend with its own in-memory copy of the corpus, so that documents
 * uploaded to one instance are not visible in another.
 */
export async function startRagBackend(options: RagBackendOptions = {}): Promise<RagBackend> {
  const host = options.host ?? DEFAULT_HOST;
  const streamDelayMs = options.streamDelayMs ?? DEFAULT_STREAM_DELAY_MS;
  if (!Number.isFinite(streamDelayMs) || streamDelayMs < 0) {
    throw new RangeError(`streamDelayMs must be a non-negative number, got ${streamDelayMs}`);
  }

  const store = new DocumentStore(CORPUS);
  store.createCollection(DEFAULT_UPLOAD_COLLECTION);

  // noDelay turns off Nagle's algorithm, which would otherwise hold back small SSE events.
  const leakTestData = options.leakTestData ?? false;
  const server = createServer(
    { noDelay: true },
    createRequestListener({ store, streamDelayMs, leakTestData }),
  );
  await listen(server, options.port ?? 0, host);

  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: formatUrl(host, port),
    port,
    close: () => (closing ??= closeServer(server)),
  };
}

const USAGE = `Usage: node dist/examples/rag-backend/server.js [--port N]

Options:
  --port N    TCP port to listen on (default: RAG_BACKEND_PORT or ${DEFAULT_PORT})
  -h, --help  Print this help

Environment:
  RAG_BACKEND_PORT              TCP port, used when --port is absent
  RAG_BACKEND_STREAM_DELAY_MS   Pause between streamed events, in milliseconds (default ${DEFAULT_STREAM_DELAY_MS})
  RAG_BACKEND_LEAK_TEST_DATA    1 lets queries ask for planted leaks with "leak" (testing only; default 0)
`;

class UsageError extends Error {}

function parseInteger(value: string, name: string, max: number): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed > max) {
    throw new UsageError(`${name} must be an integer from 0 to ${max}, got "${value}"`);
  }
  return parsed;
}

function parseSwitch(value: string, name: string): boolean {
  if (value !== '0' && value !== '1') {
    throw new UsageError(`${name} must be 0 or 1, got "${value}"`);
  }
  return value === '1';
}

async function runStandalone(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return;
  }

  const port =
    values.port !== undefined
      ? parseInteger(values.port, '--port', 65535)
      : parseInteger(
          process.env.RAG_BACKEND_PORT ?? String(DEFAULT_PORT),
          'RAG_BACKEND_PORT',
          65535,
        );
  const delay = process.env.RAG_BACKEND_STREAM_DELAY_MS;
  const streamDelayMs =
    delay === undefined
      ? DEFAULT_STREAM_DELAY_MS
      : parseInteger(delay, 'RAG_BACKEND_STREAM_DELAY_MS', 60_000);

  const leakTestData = parseSwitch(
    process.env.RAG_BACKEND_LEAK_TEST_DATA ?? '0',
    'RAG_BACKEND_LEAK_TEST_DATA',
  );

  const backend = await startRagBackend({ host: DEFAULT_HOST, port, streamDelayMs, leakTestData });
  logLine(process.stdout, { msg: 'rag backend listening', url: backend.url });
  if (leakTestData) {
    logLine(process.stdout, {
      level: 'warn',
      msg: 'leak test data is on: queries may ask for a planted token, card and system prompt',
    });
  }

  const shutdown = (signal: NodeJS.Signals): void => {
    backend.close().then(
      () => logLine(process.stdout, { msg: 'rag backend stopped', signal }),
      (error: unknown) => {
        logError('rag backend failed to close', error, { signal });
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

/** Tells whether this module is the process entry point rather than an import. */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) {
    return false;
  }
  try {
    // import.meta.url contains the resolved path, so a symlinked entry must be resolved too.
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

/** Tells whether an error comes from bad command-line input, as opposed to a failed start. */
function isUsageError(error: unknown): error is Error {
  if (error instanceof UsageError) {
    return true;
  }
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

if (isEntryPoint()) {
  runStandalone().catch((error: unknown) => {
    if (isUsageError(error)) {
      process.stderr.write(`${error.message}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    logError('rag backend failed to start', error);
    process.exitCode = 1;
  });
}
