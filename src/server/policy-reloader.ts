import { existsSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Counter } from 'prom-client';
import { ConfigError } from '../config/config-error.js';
import type { Logger } from '../monitoring/logger.js';
import { RULE_SETS_FOLDER } from '../policy/rule-sets.js';
import type { PolicySnapshot } from '../policy/snapshot.js';

/** Quiet time after the last file event before a reload starts; editors write in bursts. */
const DEBOUNCE_MS = 200;

export type ReloadOutcome = 'applied' | 'unchanged' | 'rejected';

export interface PolicyReloaderOptions {
  readonly dir: string;
  /** Loads, validates and compiles every policy file; raises ConfigError when invalid. */
  readonly load: () => Promise<PolicySnapshot>;
  /** Swaps the active snapshot; requests in flight keep the one they started with. */
  readonly apply: (snapshot: PolicySnapshot) => void;
  readonly current: () => PolicySnapshot;
  readonly log: Logger;
  /** Counts reloads by `outcome` and `trigger`. */
  readonly reloads: Counter<'outcome' | 'trigger'>;
}

/**
 * Reloads the policy files on request: a file change in the folder, SIGHUP, or the admin API.
 * A new snapshot replaces the old one only when every file is valid. Otherwise the running
 * policy stays, and each problem is logged with file, line and column. Reloads never overlap:
 * one requested during another runs after it.
 */
export class PolicyReloader {
  readonly #options: PolicyReloaderOptions;
  readonly #reloads: Counter<'outcome' | 'trigger'>;
  readonly #watchers = new Map<string, FSWatcher>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<ReloadOutcome> | undefined;

  constructor(options: PolicyReloaderOptions) {
    this.#options = options;
    this.#reloads = options.reloads;
  }

  /**
   * Watches the policy folder. The folder itself is watched, not each file, because Kubernetes
   * updates a mounted ConfigMap by swapping a symlink, which replaces every file at once.
   */
  watch(): void {
    this.#watchDir(this.#options.dir, true);
    // Rule sets live one level down; a folder created later is picked up at the next reload.
    this.#watchDir(path.join(this.#options.dir, RULE_SETS_FOLDER), false);
  }

  #watchDir(dir: string, required: boolean): void {
    if (this.#watchers.has(dir)) return;
    if (!required && !existsSync(dir)) return;
    try {
      const watcher = watch(dir, () => this.#schedule());
      watcher.on('error', (error) => {
        this.#options.log.warn({ err: error, dir }, 'policy watch failed');
      });
      this.#watchers.set(dir, watcher);
    } catch (error) {
      this.#options.log.warn({ err: error, dir }, 'policy watch failed');
    }
  }

  close(): void {
    clearTimeout(this.#timer);
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
  }

  /** Reloads now, or once more after a reload already running; resolves with the outcome. */
  reload(trigger: string): Promise<ReloadOutcome> {
    if (this.#running !== undefined) {
      return this.#running.then(() => this.reload(trigger));
    }
    this.#running = this.#reloadOnce(trigger).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.reload('file_change'), DEBOUNCE_MS);
    this.#timer.unref();
  }

  async #reloadOnce(trigger: string): Promise<ReloadOutcome> {
    const { log } = this.#options;
    let snapshot: PolicySnapshot;
    try {
      snapshot = await this.#options.load();
    } catch (error) {
      // Whatever went wrong, a reload must never take the running gateway down.
      const issues =
        error instanceof ConfigError
          ? error.issues
          : [{ file: this.#options.dir, line: 0, column: 0, path: '', message: String(error) }];
      for (const issue of issues) {
        log.error({ ...issue, trigger }, 'policy reload rejected; the running policy stays');
      }
      this.#reloads.inc({ outcome: 'rejected', trigger });
      return 'rejected';
    }
    if (snapshot.hash === this.#options.current().hash) {
      this.#reloads.inc({ outcome: 'unchanged', trigger });
      return 'unchanged';
    }
    this.#options.apply(snapshot);
    if (this.#watchers.size > 0) this.watch();
    log.info({ trigger, hash: snapshot.hash, routes: snapshot.routes.length }, 'policy reloaded');
    this.#reloads.inc({ outcome: 'applied', trigger });
    return 'applied';
  }
}
