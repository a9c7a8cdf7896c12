import type { Logger } from '../monitoring/logger.js';
import type { GatewayMetrics } from '../monitoring/metrics.js';
import { ExpiringLruMap } from '../store/expiring-lru-map.js';
import { BlockListFullError, type BlockList } from './blocks/block-list.js';
import type { AlertEvent } from './event.js';
import type { FiringsLog } from './firings.js';
import type { CompiledAlerts } from './policy-alerts.js';
import {
  groupKeyText,
  groupValuesOf,
  type CompiledAction,
  type CompiledAlertRule,
} from './rule.js';
import type { GroupField } from './schema.js';
import type { WebhookSender } from './webhooks/sender.js';
import type { WindowStore } from './windows/window-store.js';

/** Window keys remembered as "in cooldown, no need to count"; beyond it the oldest are dropped. */
const MAX_SKIPPED_KEYS = 100_000;
/** Shortest time in ms between two warnings about dropped events; the rest are counted. */
const WARN_INTERVAL_MS = 10_000;

export interface AlertEngineOptions {
  /** The alert rules of the current policy snapshot; read once per event. */
  readonly alerts: () => CompiledAlerts;
  readonly windows: WindowStore;
  readonly blocks: BlockList;
  readonly webhooks: ReadonlyMap<string, WebhookSender>;
  readonly firings: FiringsLog;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  /** Evaluations waiting for the window store at once; events beyond it are dropped. */
  readonly maxPending: number;
  /** Current time in ms since the epoch; `Date.now` by default. */
  readonly now?: (() => number) | undefined;
}

/**
 * Evaluates alert rules over security events. `handle` is the event hub's listener: it matches
 * the event against every rule in the request's thread, which costs a few Set lookups, and hands
 * the matching ones to the window store without waiting. A firing runs the rule's actions.
 *
 * While a key's cooldown has more than one window left, its events are not sent to the store,
 * because none of them can be in the window when the cooldown ends. During an attack that has
 * fired, the replica thus stops paying a Redis call per event.
 */
export class AlertEngine {
  readonly #options: AlertEngineOptions;
  readonly #now: () => number;
  readonly #skipped = new ExpiringLruMap<true>(MAX_SKIPPED_KEYS);
  readonly #pending = new Set<Promise<void>>();
  #lastDropWarnAt = -Infinity;
  #drops = 0;
  #lastFullWarnAt = -Infinity;
  #fullLists = 0;

