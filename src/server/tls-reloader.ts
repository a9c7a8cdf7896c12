import type { Server } from 'node:http';
import path from 'node:path';
import { Server as TlsServer } from 'node:tls';
import type { Logger } from '../monitoring/logger.js';
import { TlsFileError } from '../net/tls-files.js';
import { ReloadScheduler } from './reload-scheduler.js';
import {
  warnIfOutsideValidity,
  type ListenerTlsContext,
  type ListenerTlsSource,
  type LoadedListenerTls,
} from './tls-listener.js';

export type TlsReloadOutcome = 'applied' | 'unchanged' | 'rejected';

export interface TlsReloaderOptions {
  readonly source: ListenerTlsSource;
  /** The context the listener started with. */
  readonly initial: ListenerTlsContext;
  /** Swaps the listener's secure context. Connections already open keep the old one. */
  readonly apply: (context: ListenerTlsContext) => void;
  readonly log: Logger;
}

/**
 * Reloads a listener's certificate, key and client CAs when their files change. The folders
 * of the files are watched, not the files, because Kubernetes updates a mounted Secret by
 * swapping a symlink, which replaces every file at once. A new set of files replaces the
 * running one only when every file is valid and the key belongs to the certificate. Otherwise
 * the running certificate stays and the problem is logged with the file names.
 */
export class TlsReloader {
  readonly #options: TlsReloaderOptions;
  readonly #scheduler: ReloadScheduler<TlsReloadOutcome>;
  #digest: string;

  constructor(options: TlsReloaderOptions) {
    this.#options = options;
    this.#digest = options.initial.digest;
    this.#scheduler = new ReloadScheduler(
      () => this.#reloadOnce(),
      (error, dir) =>
        options.log.warn(
          { err: error, listener: options.source.listener, dir },
          'tls file watch failed',
        ),
    );
  }

  watch(): void {
    const { source } = this.#options;
    for (const dir of new Set(source.files.map((file) => path.dirname(file)))) {
      this.#scheduler.watch(dir);
    }
  }

  close(): void {
    this.#scheduler.close();
  }

  /** Reloads now, or after the reload already running. Resolves with the outcome. */
  reload(): Promise<TlsReloadOutcome> {
    return this.#scheduler.reload('reload');
  }

  async #reloadOnce(): Promise<TlsReloadOutcome> {
    const { source, log } = this.#options;
    let context: ListenerTlsContext;
    try {
      context = await source.load();
    } catch (error) {
      // Whatever went wrong, a reload must never take the running listener down.
      log.error(
        {
          listener: source.listener,
          files: source.files,
          path: error instanceof TlsFileError ? error.setting : source.settingPath,
          message: error instanceof Error ? error.message : String(error),
        },
        'tls certificate reload rejected; the running certificate stays',
      );
      return 'rejected';
    }
    if (context.digest === this.#digest) return 'unchanged';
    try {
      this.#options.apply(context);
    } catch (error) {
      log.error(
        { listener: source.listener, files: source.files, err: error },
        'tls certificate reload rejected; the running certificate stays',
      );
      return 'rejected';
    }
    this.#digest = context.digest;
    log.info(source.certificateFields(context), 'tls certificate reloaded');
    warnIfOutsideValidity(source, context, log);
    return 'applied';
  }
}

/** Creates a reloader that swaps the secure context of `server`, an HTTPS server. */
export function createTlsReloader(
  loaded: LoadedListenerTls,
  server: Server,
  log: Logger,
): TlsReloader {
  if (!(server instanceof TlsServer)) {
    throw new TypeError(`the ${loaded.source.listener} listener does not serve TLS`);
  }
  return new TlsReloader({
    source: loaded.source,
    initial: loaded.context,
    apply: (context) => server.setSecureContext(context.options),
    log,
  });
}
