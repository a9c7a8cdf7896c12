import { RevocationListFullError } from './errors.js';
import { SILENT_REVOCATION_LOG, type RevocationLog } from './log.js';
import {
  buildRecord,
  recordKey,
  type RecordDefaults,
  type RevocationKind,
  type RevocationRecord,
  type RevocationRequest,
} from './record.js';
import { RecordTable } from './record-table.js';
import type {
  ListOptions,
  RevocationCheck,
  RevocationList,
  RevocationPage,
  TokenClaims,
} from './revocation-list.js';
import { createCounters, statsSnapshot, type RevocationStatsSnapshot } from './stats.js';

/** Options shared by every revocation list. */
export interface RevocationListOptions extends RecordDefaults {
  /** Maximum records held; `revoke` raises RevocationListFullError beyond it. */
  readonly maxRecords: number;
  /** Interval in ms at which expired records are removed. */
  readonly sweepIntervalMs: number;
  /** Current time in ms since the epoch; `Date.now` by default. */
  readonly clock?: (() => number) | undefined;
  readonly log?: RevocationLog | undefined;
}

/**
 * A revocation list held in this process only: each gateway replica has its own, and it is
 * empty after a restart. It is always fresh, so `check` never returns `unavailable`.
 */
export class MemoryRevocationList implements RevocationList {
  readonly #table = new RecordTable();
  readonly #counters = createCounters();
  readonly #options: RevocationListOptions;
  readonly #clock: () => number;
  readonly #log: RevocationLog;
  #sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: RevocationListOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#log = options.log ?? SILENT_REVOCATION_LOG;
  }

  check(claims: TokenClaims): RevocationCheck {
    this.#counters.checks++;
    const record = this.#table.match(claims, this.#clock());
    if (record === undefined) return { revoked: false };
    this.#counters.checksRevoked++;
    return { revoked: true, kind: record.kind, reason: record.reason };
  }

  async revoke(request: RevocationRequest): Promise<RevocationRecord> {
    const now = this.#clock();
    const record = buildRecord(request, now, this.#options);
    const key = recordKey(record.kind, record.value);
    if (this.#table.get(key, now) === undefined && this.#isFull(now)) {
      this.#counters.writesRejectedFull++;
      throw new RevocationListFullError(
        `the revocation list is full (max_records is ${this.#options.maxRecords}): ` +
          'remove records or raise revocation.max_records',
      );
    }
    this.#table.set(record);
    this.#log.info(
      { kind: record.kind, value: record.value, expiresAt: record.expiresAt },
      'revocation stored',
    );
    return record;
  }

  async unrevoke(kind: RevocationKind, value: string): Promise<boolean> {
    const removed = this.#table.delete(recordKey(kind, value));
    if (removed) this.#log.info({ kind, value }, 'revocation removed');
    return removed;
  }

  async list(options: ListOptions = {}): Promise<RevocationPage> {
    return this.#table.page(options, this.#clock());
  }

  async start(): Promise<void> {
    if (this.#sweepTimer !== undefined) return;
    this.#sweepTimer = setInterval(() => {
      this.#table.purgeExpired(this.#clock());
    }, this.#options.sweepIntervalMs);
    this.#sweepTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
  }

  stats(): RevocationStatsSnapshot {
    return statsSnapshot(this.#counters, {
      records: this.#table.size,
      fresh: 1,
      subscribed: 0,
      version: 0,
      lastSyncAt: 0,
    });
  }

  /** Returns whether a new record would exceed the maximum, after removing expired ones. */
  #isFull(now: number): boolean {
    if (this.#table.size < this.#options.maxRecords) return false;
    this.#table.purgeExpired(now);
    return this.#table.size >= this.#options.maxRecords;
  }
}
