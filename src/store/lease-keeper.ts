import type { LogSink } from './log-sink.js';

/** One concurrency slot: the key of the sorted set and the lease id stored in it. */
export interface HeldSlot {
  readonly key: string;
  readonly leaseId: string;
}

/**
 * Renews the Redis leases of requests still in flight. A lease expires `leaseMs` after it was
 * taken or last renewed, so a replica that crashes frees its slots within that time. Renewal
 * runs every `leaseMs / 3` for all held leases together, so a renewal can fail twice in a row
 * before a lease of a live request expires.
 */
export class LeaseKeeper {
  private readonly held = new Map<string, readonly string[]>();
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;

  constructor(
    private readonly renew: (slots: readonly HeldSlot[]) => Promise<void>,
    private readonly leaseMs: number,
    private readonly logger: LogSink,
  ) {}

  hold(leaseId: string, keys: readonly string[]): void {
    this.held.set(leaseId, keys);
    this.timer ??= setInterval(() => void this.renewAll(), Math.max(1, this.leaseMs / 3)).unref();
  }

  forget(leaseId: string): void {
    this.held.delete(leaseId);
    if (this.held.size === 0) this.stop();
  }

  /** Number of leases being renewed. */
  get size(): number {
    return this.held.size;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async renewAll(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    const slots = [...this.held].flatMap(([leaseId, keys]) =>
      keys.map((key) => ({ key, leaseId })),
    );
    try {
      await this.renew(slots);
    } catch (error) {
      // The fail mode is handled by decisions; a missed renewal only matters if it repeats.
      this.logger.debug({ err: error, leases: this.held.size }, 'concurrency lease renewal failed');
    } finally {
      this.renewing = false;
    }
  }
}
