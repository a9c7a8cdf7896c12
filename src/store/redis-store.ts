import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { keySlot } from './key-slot.js';
import { LeaseKeeper, type HeldSlot } from './lease-keeper.js';
import { SILENT_LOG, type LogSink } from './log-sink.js';
import {
  classifyRedisError,
  StorePermanentError,
  toStoreError,
  withDeadline,
} from './redis-errors.js';
import {
  RATE_LIMIT_SCRIPT,
  RATE_LIMIT_SCRIPT_SHA,
  REPLY_FIELDS_PER_CHECK,
} from './redis-script.js';
import type {
  BackendDecision,
  CheckOutcome,
  Lease,
  LimitCheck,
  RateLimitBackend,
} from './store.js';

export interface RedisStoreOptions {
  /** A standalone or Sentinel client (`Redis`) or a `Cluster`; see `createRedisClient`. */
  readonly client: Redis | Cluster;
  /** Prepended to every key; must not contain `{` or `}`, which would change the hash slot. */
  readonly keyPrefix: string;
  /** Maximum time in ms of one decision, a reload of the script included. */
  readonly commandTimeoutMs: number;
  /** Time in ms after which a concurrency slot of a crashed replica is free again. */
  readonly leaseMs: number;
  readonly logger?: LogSink;
}

/** Checks whose keys share a hash slot, so one script call can decide them atomically. */
interface SlotGroup {
  /** Positions of the group's checks in the request's check list. */
  readonly indexes: readonly number[];
  readonly keys: readonly string[];
}

interface GroupReply {
  readonly committed: boolean;
  /** Per check of the group: allowed, remaining, reset ms, retry-after ms, window index. */
  readonly values: readonly number[];
}

type ScriptMode = 'decide' | 'refund';

const KIND_CODES = { gcra: 'g', sliding_window: 's', concurrency: 'c' } as const;

/**
 * The Redis backend. The checks of a request are grouped by hash slot and each group is
 * decided by one EVALSHA of the rate-limit script. A standalone or Sentinel Redis therefore
 * receives one command per decision, plus SCRIPT LOAD and a second EVALSHA after it has lost
 * its script cache (NOSCRIPT).
 *
 * On a Cluster, checks whose keys fall into different slots cannot share a script call. Each
 * group then decides and consumes on its own, all groups in parallel (auto-pipelined per node).
 * When any group rejects, the groups that consumed are refunded by a second script call: a
 * compensation rather than a check-then-commit, because it keeps the common case, admission,
 * at one round trip. Between the two calls other requests see the consumed quota, so a
 * contended request can be rejected that a single-slot decision would have admitted. Quota is
 * never over-granted; a refund that fails is lost, and that quota returns only as it expires.
 */
export class RedisStore implements RateLimitBackend {
  private readonly client: Redis | Cluster;
  private readonly logger: LogSink;
  private readonly keeper: LeaseKeeper;
  private scriptLoad: Promise<void> | undefined;

  constructor(private readonly options: RedisStoreOptions) {
    if (/[{}]/.test(options.keyPrefix)) {
      throw new Error(`key prefix "${options.keyPrefix}" must not contain { or }`);
    }
    this.client = options.client;
    this.logger = options.logger ?? SILENT_LOG;
    this.keeper = new LeaseKeeper((slots) => this.renew(slots), options.leaseMs, this.logger);
  }

  /** Decides every check; raises StoreUnavailableError or StorePermanentError when Redis fails. */
  async decide(checks: readonly LimitCheck[]): Promise<BackendDecision> {
    if (checks.length === 0) return { committed: true, outcomes: [], lease: undefined };
    const leaseId = randomUUID();
    const keys = checks.map((check) => this.options.keyPrefix + check.key);
    const groups = this.groupBySlot(keys);
    const attempt = Promise.allSettled(
      groups.map((group) => this.runGroup('decide', group, checks, leaseId)),
    );
    let settled: PromiseSettledResult<GroupReply>[];
    try {
      settled = await withDeadline(attempt, this.options.commandTimeoutMs, 'rate limit decision');
    } catch (error) {
      // A late reply may still have consumed quota for a request that is no longer waiting.
      void attempt.then((late) => this.refundCommitted(groups, late, checks, leaseId));
      throw error;
    }
    return this.combine(groups, settled, checks, keys, leaseId);
  }

