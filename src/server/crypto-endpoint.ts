import path from 'node:path';
import { ConfigError } from '../config/config-error.js';
import type { LoadedCrypto } from '../crypto/load-crypto.js';
import type { Logger } from '../monitoring/logger.js';
import type { GatewayMetrics } from '../monitoring/metrics.js';
import { createCryptoApi, type CryptoApi } from './crypto-api.js';
import { CryptoReloader } from './crypto-reloader.js';
import { CryptoSocket } from './crypto-socket.js';
import type { ReloadOutcome } from './policy-reloader.js';

/**
 * Everything of the encryption API beside the admin listener's routes: its key sets, their
 * reloads, the rotation check, and the optional Unix socket.
 */
export class CryptoEndpoint {
  readonly api: CryptoApi;
  readonly socket: CryptoSocket | undefined;
  readonly #reloader: CryptoReloader;

  /**
   * Raises a ConfigError when the keys and settings do not fit, or the socket path is too long,
   * so that `serve` reports it as it reports other settings.
   */
  constructor(
    loaded: LoadedCrypto,
    options: {
      configFile: string;
      env: NodeJS.ProcessEnv;
      metrics: GatewayMetrics;
      log: Logger;
    },
  ) {
    const { configFile, env, metrics, log } = options;
    const socketSettings = loaded.settings.socket;
    try {
      this.api = createCryptoApi(loaded, metrics, log);
      this.socket =
        socketSettings === undefined
          ? undefined
          : new CryptoSocket(
              path.resolve(path.dirname(configFile), socketSettings.path),
              Number.parseInt(socketSettings.mode, 8),
              this.api,
            );
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new ConfigError([
        { file: configFile, line: 0, column: 0, path: 'crypto', message: error.message },
      ]);
    }
    this.#reloader = new CryptoReloader({
      configFile,
      env,
      runtime: this.api.runtime,
      metrics,
      log,
    });
  }

  /** Opens the socket, if any, then starts watching key files and checking the rotation period. */
  async listen(): Promise<void> {
    if (this.socket !== undefined) {
      await this.socket.listen();
      this.api.log.info({ path: this.socket.path }, 'crypto api listening on a unix socket');
    }
    this.#reloader.watch();
    this.api.runtime.start();
  }

  reload(trigger: string): Promise<ReloadOutcome> {
    return this.#reloader.reload(trigger);
  }

  /** Stops watching and closes the socket, cutting its open connections. */
  async close(): Promise<void> {
    this.#reloader.close();
    this.api.runtime.stop();
    await this.socket?.close();
  }
}
