import type { Cluster, Redis } from 'ioredis';
import { RevocationListFullError, RevocationUnavailableError } from './errors.js';
import { EventSequencer } from './event-sequencer.js';
import { FreshnessTracker } from './freshness.js';
import { SILENT_REVOCATION_LOG, type RevocationLog } from './log.js';
import type { RevocationListOptions } from './memory-list.js';
import {
  buildRecord,
  recordKey,
  type RevocationKind,
  type RevocationRecord,
  type RevocationRequest,
} from './record.js';
import { RecordTable } from './record-table.js';
import { decodeMessage, type RevocationEvent } from './redis-codec.js';
import { createRevocationClient, type Environment } from './redis-connection.js';
import { revocationKeys, type RevocationKeys } from './redis-keys.js';
import { runRevokeScript, runUnrevokeScript } from './redis-scripts.js';
import { readSnapshot, readVersion } from './redis-snapshot.js';
import type {
  ListOptions,
  RevocationCheck,
  RevocationList,
  RevocationPage,
  TokenClaims,
} from './revocation-list.js';
import type { RevocationFailMode, RevocationRedisSettings } from './settings.js';
import { createCounters, statsSnapshot, type RevocationStatsSnapshot } from './stats.js';

export interface RedisRevocationListOptions extends RevocationListOptions {
  readonly redis: RevocationRedisSettings;
  /** Behaviour of `check` while the replica is stale; `deny` by default. */
  readonly failMode?: RevocationFailMode | undefined;
  /** Environment that `password_env` is read from; `process.env` by default. */
  readonly env?: Environment | undefined;
}

const UNAVAILABLE: RevocationCheck = Object.freeze({ unavailable: true });
const NOT_REVOKED: RevocationCheck = Object.freeze({ revoked: false });

type SyncKind = 'version' | 'full';

/**
 * A revocation list shared through Redis (layout in redis-keys.ts). Each gateway keeps a local
 * replica in a RecordTable, so `check` reads memory only:
 *
 * - `start` connects, subscribes to the events channel and loads every record;
 * - each change arrives as a channel message and is applied in version order;
 * - every `resync_interval` the replica compares its version with Redis and reloads when they
 *   differ, and pings the subscriber connection to catch a Redis that hangs;
 * - after the subscription is re-established, and on a version gap, it reloads at once.
 *
 * While the replica cannot be shown to be fresh (see FreshnessTracker), `failMode` applies:
 * `deny` makes `check` return `unavailable`, `allow` returns results from the stale replica. Writes go to
 * Redis only and fail with RevocationUnavailableError while it is unreachable.
 */
export class RedisRevocationList implements RevocationList {
  readonly #options: RedisRevocationListOptions;
  readonly #clock: () => number;
  readonly #log: RevocationLog;
  readonly #failMode: RevocationFailMode;
  readonly #keys: RevocationKeys;
  readonly #table = new RecordTable();
  readonly #counters = createCounters();
  readonly #sequencer: EventSequencer;
  readonly #freshness: FreshnessTracker;
  readonly #command: Redis | Cluster;
  readonly #subscriber: Redis | Cluster;
  #syncInFlight: Promise<boolean> | undefined;
  #fullSyncRequested = false;
  #syncFailing = false;
  #timers: NodeJS.Timeout[] = [];
  #started = false;
  #stopped = false;

