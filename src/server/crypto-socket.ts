import { once } from 'node:events';
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { renderProblem } from '../errors/problem.js';
import { handleCryptoRequest, type CryptoApi } from './crypto-api.js';

/** Longest Unix socket path on Linux: `sun_path` has 108 bytes, one for the final NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

/**
 * The encryption API on a Unix domain socket, for callers on the same host only. It serves the
 * same paths with the same caller tokens as the admin listener, and nothing else.
 */
export class CryptoSocket {
  readonly path: string;
  readonly #mode: number;
  readonly #server: Server;
  /** Inode of the socket file this process created, so that stop removes only that file. */
  #inode: number | undefined;

  /** `mode` is the permission bits of the socket file, such as 0o600. */
  constructor(socketPath: string, mode: number, api: CryptoApi) {
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
      throw new RangeError(
        `crypto.socket.path ${socketPath} has ${Buffer.byteLength(socketPath)} bytes; ` +
          `Unix sockets allow at most ${MAX_SOCKET_PATH_BYTES}: choose a shorter path`,
      );
    }
    this.path = socketPath;
    this.#mode = mode;
    this.#server = createServer((request, response) => {
      if (handleCryptoRequest(request, response, api)) return;
      const problem = renderProblem(
        'route_not_found',
        randomUUID(),
        'this socket serves /v1/crypto/ only',
      );
      response.writeHead(problem.status, problem.headers);
      response.end(problem.body);
      request.resume();
    });
  }

  /**
   * Removes a stale socket file left by a process that ended without cleaning up, then listens
   * with permission bits `mode`. Raises when the path is a file that is not a socket, or when
   * another process still accepts connections on it.
   */
  async listen(): Promise<void> {
    await removeStaleSocket(this.path);
    // The umask applies while listen() creates the file, so it is never wider than `mode`, even
    // for the moment before chmod. listen() binds synchronously in the primary process.
    const previous = process.umask(0o777 & ~this.#mode);
    try {
      this.#server.listen(this.path);
    } finally {
      process.umask(previous);
    }
    await once(this.#server, 'listening');
    await chmod(this.path, this.#mode);
    this.#inode = (await lstat(this.path)).ino;
  }

  /** Stops listening, cuts open connections and removes the socket file. */
  async close(): Promise<void> {
    if (!this.#server.listening) return;
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
    // libuv removes the file on close; this removes it if it did not, and only if it is ours.
    const inode = await lstat(this.path).then(
      (info) => info.ino,
      () => undefined,
    );
    if (inode !== undefined && inode === this.#inode)
      await unlink(this.path).catch(() => undefined);
  }
}

/** Removes `file` when it is a socket that no process listens on; raises for anything else. */
async function removeStaleSocket(file: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(file)).isSocket();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!isSocket) {
    throw new Error(
      `crypto.socket.path ${file} exists and is not a socket: remove it or choose another path`,
    );
  }
  const refusal = await connectionError(file);
  if (refusal === undefined) {
    throw new Error(`crypto.socket.path ${file} is in use by another process`);
  }
  if (refusal !== 'ECONNREFUSED') {
    throw new Error(
      `crypto.socket.path ${file} cannot be checked: connecting failed with ${refusal}`,
    );
  }
  await unlink(file);
}

/** Connects to a socket file; returns the error code, or undefined when a process accepted. */
function connectionError(file: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect(file);
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code ?? 'an unknown error'),
    );
  });
}