  /** Sends PING to every master and raises when one does not respond in time. */
  async ping(): Promise<void> {
    const nodes = isCluster(this.client) ? this.client.nodes('master') : [this.client];
    if (nodes.length === 0) throw toStoreError(new Error('no cluster master is known'), 'PING');
    const pings = Promise.all(nodes.map((node) => node.ping()));
    try {
      await withDeadline(pings, this.options.commandTimeoutMs, 'PING');
    } catch (error) {
      throw toStoreError(error, 'PING');
    }
  }

  /** Number of leases being renewed, one per request holding concurrency slots. */
  get heldLeases(): number {
    return this.keeper.size;
  }

  /** Stops renewing leases and closes the connection; slots still held expire with their lease. */
  async close(): Promise<void> {
    this.keeper.stop();
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private async combine(
    groups: readonly SlotGroup[],
    settled: readonly PromiseSettledResult<GroupReply>[],
    checks: readonly LimitCheck[],
    keys: readonly string[],
    leaseId: string,
  ): Promise<BackendDecision> {
    const failure = settled.find((result) => result.status === 'rejected');
    const committed = settled.every(
      (result) => result.status === 'fulfilled' && result.value.committed,
    );
    if (!committed) await this.refundCommitted(groups, settled, checks, leaseId);
    if (failure !== undefined) throw toStoreError(failure.reason, 'rate limit decision');
    const outcomes = collectOutcomes(groups, settled, checks.length);
    const slotKeys = keys.filter((_key, index) => {
      return checks[index]!.kind === 'concurrency' && outcomes[index]!.allowed;
    });
    const lease = committed && slotKeys.length > 0 ? this.lease(leaseId, slotKeys) : undefined;
    return { committed, outcomes, lease };
  }

  private groupBySlot(keys: readonly string[]): SlotGroup[] {
    if (!isCluster(this.client)) return [{ indexes: keys.map((_key, index) => index), keys }];
    const bySlot = new Map<number, { indexes: number[]; keys: string[] }>();
    keys.forEach((key, index) => {
      const slot = keySlot(key);
      const group = bySlot.get(slot) ?? { indexes: [], keys: [] };
      group.indexes.push(index);
      group.keys.push(key);
      bySlot.set(slot, group);
    });
    return [...bySlot.values()];
  }

  private async runGroup(
    mode: ScriptMode,
    group: SlotGroup,
    checks: readonly LimitCheck[],
    leaseId: string,
    windowIndexes?: readonly number[],
  ): Promise<GroupReply> {
    const args: (string | number)[] = [mode, leaseId, this.options.leaseMs];
    group.indexes.forEach((checkIndex, position) => {
      args.push(...checkArguments(checks[checkIndex]!, windowIndexes?.[position] ?? 0));
    });
    const reply = await this.evalScript(group.keys, args);
    if (mode === 'refund') return { committed: false, values: [] };
    return parseGroupReply(reply, group.keys.length);
  }

  /** Runs the script by its SHA1 and loads it once more when Redis does not know it (NOSCRIPT). */
  private async evalScript(
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await this.client.evalsha(RATE_LIMIT_SCRIPT_SHA, keys.length, ...keys, ...args);
    } catch (error) {
      if (classifyRedisError(error) !== 'noscript') throw error;
      await this.loadScript();
      return await this.client.evalsha(RATE_LIMIT_SCRIPT_SHA, keys.length, ...keys, ...args);
    }
  }

  /** Loads the script on every master; concurrent callers share one load. */
  private loadScript(): Promise<void> {
    this.scriptLoad ??= (async () => {
      try {
        const nodes = isCluster(this.client) ? this.client.nodes('master') : [this.client];
        await Promise.all(nodes.map((node) => node.script('LOAD', RATE_LIMIT_SCRIPT)));
        this.logger.info({ sha: RATE_LIMIT_SCRIPT_SHA }, 'rate limit script loaded into Redis');
      } finally {
        this.scriptLoad = undefined;
      }
    })();
    return this.scriptLoad;
  }

