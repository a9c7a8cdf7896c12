import type { Logger } from '../../monitoring/logger.js';
import type { FailMode } from '../../store/store.js';
import { blockId, type BlockKind, type BlockRecord } from './block-record.js';
import type { RedisBlockStore } from './redis-block-store.js';

/** Raised when a block cannot be set because `max_blocks` blocks are active. */
export class BlockListFullError extends Error {
  override readonly name = 'BlockListFullError';
}

/** Raised by a write that must reach Redis while Redis fails. */
export class BlockStoreUnavailableError extends Error {
  override readonly name = 'BlockStoreUnavailableError';
}

/** A sync counts as recent for this many sync intervals; after that the copy is stale. */
const STALE_AFTER_INTERVALS = 3;
/** Shortest time in ms between two warnings about failed syncs; the rest are counted. */
const WARN_INTERVAL_MS = 10_000;

export interface BlockListOptions {
  /** Shared blocks; undefined keeps every block in this process. */
  readonly store?: RedisBlockStore | undefined;
  readonly failMode: FailMode;
  readonly syncIntervalMs: number;
  readonly maxBlocks: number;
  readonly log: Logger;
  /**
   * Whether the Redis connection is up; a sync is skipped while it is not, so that a replica
   * still connecting does not log failures. Always up by default.
   */
  readonly connected?: (() => boolean) | undefined;
  /** Current time in ms since the epoch; `Date.now` by default. */
  readonly now?: (() => number) | undefined;
}

/**
 * Fallback of `add`: with `shared` a block that Redis fails to take raises, with
 * `shared_or_local` it is kept in this process.
 */
export type AddMode = 'shared' | 'shared_or_local';

/**
 * The active blocks in this replica's copy. Lookups read memory only: with Redis, the copy
 * of every block is refreshed every `syncIntervalMs` when the shared version changed, so a block
 * set or lifted on another replica takes effect here within about one interval. Blocks expire
 * by their `expiresAt`, checked at each lookup, whatever the sync does.
 *
 * While the copy is stale (no successful sync for three intervals), `failMode` applies: `local`
 * keeps enforcing the blocks this replica has stored, `allow` enforces none, and with `deny`
 * `unavailable` is true, so that every request is rejected.
 */
export class BlockList {
  readonly #options: BlockListOptions;
  readonly #now: () => number;
  /** The last copy read from Redis. */
  #synced = new Map<string, BlockRecord>();
  /** Blocks set in this process only: all of them without Redis, else those Redis did not take. */
  readonly #local = new Map<string, BlockRecord>();
  #version = '';
  #lastSyncAt = -Infinity;
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;
  #lastWarnAt = -Infinity;
  #syncFailures = 0;