  constructor(options: AlertEngineOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Counts one event in every rule that matches it. Store calls run in the background, so this
   * does not wait. `clientIp` is the address before the privacy settings, which `exempt.cidrs`
   * is compared with.
   */
  handle(event: AlertEvent, clientIp: string = event.client_ip): void {
    const { rules } = this.#options.alerts();
    for (const rule of rules) {
      if (!rule.matches(event, clientIp)) continue;
      const values = groupValuesOf(event, rule.groupBy);
      if (values === undefined) continue;
      this.#count(rule, values, event);
    }
  }

  /** Resolves once every evaluation started so far has finished; for tests and shutdown. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  #count(rule: CompiledAlertRule, values: Record<GroupField, string>, event: AlertEvent): void {
    const key = groupKeyText(values);
    const windowKey = `${rule.name}:${rule.fingerprint}:${key}`;
    const now = this.#now();
    if (this.#skipped.get(windowKey, now) !== undefined) return;
    if (this.#pending.size >= this.#options.maxPending) {
      this.#drop(rule.name);
      return;
    }
    const spec = {
      key: windowKey,
      windowMs: rule.windowMs,
      threshold: rule.threshold,
      cooldownMs: rule.cooldownMs,
    };
    const evaluation = this.#options.windows
      .hit(spec, event.id)
      .then((hit) => {
        const skipMs = hit.cooldownRemainingMs - rule.windowMs;
        if (skipMs > 0) this.#skipped.set(windowKey, true, now + skipMs, now);
        if (hit.fired) this.#fire(rule, values, key, hit.count, event);
      })
      .catch((error: unknown) => {
        this.#options.log.error({ err: error, rule: rule.name }, 'alert rule evaluation failed');
      })
      .finally(() => this.#pending.delete(evaluation));
    this.#pending.add(evaluation);
  }

  #fire(
    rule: CompiledAlertRule,
    values: Record<GroupField, string>,
    key: string,
    count: number,
    event: AlertEvent,
  ): void {
    const { metrics, log, webhooks, blocks, firings } = this.#options;
    const firedAt = this.#now();
    metrics.alertFirings.inc({ rule: rule.name });
    const actions = rule.actions.map(actionName);
    const summary = {
      rule: rule.name,
      key,
      count,
      threshold: rule.threshold,
      window_ms: rule.windowMs,
      cooldown_ms: rule.cooldownMs,
      fired_at: new Date(firedAt).toISOString(),
      actions,
      event: { id: event.id, type: event.type, severity: event.severity, route: event.route },
    };
    for (const action of rule.actions) {
      if (action.type === 'log') {
        log.warn({ alert: summary }, 'alert fired');
      } else if (action.type === 'webhook') {
        const sender = webhooks.get(action.webhook);
        if (sender === undefined) {
          // Policy loading checks webhook names against the configuration, so this is a bug.
          log.error({ rule: rule.name, webhook: action.webhook }, 'alert webhook not configured');
          continue;
        }
        const block = rule.actions.find((other) => other.type === 'block');
        sender.enqueue(
          {
            type: 'alert_fired',
            ...summary,
            group: values,
            block:
              block?.type === 'block'
                ? {
                    kind: block.kind,
                    key: values[block.kind],
                    status: block.status,
                    expires_at: new Date(firedAt + block.durationMs).toISOString(),
                  }
                : undefined,
          },
          rule.name,
        );
      } else {
        const record = {
          kind: action.kind,
          key: values[action.kind],
          rule: rule.name,
          status: action.status,
          createdAt: firedAt,
          expiresAt: firedAt + action.durationMs,
        };
        blocks.add(record, 'shared_or_local').then(
          (stored) =>
            log.info(
              {
                rule: rule.name,
                kind: stored.kind,
                key: stored.key,
                expires_at: new Date(stored.expiresAt).toISOString(),
              },
              'block set by alert',
            ),
          (error: unknown) => this.#blockFailed(error, rule.name),
        );
      }
    }
    firings.record({ rule: rule.name, key, firedAt, count, actions });
  }

  /**
   * Logs a block that was not set. A full list is logged at most every 10 seconds, because a
   * distributed attack can fire many rules at once when the list is full.
   */
  #blockFailed(error: unknown, rule: string): void {
    if (!(error instanceof BlockListFullError)) {
      this.#options.log.error({ err: error, rule }, 'block not set by alert');
      return;
    }
    this.#fullLists++;
    const now = performance.now();
    if (now - this.#lastFullWarnAt < WARN_INTERVAL_MS) return;
    this.#lastFullWarnAt = now;
    this.#options.log.warn(
      { err: error, rule, blocks_not_set: this.#fullLists },
      'block not set by alert: the block list is full',
    );
  }

  #drop(rule: string): void {
    this.#drops++;
    this.#options.metrics.alertEventsDropped.inc();
    const now = performance.now();
    if (now - this.#lastDropWarnAt < WARN_INTERVAL_MS) return;
    this.#lastDropWarnAt = now;
    this.#options.log.warn(
      { rule, drops: this.#drops, max_pending: this.#options.maxPending },
      'alert events waiting for the window store are at alerts.max_pending; event not counted',
    );
  }
}

/** Returns the name of an action in firings: `log`, `webhook:NAME` or `block:KIND`. */
function actionName(action: CompiledAction): string {
  if (action.type === 'log') return 'log';
  if (action.type === 'webhook') return `webhook:${action.webhook}`;
  return `block:${action.kind}`;
}