  private async refundCommitted(
    groups: readonly SlotGroup[],
    settled: readonly PromiseSettledResult<GroupReply>[],
    checks: readonly LimitCheck[],
    leaseId: string,
  ): Promise<void> {
    const refunds = groups.flatMap((group, index) => {
      const result = settled[index]!;
      if (result.status !== 'fulfilled' || !result.value.committed) return [];
      return [this.refundGroup(group, result.value, checks, leaseId)];
    });
    if (refunds.length === 0) return;
    try {
      await withDeadline(Promise.all(refunds), this.options.commandTimeoutMs, 'rate limit refund');
    } catch (error) {
      this.logger.warn({ err: error }, 'rate limit refund failed; the quota returns as it expires');
    }
  }

  /** Refunds only the checks of a consumed group that admitted, with their window index. */
  private async refundGroup(
    group: SlotGroup,
    reply: GroupReply,
    checks: readonly LimitCheck[],
    leaseId: string,
  ): Promise<void> {
    const admitted = group.indexes
      .map((checkIndex, position) => ({ checkIndex, position }))
      .filter(({ position }) => reply.values[position * REPLY_FIELDS_PER_CHECK] === 1);
    if (admitted.length === 0) return;
    const refundGroup: SlotGroup = {
      indexes: admitted.map((entry) => entry.checkIndex),
      keys: admitted.map((entry) => group.keys[entry.position]!),
    };
    const windowIndexes = admitted.map(
      ({ position }) => reply.values[position * REPLY_FIELDS_PER_CHECK + 4]!,
    );
    await this.runGroup('refund', refundGroup, checks, leaseId, windowIndexes);
  }

  private lease(leaseId: string, keys: readonly string[]): Lease {
    this.keeper.hold(leaseId, keys);
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        this.keeper.forget(leaseId);
        try {
          await Promise.all(keys.map((key) => this.client.zrem(key, leaseId)));
        } catch (error) {
          this.logger.debug({ err: error }, 'concurrency slot release failed; the lease expires');
        }
      },
    };
  }

  private async renew(slots: readonly HeldSlot[]): Promise<void> {
    const groups = this.groupBySlot(slots.map((slot) => slot.key));
    await Promise.all(
      groups.map((group) => {
        const leaseIds = group.indexes.map((index) => slots[index]!.leaseId);
        return this.evalScript(group.keys, ['renew', this.options.leaseMs, ...leaseIds]);
      }),
    );
  }
}

function isCluster(client: Redis | Cluster): client is Cluster {
  return 'isCluster' in client && client.isCluster === true;
}

function checkArguments(check: LimitCheck, windowIndex: number): (string | number)[] {
  const shadow = check.shadow ? '1' : '0';
  const kind = KIND_CODES[check.kind];
  if (check.kind === 'gcra') {
    return [kind, check.cost, check.intervalMs, check.burst, shadow, windowIndex];
  }
  if (check.kind === 'sliding_window') {
    return [kind, check.cost, check.windowMs, check.limit, shadow, windowIndex];
  }
  return [kind, 1, check.maxInFlight, 0, shadow, windowIndex];
}

function parseGroupReply(reply: unknown, checkCount: number): GroupReply {
  const expected = 1 + checkCount * REPLY_FIELDS_PER_CHECK;
  if (!Array.isArray(reply) || reply.length !== expected || !reply.every(Number.isInteger)) {
    throw new StorePermanentError(
      `rate limit script returned an invalid reply: ${JSON.stringify(reply)}`,
    );
  }
  return { committed: reply[0] === 1, values: reply.slice(1) as number[] };
}

function collectOutcomes(
  groups: readonly SlotGroup[],
  settled: readonly PromiseSettledResult<GroupReply>[],
  checkCount: number,
): CheckOutcome[] {
  const outcomes: CheckOutcome[] = new Array(checkCount);
  groups.forEach((group, groupIndex) => {
    const values = (settled[groupIndex] as PromiseFulfilledResult<GroupReply>).value.values;
    group.indexes.forEach((checkIndex, position) => {
      const base = position * REPLY_FIELDS_PER_CHECK;
      outcomes[checkIndex] = {
        allowed: values[base] === 1,
        remaining: values[base + 1]!,
        resetMs: values[base + 2]!,
        retryAfterMs: values[base + 3]!,
      };
    });
  });
  return outcomes;
}
