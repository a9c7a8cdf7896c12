import path from 'node:path';
import { ConfigError } from '../config/config-error.js';
import { loadConfig } from '../config/load-config.js';
import { loadCrypto } from '../crypto/load-crypto.js';
import type { CryptoSettings } from '../crypto/settings.js';
import type { Logger } from '../monitoring/logger.js';
import type { GatewayMetrics } from '../monitoring/metrics.js';
import type { CryptoRuntime, CryptoState } from './crypto-runtime.js';
import type { ReloadOutcome } from './policy-reloader.js';
import { ReloadScheduler } from './reload-scheduler.js';

export interface CryptoReloaderOptions {
  readonly configFile: string;
  readonly env: NodeJS.ProcessEnv;
  readonly runtime: CryptoRuntime;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
}

/**
 * Reloads the `crypto` section of the configuration file with its keys and caller tokens, on
 * SIGHUP, on `POST /admin/reload`, and when a file changes in the folder of the configuration
 * or of a key or token file. The new key set is loaded and checked completely, then replaces the
 * running one in one step. When anything is wrong, the running keys stay and the problem is
 * logged, never with key bytes. Other sections of the file are read and validated but not applied.
 */
export class CryptoReloader {
  readonly #options: CryptoReloaderOptions;
  readonly #scheduler: ReloadScheduler<ReloadOutcome>;

  constructor(options: CryptoReloaderOptions) {
    this.#options = options;
    this.#scheduler = new ReloadScheduler(
      (trigger) => this.#reloadOnce(trigger),
      (error, dir) => options.log.warn({ err: error, dir }, 'crypto key watch failed'),
    );
  }

  /** Watches the folders of the configuration file and of every key and token file. */
  watch(): void {
    const dirs = this.#watchedDirs(this.#options.runtime.state.settings);
    for (const dir of dirs) this.#scheduler.watch(dir);
    this.#scheduler.unwatchOthers(dirs);
  }

  close(): void {
    this.#scheduler.close();
  }

  /** Reloads now, or once more after a reload already running; resolves with the outcome. */
  reload(trigger: string): Promise<ReloadOutcome> {
    return this.#scheduler.reload(trigger);
  }

  async #reloadOnce(trigger: string): Promise<ReloadOutcome> {
    const { runtime, log, metrics } = this.#options;
    let state: CryptoState;
    try {
      state = await this.#load();
    } catch (error) {
      // Whatever went wrong, a reload must never take the running keys away.
      const problems =
        error instanceof ConfigError
          ? error.issues.map((issue) => ({ ...issue }))
          : [{ file: this.#options.configFile, path: 'crypto', message: messageOf(error) }];
      for (const problem of problems) {
        log.error({ ...problem, trigger }, 'crypto key reload rejected; the running keys stay');
      }
      metrics.cryptoKeys.reloads.inc({ outcome: 'rejected', trigger });
      return 'rejected';
    }
    const running = runtime.state;
    if (state.fingerprint === running.fingerprint) {
      metrics.cryptoKeys.reloads.inc({ outcome: 'unchanged', trigger });
      return 'unchanged';
    }
    if (JSON.stringify(state.settings.socket) !== JSON.stringify(running.settings.socket)) {
      log.warn({ trigger }, 'crypto.socket changed; restart the gateway to apply it');
    }
    runtime.apply(state);
    if (this.#scheduler.watching) this.watch();
    log.info(
      { trigger, encrypt_version: state.service.encryptVersion, keys: state.service.keys() },
      'crypto keys reloaded',
    );
    metrics.cryptoKeys.reloads.inc({ outcome: 'applied', trigger });
    return 'applied';
  }

  /** Reads the configuration, keys and tokens and builds a complete state; raises when invalid. */
  async #load(): Promise<CryptoState> {
    const { configFile, env, runtime } = this.#options;
    const { config } = await loadConfig(configFile, env);
    if (!config.crypto.enabled) {
      throw new ConfigError([
        {
          file: configFile,
          line: 0,
          column: 0,
          path: 'crypto.enabled',
          message: 'is false; turning the API off needs a restart',
        },
      ]);
    }
    const loaded = await loadCrypto(config.crypto, configFile, env);
    return runtime.build(loaded!);
  }

  #watchedDirs(settings: CryptoSettings): Set<string> {
    const baseDir = path.resolve(path.dirname(this.#options.configFile));
    const files = [
      ...settings.keys.map((key) => key.file),
      ...settings.callers.map((caller) => caller.token_file),
    ].filter((file) => file !== undefined);
    return new Set([baseDir, ...files.map((file) => path.dirname(path.resolve(baseDir, file)))]);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
