import { SILENT_LOG, type LogSink } from './log-sink.js';
import type { MemoryStore } from './memory-store.js';
import { StorePermanentError } from './redis-errors.js';
import type {
  BackendDecision,
  CheckOutcome,
  LimitCheck,
  RateLimitBackend,
  RateLimitStore,
  StoreDecision,
  StoreStats,
} from './store.js';

/** A primary backend that can be probed; `RedisStore` is one. */
export interface ProbedBackend extends RateLimitBackend {
  /** Resolves when the backend responds; raises otherwise. */
  ping(): Promise<void>;
}

export interface FailoverStoreOptions {
  readonly primary: ProbedBackend;
  /** Decides the checks whose fail mode is `local` while the primary is down. */
  readonly fallback: MemoryStore;
  /** Interval in ms of the probe that detects that the primary is back. */
  readonly probeIntervalMs: number;
  readonly logger?: LogSink;
  /** Called after each switch, for metrics. */
  readonly onSwitch?: (state: 'primary' | 'fallback') => void;
  /**
   * Start with the fail modes and switch to the primary after the first successful probe, so
   * that decisions made while the client is still connecting neither wait nor log an outage.
   */
  readonly startInFallback?: boolean;
}

/** Shortest time in ms between two log lines about permanent errors; the rest are counted. */
const PERMANENT_ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * A store that decides with the primary backend (Redis) and, while it fails, by each check's
 * fail mode: `local` checks are decided by the in-memory store, `allow` checks are skipped, and
 * any enforced `deny` check makes the decision `unavailable`.
 *
 * The first failed call switches to the fail modes. From then on no call waits for Redis: a
 * probe PINGs it every `probeIntervalMs` and switches back once a PING succeeds. Each switch is
 * logged and counted. State kept in memory during an outage is not copied to Redis.
 *
 * Permanent errors (see `classifyRedisError`) do not switch. They make that decision
 * `unavailable` whatever the fail mode, so that a bug such as CROSSSLOT never admits requests.
 */
export class FailoverStore implements RateLimitStore {
  private state: 'primary' | 'fallback' = 'primary';
  private connected = true;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;
  private lastPermanentLogAt = -Infinity;
  private readonly logger: LogSink;
  private readonly counters = {
    switchesToFallback: 0,
    switchesToPrimary: 0,
    fallbackDecisions: 0,
    unavailableDecisions: 0,
    permanentErrors: 0,
  };

  constructor(private readonly options: FailoverStoreOptions) {
    this.logger = options.logger ?? SILENT_LOG;
    if (options.startInFallback) {
      this.state = 'fallback';
      this.connected = false;
      this.startProbe();
    }
  }

  async decide(checks: readonly LimitCheck[]): Promise<StoreDecision> {
    if (this.state === 'primary') {
      try {
        const decision = await this.options.primary.decide(checks);
        return { status: 'decided', source: 'primary', ...decision };
      } catch (error) {
        if (error instanceof StorePermanentError) return this.permanentFailure(error);
        this.switchToFallback(error);
      }
    }
    return this.decideByFailMode(checks);
  }

  /**
   * Probes the primary now instead of at the next interval; for the client's `ready` event.
   * Does nothing while the primary is in use.
   */
  probeNow(): void {
    void this.probe();
  }

  stats(): StoreStats {
    return {
      state: this.state,
      memoryKeys: this.options.fallback.size,
      memoryEvictions: this.options.fallback.evictions,
      ...this.counters,
    };
  }

  async close(): Promise<void> {
    this.stopProbe();
    await Promise.all([this.options.primary.close(), this.options.fallback.close()]);
  }

  private async decideByFailMode(checks: readonly LimitCheck[]): Promise<StoreDecision> {
    this.counters.fallbackDecisions++;
    const denied = checks.find((check) => !check.shadow && check.failMode === 'deny');
    if (denied !== undefined) {
      this.counters.unavailableDecisions++;
      return { status: 'unavailable', reason: `Redis is unavailable and ${denied.key} denies` };
    }
    const localIndexes = checks.flatMap((check, index) =>
      check.failMode === 'local' ? [index] : [],
    );
    const local = await this.options.fallback.decide(localIndexes.map((index) => checks[index]!));
    return { status: 'decided', source: 'fallback', ...spread(local, localIndexes, checks.length) };
  }

  private permanentFailure(error: StorePermanentError): StoreDecision {
    this.counters.permanentErrors++;
    this.counters.unavailableDecisions++;
    const now = performance.now();
    if (now - this.lastPermanentLogAt >= PERMANENT_ERROR_LOG_INTERVAL_MS) {
      this.lastPermanentLogAt = now;
      this.logger.error(
        { err: error, permanent_errors: this.counters.permanentErrors },
        'rate limit store error that no fail mode covers; requests get 503',
      );
    }
    return { status: 'unavailable', reason: error.message };
  }

  private switchToFallback(error: unknown): void {
    if (this.state === 'fallback') return;
    this.state = 'fallback';
    this.counters.switchesToFallback++;
    this.logger.warn(
      { err: error, switches: this.counters.switchesToFallback },
      'rate limit store unavailable; deciding by fail mode until it responds again',
    );
    this.options.onSwitch?.('fallback');
    this.startProbe();
  }

  private startProbe(): void {
    this.probeTimer ??= setInterval(() => void this.probe(), this.options.probeIntervalMs).unref();
  }

  private async probe(): Promise<void> {
    if (this.probing || this.state === 'primary') return;
    this.probing = true;
    try {
      await this.options.primary.ping();
      this.switchToPrimary();
    } catch (error) {
      this.logger.debug({ err: error }, 'rate limit store probe failed');
    } finally {
      this.probing = false;
    }
  }

  private switchToPrimary(): void {
    this.stopProbe();
    this.state = 'primary';
    this.counters.switchesToPrimary++;
    const message = this.connected
      ? 'rate limit store responds again; deciding with it'
      : 'rate limit store connected; deciding with it';
    this.connected = true;
    this.logger.info({ switches: this.counters.switchesToPrimary }, message);
    this.options.onSwitch?.('primary');
  }

  private stopProbe(): void {
    if (this.probeTimer !== undefined) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }
}

/** Places the outcomes of the locally decided checks at their positions in the full list. */
function spread(
  local: BackendDecision,
  localIndexes: readonly number[],
  checkCount: number,
): Omit<BackendDecision, 'outcomes'> & { outcomes: (CheckOutcome | undefined)[] } {
  const outcomes: (CheckOutcome | undefined)[] = new Array(checkCount).fill(undefined);
  localIndexes.forEach((checkIndex, position) => {
    outcomes[checkIndex] = local.outcomes[position];
  });
  return { committed: local.committed, outcomes, lease: local.lease };
}
