import { createHash } from 'node:crypto';
import type { EventDetail, SecurityEventInput, Severity } from '../../monitoring/events/event.js';
import type { EventHub } from '../../monitoring/events/hub.js';
import type { RequestEventFields } from '../../monitoring/events/request-fields.js';
import type { Logger } from '../../monitoring/logger.js';
import type { GatewayMetrics } from '../../monitoring/metrics.js';
import { ExpiringLruMap } from '../../store/expiring-lru-map.js';
import type { DetectionEventType } from '../event.js';
import type { CompiledAlerts } from '../policy-alerts.js';
import type { WindowStore } from '../windows/window-store.js';

/** Pairs remembered as recently counted; beyond it the oldest are dropped and counted again. */
const MAX_RECENT_PAIRS = 100_000;
/** A pair seen again within this share of the window is not sent to the store again. */
const RECENT_SHARE_OF_WINDOW = 0.1;
const MAX_RECENT_MS = 30_000;
/** Hex digits of SHA-256 kept in `token_hash`: 64 bits, enough to tell tokens apart. */
const TOKEN_HASH_LENGTH = 16;
/** Shortest time in ms between two warnings about dropped observations. */
const WARN_INTERVAL_MS = 10_000;

/** Fields of one request with a verified token that the detections read. */
export interface ObservedRequest {
  readonly fields: RequestEventFields;
  /** The verified token as sent; only its SHA-256 is kept. */
  readonly token: string | undefined;
  readonly userAgent: string | undefined;
}

export interface DetectionsOptions {
  readonly alerts: () => CompiledAlerts;
  readonly windows: WindowStore;
  readonly events: EventHub;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  readonly maxPending: number;
  readonly now?: (() => number) | undefined;
}

interface Signal {
  readonly type: DetectionEventType;
  readonly severity: Severity;
  /** The window: what is counted, such as one token's addresses. */
  readonly key: string;
  /** The distinct value counted in it. */
  readonly member: string;
  /** The window fires when it contains more than this many distinct values. */
  readonly max: number;
  readonly windowMs: number;
  readonly detail: EventDetail;
}

/**
 * The built-in detections over requests with a verified token. Each counts distinct values in a
 * sliding window, through the same window store as alert rules (shared through Redis when it is
 * used), and publishes an event of its own type when the count first exceeds its maximum:
 *
 * - `token_shared`: one token (by its SHA-256) from more than `max_addresses` client addresses,
 *   or with more than `max_user_agents` User-Agent values;
 * - `many_subjects`: one client address presenting tokens of more than `max_subjects` subjects.
 *
 * An event is published at most once per window for the same token or address: the window's
 * cooldown is the window. Values are stored as SHA-256 digests, never as they were sent.
 */
export class Detections {
  readonly #options: DetectionsOptions;
  readonly #now: () => number;
  readonly #recent = new ExpiringLruMap<true>(MAX_RECENT_PAIRS);
  #pending = 0;
  #lastWarnAt = -Infinity;

  constructor(options: DetectionsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** True when a policy sets at least one detection, so that the stage gathers its input. */
  get enabled(): boolean {
    const { tokenShared, manySubjects } = this.#options.alerts().detections;
    return tokenShared !== undefined || manySubjects !== undefined;
  }

  /** True when `token_shared` is set, so that the stage reads the token again. */
  get needsToken(): boolean {
    return this.#options.alerts().detections.tokenShared !== undefined;
  }

  /** Counts one request in every detection. Store calls run in the background, so this does not wait. */
  observe(request: ObservedRequest): void {
    for (const signal of this.#signals(request)) this.#count(signal, request.fields);
  }

  #signals(request: ObservedRequest): Signal[] {
    const { tokenShared, manySubjects } = this.#options.alerts().detections;
    const { fields } = request;
    const signals: Signal[] = [];
    if (tokenShared !== undefined && request.token !== undefined) {
      const tokenHash = sha256(request.token).slice(0, TOKEN_HASH_LENGTH);
      const common = {
        type: 'token_shared',
        severity: 'high',
        windowMs: tokenShared.window,
      } as const;
      signals.push({
        ...common,
        key: `token_shared:address:${tokenHash}`,
        member: sha256(fields.client_ip),
        max: tokenShared.max_addresses,
        detail: { token_hash: tokenHash, counted: 'client_ip' },
      });
      if (request.userAgent !== undefined) {
        signals.push({
          ...common,
          key: `token_shared:user_agent:${tokenHash}`,
          member: sha256(request.userAgent),
          max: tokenShared.max_user_agents,
          detail: { token_hash: tokenHash, counted: 'user_agent' },
        });
      }
    }
    if (manySubjects !== undefined && fields.subject !== undefined) {
      signals.push({
        type: 'many_subjects',
        severity: 'medium',
        key: `many_subjects:${sha256(fields.client_ip)}`,
        member: sha256(fields.subject),
        max: manySubjects.max_subjects,
        windowMs: manySubjects.window,
        detail: { counted: 'subject' },
      });
    }
    return signals;
  }

  #count(signal: Signal, fields: RequestEventFields): void {
    const now = this.#now();
    const pair = `${signal.key}\0${signal.member}`;
    if (this.#recent.get(pair, now) !== undefined) return;
    const recentMs = Math.min(signal.windowMs * RECENT_SHARE_OF_WINDOW, MAX_RECENT_MS);
    this.#recent.set(pair, true, now + recentMs, now);
    if (this.#pending >= this.#options.maxPending) {
      this.#drop();
      return;
    }
    this.#pending++;
    const spec = {
      key: signal.key,
      windowMs: signal.windowMs,
      threshold: signal.max + 1,
      cooldownMs: signal.windowMs,
    };
    this.#options.windows
      .hit(spec, signal.member)
      .then((hit) => {
        if (hit.fired) this.#publish(signal, fields, hit.count);
      })
      .catch((error: unknown) => {
        this.#options.log.error({ err: error, detection: signal.type }, 'detection failed');
      })
      .finally(() => this.#pending--);
  }

  #publish(signal: Signal, fields: RequestEventFields, count: number): void {
    const input: SecurityEventInput = {
      type: signal.type,
      severity: signal.severity,
      action: 'logged',
      ...fields,
      detail: { ...signal.detail, distinct: count, max: signal.max, window_ms: signal.windowMs },
    };
    this.#options.events.publish(input);
  }

  #drop(): void {
    this.#options.metrics.alertEventsDropped.inc();
    const now = performance.now();
    if (now - this.#lastWarnAt < WARN_INTERVAL_MS) return;
    this.#lastWarnAt = now;
    this.#options.log.warn(
      { max_pending: this.#options.maxPending },
      'detection observations waiting for the window store are at alerts.max_pending; dropped',
    );
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