  constructor(options: BlockListOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Starts the periodic sync; does nothing without Redis. */
  start(): void {
    if (this.#options.store === undefined) return;
    void this.sync();
    this.#timer = setInterval(() => void this.sync(), this.#options.syncIntervalMs).unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** True when no kind has any block, so that a request needs no lookup at all. */
  get empty(): boolean {
    return this.#synced.size === 0 && this.#local.size === 0;
  }

  /** True while the copy is stale and the fail mode is `deny`. */
  get unavailable(): boolean {
    return this.#options.failMode === 'deny' && this.stale;
  }

  get stale(): boolean {
    if (this.#options.store === undefined) return false;
    const bound = STALE_AFTER_INTERVALS * this.#options.syncIntervalMs;
    return performance.now() - this.#lastSyncAt > bound;
  }

  /** Returns the active block of `key`, or undefined; reads memory only. */
  find(kind: BlockKind, key: string): BlockRecord | undefined {
    if (this.#options.failMode === 'allow' && this.stale) return undefined;
    const id = blockId(kind, key);
    const now = this.#now();
    return liveEntry(this.#local, id, now) ?? liveEntry(this.#synced, id, now);
  }

  /**
   * Sets a block. A block of the same kind and key that lasts longer is kept, and returned.
   * With `shared_or_local`, a block that Redis cannot take because it fails is kept in this
   * process, and enforced here only. Raises BlockListFullError, and with `shared`
   * BlockStoreUnavailableError.
   */
  async add(record: BlockRecord, mode: AddMode): Promise<BlockRecord> {
    const id = blockId(record.kind, record.key);
    const now = this.#now();
    const store = this.#options.store;
    if (store === undefined) return this.#addLocal(id, record, now);
    let outcome;
    try {
      outcome = await store.add(id, record, this.#options.maxBlocks, now);
    } catch (error) {
      if (mode === 'shared') {
        throw new BlockStoreUnavailableError(`block store unavailable: ${errorText(error)}`, {
          cause: error,
        });
      }
      this.#options.log.warn(
        { err: error, kind: record.kind, rule: record.rule },
        'block store unavailable; the block applies to this replica only',
      );
      return this.#addLocal(id, record, now);
    }
    if (outcome.outcome === 'full') throw this.#fullError();
    const stored = outcome.outcome === 'kept' ? outcome.record : record;
    this.#synced.set(id, stored);
    return stored;
  }

  /**
   * Lifts the blocks of `key`, of one kind or of every kind. Returns the lifted blocks that were
   * still active; an empty list means there was none. Raises BlockStoreUnavailableError when
   * Redis fails.
   */
  async remove(key: string, kinds: readonly BlockKind[]): Promise<BlockRecord[]> {
    const ids = kinds.map((kind) => blockId(kind, key));
    const now = this.#now();
    const removed: BlockRecord[] = [];
    for (const id of ids) {
      const local = liveEntry(this.#local, id, now);
      if (local !== undefined) removed.push(local);
      this.#local.delete(id);
    }
    const store = this.#options.store;
    if (store !== undefined) {
      let shared: BlockRecord[];
      try {
        shared = await store.remove(ids);
      } catch (error) {
        throw new BlockStoreUnavailableError(`block store unavailable: ${errorText(error)}`, {
          cause: error,
        });
      }
      for (const id of ids) this.#synced.delete(id);
      removed.push(...shared.filter((record) => record.expiresAt > now));
    }
    return removed;
  }

  /**
   * Returns every active block, after a sync when Redis is used. `stale` is true when that sync
   * failed, so that the list is this replica's last copy.
   */
  async list(): Promise<{ records: BlockRecord[]; stale: boolean }> {
    await this.sync();
    const now = this.#now();
    const records = new Map<string, BlockRecord>();
    for (const map of [this.#synced, this.#local]) {
      for (const [id, record] of map) {
        if (record.expiresAt > now) records.set(id, record);
      }
    }
    const sorted = [...records.values()].sort((a, b) => a.createdAt - b.createdAt);
    return { records: sorted, stale: this.stale };
  }

  /** Active blocks in this replica's copy, by kind. */
  countByKind(): Record<BlockKind, number> {
    const now = this.#now();
    const counts: Record<BlockKind, number> = { client_ip: 0, subject: 0, session: 0 };
    const seen = new Set<string>();
    for (const map of [this.#local, this.#synced]) {
      for (const [id, record] of map) {
        if (record.expiresAt <= now || seen.has(id)) continue;
        seen.add(id);
        counts[record.kind]++;
      }
    }
    return counts;
  }

  /** Refreshes the copy from Redis; one sync at a time, and never rejects. */
  sync(): Promise<void> {
    if (this.#options.store === undefined) return Promise.resolve();
    if (this.#options.connected?.() === false) return Promise.resolve();
    this.#syncing ??= this.#syncOnce().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  async #syncOnce(): Promise<void> {
    const store = this.#options.store!;
    const now = this.#now();
    try {
      const { version, records } = await store.sync(this.#version, now);
      if (records !== undefined) {
        this.#synced = new Map(records.map((record) => [blockId(record.kind, record.key), record]));
        this.#version = version;
      }
      this.#lastSyncAt = performance.now();
      this.#pruneLocal(now);
    } catch (error) {
      this.#syncFailures++;
      const at = performance.now();
      if (at - this.#lastWarnAt >= WARN_INTERVAL_MS) {
        this.#lastWarnAt = at;
        this.#options.log.warn(
          { err: error, failures: this.#syncFailures, fail_mode: this.#options.failMode },
          'block list sync failed; keeping the last copy',
        );
      }
    }
  }

  #addLocal(id: string, record: BlockRecord, now: number): BlockRecord {
    const existing = liveEntry(this.#local, id, now) ?? liveEntry(this.#synced, id, now);
    if (existing !== undefined && existing.expiresAt >= record.expiresAt) return existing;
    this.#pruneLocal(now);
    if (existing === undefined && this.#local.size >= this.#options.maxBlocks) {
      throw this.#fullError();
    }
    this.#local.set(id, record);
    return record;
  }

  #pruneLocal(now: number): void {
    for (const [id, record] of this.#local) {
      if (record.expiresAt <= now) this.#local.delete(id);
    }
  }

  #fullError(): BlockListFullError {
    return new BlockListFullError(
      `${this.#options.maxBlocks} blocks are active (alerts.blocks.max_blocks); the block was not set`,
    );
  }
}

/** Returns the entry of `id` unless it has expired; an expired entry is deleted. */
function liveEntry(
  map: Map<string, BlockRecord>,
  id: string,
  now: number,
): BlockRecord | undefined {
  const record = map.get(id);
  if (record === undefined) return undefined;
  if (record.expiresAt > now) return record;
  map.delete(id);
  return undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
