import path from 'node:path';
import type { Counter } from 'prom-client';
import { ConfigError } from '../config/config-error.js';
import type { Logger } from '../monitoring/logger.js';
import { RULE_SETS_FOLDER } from '../policy/rule-sets.js';
import type { PolicySnapshot } from '../policy/snapshot.js';
import { ReloadScheduler } from './reload-scheduler.js';

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
  readonly #scheduler: ReloadScheduler<ReloadOutcome>;

  constructor(options: PolicyReloaderOptions) {
    this.#options = options;
    this.#reloads = options.reloads;
    this.#scheduler = new ReloadScheduler(
      (trigger) => this.#reloadOnce(trigger),
      (error, dir) => options.log.warn({ err: error, dir }, 'policy watch failed'),
    );
  }

  /** Watches the policy folder, whose files a change may add, remove or replace. */
  watch(): void {
    this.#scheduler.watch(this.#options.dir);
    // Rule sets live one level down; a folder created later is picked up at the next reload.
    this.#scheduler.watch(path.join(this.#options.dir, RULE_SETS_FOLDER), false);
  }

  close(): void {
    this.#scheduler.close();
  }

  /** Reloads now, or once more after a reload already running; resolves with the outcome. */
  reload(trigger: string): Promise<ReloadOutcome> {
    return this.#scheduler.reload(trigger);
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
    if (this.#scheduler.watching) this.watch();
    log.info({ trigger, hash: snapshot.hash, routes: snapshot.routes.length }, 'policy reloaded');
    this.#reloads.inc({ outcome: 'applied', trigger });
    return 'applied';
  }
}
