import { realpathSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { CORPUS } from './corpus.js';
import { CryptoClient, type CryptoClientOptions } from './crypto-client.js';
import { DocumentVault } from './document-vault.js';
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
  /**
   * The gateway's encryption API. With it, uploaded documents are stored encrypted under their
   * owner's context; without it, they are stored in base64.
   */
  crypto?: CryptoClientOptions;
  /**
   * Folder for uploaded documents, which must exist. Defaults to a new temporary folder that
   * close() removes.
   */
  storageDir?: string;
}

export interface RagBackend {
  url: string;
  port: number;
  /** The folder the uploaded documents are stored in, one JSON file each. */
  storageDir: string;
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
  const crypto = options.crypto === undefined ? undefined : new CryptoClient(options.crypto);
  const temporaryDir =
    options.storageDir === undefined
      ? await mkdtemp(path.join(tmpdir(), 'rag-backend-documents-'))
      : undefined;
  const storageDir = options.storageDir ?? temporaryDir!;
  const vault = new DocumentVault(storageDir, crypto);

  // noDelay turns off Nagle's algorithm, which would otherwise hold back small SSE events.
  const leakTestData = options.leakTestData ?? false;
  const server = createServer(
    { noDelay: true },
    createRequestListener({ store, vault, streamDelayMs, leakTestData }),
  );
  try {
    await listen(server, options.port ?? 0, host);
  } catch (error) {
    if (temporaryDir !== undefined) await rm(temporaryDir, { recursive: true, force: true });
    throw error;
  }

  const { port } = server.address() as AddressInfo;
  const close = async (): Promise<void> => {
    await closeServer(server);
    if (temporaryDir !== undefined) await rm(temporaryDir, { recursive: true, force: true });
  };
  let closing: Promise<void> | undefined;
  return {
    url: formatUrl(host, port),
    port,
    storageDir,
    close: () => (closing ??= close()),
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
  RAG_BACKEND_CRYPTO_URL        The gateway's encryption API: http://HOST:PORT of its admin
                                listener or unix:/PATH of its crypto socket. Uploaded documents
                                are then stored encrypted; without it, in base64
  RAG_BACKEND_CRYPTO_TOKEN_FILE File with this backend's caller token for the encryption API
  RAG_BACKEND_CRYPTO_TOKEN      The caller token itself, when no token file is given
  RAG_BACKEND_STORAGE_DIR       Existing folder for uploaded documents (default: a temporary
                                folder, removed at stop)
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

  const crypto = await cryptoFromEnvironment(process.env);
  const backend = await startRagBackend({
    host: DEFAULT_HOST,
    port,
    streamDelayMs,
    leakTestData,
    crypto,
    storageDir: process.env.RAG_BACKEND_STORAGE_DIR,
  });
  logLine(process.stdout, {
    msg: 'rag backend listening',
    url: backend.url,
    storage_dir: backend.storageDir,
    crypto_url: crypto?.url,
  });
  if (crypto === undefined) {
    logLine(process.stdout, {
      level: 'warn',
      msg: 'RAG_BACKEND_CRYPTO_URL is not set: uploaded documents are stored unencrypted',
    });
  }
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

/** Reads the encryption API's address and token from the environment; undefined without a URL. */
async function cryptoFromEnvironment(
  env: NodeJS.ProcessEnv,
): Promise<CryptoClientOptions | undefined> {
  const url = env.RAG_BACKEND_CRYPTO_URL;
  if (url === undefined || url === '') return undefined;
  const tokenFile = env.RAG_BACKEND_CRYPTO_TOKEN_FILE;
  let token = env.RAG_BACKEND_CRYPTO_TOKEN ?? '';
  if (tokenFile !== undefined && tokenFile !== '') {
    try {
      token = await readFile(tokenFile, 'utf8');
    } catch (error) {
      throw new UsageError(
        `RAG_BACKEND_CRYPTO_TOKEN_FILE ${tokenFile} cannot be read: ${(error as Error).message}`,
      );
    }
  }
  token = token.trim();
  if (token === '') {
    throw new UsageError(
      'RAG_BACKEND_CRYPTO_URL needs a caller token: ' +
        'set RAG_BACKEND_CRYPTO_TOKEN_FILE or RAG_BACKEND_CRYPTO_TOKEN',
    );
  }
  return { url, token };
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
