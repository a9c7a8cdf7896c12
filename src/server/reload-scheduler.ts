import { existsSync, watch, type FSWatcher } from 'node:fs';

/** Quiet time after the last file event before a reload starts; editors write in bursts. */
const DEBOUNCE_MS = 200;

/** The trigger a file event passes to the reload. */
export const FILE_CHANGE_TRIGGER = 'file_change';

/**
 * Runs a reload when asked, or once file events in watched folders have been quiet for 200 ms.
 * Reloads never overlap: one requested during another runs after it. Folders are watched, not
 * files, because Kubernetes updates a mounted ConfigMap or Secret by swapping a symlink, which
 * replaces every file at once.
 */
export class ReloadScheduler<Outcome> {
  readonly #run: (trigger: string) => Promise<Outcome>;
  readonly #onWatchError: (error: unknown, dir: string) => void;
  readonly #watchers = new Map<string, FSWatcher>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<Outcome> | undefined;
  #closed = false;

  /** `run` performs one reload; `onWatchError` reports a folder that cannot be watched. */
  constructor(
    run: (trigger: string) => Promise<Outcome>,
    onWatchError: (error: unknown, dir: string) => void,
  ) {
    this.#run = run;
    this.#onWatchError = onWatchError;
  }

  /** Whether any folder is watched. */
  get watching(): boolean {
    return this.#watchers.size > 0;
  }

  /**
   * Watches `dir` unless it is watched already. A folder that is not `required` is skipped when
   * it does not exist; a folder created later is picked up at the next `watch`.
   */
  watch(dir: string, required = true): void {
    if (this.#closed || this.#watchers.has(dir)) return;
    if (!required && !existsSync(dir)) return;
    try {
      const watcher = watch(dir, () => this.#schedule());
      watcher.on('error', (error) => this.#onWatchError(error, dir));
      this.#watchers.set(dir, watcher);
    } catch (error) {
      this.#onWatchError(error, dir);
    }
  }

  /** Stops watching every folder not in `keep`. */
  unwatchOthers(keep: ReadonlySet<string>): void {
    for (const [dir, watcher] of this.#watchers) {
      if (keep.has(dir)) continue;
      watcher.close();
      this.#watchers.delete(dir);
    }
  }

  /** Reloads now, or once more after a reload already running; resolves with the outcome. */
  reload(trigger: string): Promise<Outcome> {
    if (this.#running !== undefined) {
      return this.#running.then(() => this.reload(trigger));
    }
    this.#running = this.#run(trigger).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.reload(FILE_CHANGE_TRIGGER), DEBOUNCE_MS);
    this.#timer.unref();
  }
}