  /** Creates the clients without connecting; raises when `password_env` is not set. */
  constructor(options: RedisRevocationListOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#log = options.log ?? SILENT_REVOCATION_LOG;
    this.#failMode = options.failMode ?? 'deny';
    this.#keys = revocationKeys(options.redis.key_prefix);
    this.#sequencer = new EventSequencer((event) => this.#apply(event));
    this.#freshness = new FreshnessTracker({
      boundMs: options.redis.freshness_bound,
      failMode: this.#failMode,
      trustSubscription: options.redis.mode !== 'cluster',
      clock: this.#clock,
      log: this.#log,
      counters: this.#counters,
    });
    this.#command = createRevocationClient(options.redis, 'command', options.env);
    this.#subscriber = createRevocationClient(options.redis, 'subscriber', options.env);
  }

  check(claims: TokenClaims): RevocationCheck {
    this.#counters.checks++;
    if (!this.#freshness.evaluate()) {
      if (this.#failMode === 'deny') {
        this.#counters.checksUnavailable++;
        return UNAVAILABLE;
      }
      this.#counters.checksStaleAllowed++;
    }
    const record = this.#table.match(claims, this.#clock());
    if (record === undefined) return NOT_REVOKED;
    this.#counters.checksRevoked++;
    return { revoked: true, kind: record.kind, reason: record.reason };
  }

  async revoke(request: RevocationRequest): Promise<RevocationRecord> {
    const now = this.#clock();
    const record = buildRecord(request, now, this.#options);
    const { maxRecords } = this.#options;
    const version = await this.#write('storing the revocation', () =>
      runRevokeScript(this.#command, this.#keys, record, maxRecords, now),
    );
    if (version === undefined) {
      this.#counters.writesRejectedFull++;
      throw new RevocationListFullError(
        `the revocation list is full (max_records is ${maxRecords}): ` +
          'remove records or raise revocation.max_records',
      );
    }
    // Apply our own change at once, unless its message has already been applied, so that
    // checks on this gateway reflect it as soon as revoke returns.
    if (this.#sequencer.version < version) this.#table.set(record);
    this.#sequencer.holdOwnWrite({ version, event: { op: 'revoke', record } });
    this.#log.info(
      { kind: record.kind, value: record.value, expiresAt: record.expiresAt, version },
      'revocation stored',
    );
    return record;
  }

  async unrevoke(kind: RevocationKind, value: string): Promise<boolean> {
    const key = recordKey(kind, value);
    const version = await this.#write('removing the revocation', () =>
      runUnrevokeScript(this.#command, this.#keys, key, this.#clock()),
    );
    if (version === 0) return false;
    if (this.#sequencer.version < version) this.#table.delete(key);
    this.#sequencer.holdOwnWrite({ version, event: { op: 'unrevoke', key } });
    this.#log.info({ kind, value, version }, 'revocation removed');
    return true;
  }

  /** Pages the replica after a sync, so the listing is at least as new as the call. */
  async list(options: ListOptions = {}): Promise<RevocationPage> {
    if (!(await this.#sync('version'))) {
      throw new RevocationUnavailableError('reading the revocations from Redis failed');
    }
    return this.#table.page(options, this.#clock());
  }

  /**
   * Connects, subscribes and loads every record. The connection attempt is bounded by
   * `connect_timeout` (per sentinel in Sentinel mode) and the load by `command_timeout`. It
   * resolves even when Redis is unreachable: the replica then stays stale, checks follow the
   * fail mode, and the background work keeps trying.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#listen();
    const connects = [this.#command, this.#subscriber].map((client) =>
      client.connect().catch((error: unknown) => {
        this.#log.warn({ err: error }, 'connecting to Redis for revocations failed; retrying');
      }),
    );
    await Promise.all(connects);
    await this.#sync('full');
    const { resync_interval } = this.#options.redis;
    this.#every(resync_interval, () => this.#tick());
    this.#every(this.#options.sweepIntervalMs, () => this.#table.purgeExpired(this.#clock()));
    this.#log.info(
      { fresh: this.#freshness.fresh, records: this.#table.size, version: this.#sequencer.version },
      'revocation replica started',
    );
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    this.#freshness.stop();
    this.#command.disconnect();
    this.#subscriber.disconnect();
    await this.#syncInFlight;
  }

  stats(): RevocationStatsSnapshot {
    return statsSnapshot(this.#counters, {
      records: this.#table.size,
      fresh: this.#freshness.evaluate() ? 1 : 0,
      subscribed: this.#freshness.subscribed ? 1 : 0,
      version: this.#sequencer.version,
      lastSyncAt: this.#freshness.lastSyncAt ?? 0,
    });
  }

  #listen(): void {
    const subscriber = this.#subscriber;
    subscriber.on('ready', () => void this.#subscribe());
    subscriber.on('close', () => this.#subscriptionLost());
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#keys.channel) this.#receive(message);
    });
    this.#logErrors(subscriber, 'subscriber');
    this.#logErrors(this.#command, 'command');
  }

  /** Logs the first connection error after each successful connect; the rest at debug. */
  #logErrors(client: Redis | Cluster, role: string): void {
    let quiet = false;
    client.on('ready', () => (quiet = false));
    client.on('error', (error: unknown) => {
      if (this.#stopped) return;
      const level = quiet ? 'debug' : 'warn';
      quiet = true;
      this.#log[level]({ err: error, connection: role }, 'Redis connection for revocations failed');
    });
  }

  async #subscribe(): Promise<void> {
    try {
      await this.#subscriber.subscribe(this.#keys.channel);
    } catch (error) {
      // The connection dropped again; the next 'ready' retries.
      this.#log.warn({ err: error }, 'subscribing to revocation events failed');
      return;
    }
    this.#freshness.subscriptionUp();
    this.#log.info({ channel: this.#keys.channel }, 'subscribed to revocation events');
    // Messages published while the subscription was down are lost, so reload everything.
    void this.#sync('full');
  }

  #subscriptionLost(): void {
    if (!this.#freshness.subscribed || this.#stopped) return;
    this.#freshness.subscriptionDown();
    this.#log.warn({}, 'subscription to revocation events lost; reconnecting');
  }

  #receive(message: string): void {
    const decoded = decodeMessage(message);
    if (decoded === undefined) {
      this.#counters.eventsInvalid++;
      this.#log.warn({ length: message.length }, 'ignored an invalid revocation event');
      return;
    }
    const outcome = this.#sequencer.receive(decoded);
    if (outcome === 'applied' || outcome === 'gap') this.#counters.eventsApplied++;
    if (outcome !== 'gap') return;
    this.#counters.eventGaps++;
    this.#log.info({ version: decoded.version }, 'revocation events were missed; reloading');
    void this.#sync('full');
  }

  #apply(event: RevocationEvent): void {
    if (event.op === 'revoke') this.#table.set(event.record);
    else this.#table.delete(event.key);
  }

  /** Pings the subscriber connection, then syncs. */
  async #tick(): Promise<void> {
    if (this.#options.redis.mode !== 'cluster' && this.#freshness.subscribed) {
      try {
        await (this.#subscriber as Redis).ping();
      } catch (error) {
        // A connection that is open but unanswered gives no 'close', so drop it here.
        this.#log.warn({ err: error }, 'PING on the revocation subscriber failed; reconnecting');
        this.#subscriptionLost();
        this.#subscriber.disconnect(true);
      }
    }
    await this.#sync('version');
  }

  /**
   * Runs one sync at a time. A full sync requested while another sync runs starts after it.
   * Resolves to whether the sync succeeded; it never rejects.
   */
  #sync(kind: SyncKind): Promise<boolean> {
    if (this.#syncInFlight !== undefined) {
      if (kind === 'full') this.#fullSyncRequested = true;
      return this.#syncInFlight;
    }
    const run = this.#runSync(kind).finally(() => {
      this.#syncInFlight = undefined;
      if (this.#fullSyncRequested && !this.#stopped) {
        this.#fullSyncRequested = false;
        void this.#sync('full');
      }
    });
    this.#syncInFlight = run;
    return run;
  }

  async #runSync(kind: SyncKind): Promise<boolean> {
    const startedAt = this.#clock();
    try {
      if (kind === 'version' && (await this.#versionUnchanged())) {
        this.#counters.versionChecks++;
      } else {
        await this.#reload();
      }
    } catch (error) {
      this.#syncFailed(error);
      return false;
    }
    if (this.#syncFailing) this.#log.info({}, 'revocation sync succeeded again');
    this.#syncFailing = false;
    this.#freshness.syncSucceeded(startedAt);
    return true;
  }

  async #versionUnchanged(): Promise<boolean> {
    return (await readVersion(this.#command, this.#keys)) === this.#sequencer.version;
  }

  /** Replaces the replica with every record in Redis. */
  async #reload(): Promise<void> {
    this.#sequencer.beginReload();
    let snapshot;
    try {
      snapshot = await readSnapshot(this.#command, this.#keys);
    } catch (error) {
      if (this.#sequencer.abortReload()) this.#fullSyncRequested = true;
      throw error;
    }
    this.#table.replaceAll(snapshot.records);
    if (this.#sequencer.endReload(snapshot.version)) this.#fullSyncRequested = true;
    this.#counters.fullSyncs++;
    if (snapshot.invalidFields.length > 0) {
      this.#log.warn(
        { fields: snapshot.invalidFields.length, key: this.#keys.records },
        'ignored revocation records that could not be decoded',
      );
    }
  }

  #syncFailed(error: unknown): void {
    this.#counters.syncFailures++;
    if (!this.#stopped) {
      this.#log[this.#syncFailing ? 'debug' : 'warn']({ err: error }, 'revocation sync failed');
    }
    this.#syncFailing = true;
    this.#freshness.evaluate();
  }

  async #write<T>(action: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // NOTE: after a timeout the write may still have been applied by Redis.
      throw new RevocationUnavailableError(`${action} in Redis failed: ${message}`, {
        cause: error,
      });
    }
  }

  #every(intervalMs: number, task: () => unknown): void {
    const timer = setInterval(() => {
      if (!this.#stopped) void task();
    }, intervalMs);
    timer.unref();
    this.#timers.push(timer);
  }
}
