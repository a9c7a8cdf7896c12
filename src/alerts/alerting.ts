import path from 'node:path';
import type { GatewayConfig } from '../config/schema.js';
import type { EventHub } from '../monitoring/events/hub.js';
import type { EventPrivacy } from '../monitoring/events/privacy.js';
import type { Logger } from '../monitoring/logger.js';
import type { GatewayMetrics } from '../monitoring/metrics.js';
import { createRedisClient } from '../store/redis-client.js';
import { BlockList } from './blocks/block-list.js';
import { RedisBlockStore } from './blocks/redis-block-store.js';
import { Detections } from './detections/detections.js';
import { AlertEngine } from './engine.js';
import { FiringsLog } from './firings.js';
import type { CompiledAlerts } from './policy-alerts.js';
import type { RedisClient } from './redis/script.js';
import { loadWebhookSecret } from './webhooks/secret.js';
import { WebhookSender } from './webhooks/sender.js';
import { FailoverWindowStore } from './windows/failover-window-store.js';
import { MemoryWindowStore } from './windows/memory-window-store.js';
import { RedisWindowStore } from './windows/redis-window-store.js';
import type { WindowStore } from './windows/window-store.js';

/** Time in ms that shutdown waits for evaluations in flight before closing Redis. */
const FLUSH_TIMEOUT_MS = 1_000;

export interface AlertingOptions {
  readonly config: GatewayConfig;
  /** The configuration file, against whose folder `secret_file` paths resolve. */
  readonly configFile: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
  readonly events: EventHub;
  readonly privacy: EventPrivacy;
  /** The alert rules and detections of the current policy snapshot. */
  readonly alerts: () => CompiledAlerts;
}

/**
 * Alert rules, their actions, the blocks and the built-in detections of one gateway, wired to
 * its event hub. With `store.backend: redis`, windows, cooldowns, firings and blocks are shared
 * through that Redis server, over a connection of their own and under `alerts.key_prefix`.
 * Otherwise they live in this process.
 */
export class Alerting {
  readonly blocks: BlockList;
  readonly engine: AlertEngine;
  readonly detections: Detections;
  readonly firings: FiringsLog;
  readonly privacy: EventPrivacy;
  readonly webhooks: ReadonlyMap<string, WebhookSender>;
  readonly #options: AlertingOptions;
  readonly #client: RedisClient | undefined;
  readonly #windows: WindowStore;
  #unsubscribe: (() => void) | undefined;

  private constructor(
    options: AlertingOptions,
    client: RedisClient | undefined,
    webhooks: ReadonlyMap<string, WebhookSender>,
  ) {
    const { config, log, metrics } = options;
    const settings = config.alerts;
    this.#options = options;
    this.#client = client;
    this.privacy = options.privacy;
    this.webhooks = webhooks;
    const memory = new MemoryWindowStore();
    this.#windows =
      client === undefined
        ? memory
        : new FailoverWindowStore(new RedisWindowStore(client, settings.key_prefix), memory, log);
    this.blocks = new BlockList({
      store: client === undefined ? undefined : new RedisBlockStore(client, settings.key_prefix),
      failMode: settings.blocks.fail_mode,
      syncIntervalMs: settings.blocks.sync_interval,
      maxBlocks: settings.blocks.max_blocks,
      log,
      connected: () => client?.status === 'ready',
    });
    metrics.blockCountSource = () => this.blocks.countByKind();
    this.firings = new FiringsLog({
      max: settings.recent_firings,
      client,
      keyPrefix: settings.key_prefix,
      log,
    });
    this.engine = new AlertEngine({
      alerts: options.alerts,
      windows: this.#windows,
      blocks: this.blocks,
      webhooks,
      firings: this.firings,
      metrics,
      log,
      maxPending: settings.max_pending,
    });
    this.detections = new Detections({
      alerts: options.alerts,
      windows: this.#windows,
      events: options.events,
      metrics,
      log,
      maxPending: settings.max_pending,
    });
  }

  /**
   * Reads every webhook secret and creates the Redis client when the store uses Redis. Raises
   * an Error naming the setting when a secret or a password variable is missing.
   */
  static async create(options: AlertingOptions): Promise<Alerting> {
    const { config, log, metrics } = options;
    const configDir = path.dirname(options.configFile);
    const webhooks = new Map<string, WebhookSender>();
    for (const settings of config.alerts.webhooks) {
      const secret = await loadWebhookSecret(settings, configDir, options.env);
      webhooks.set(
        settings.name,
        new WebhookSender({
          settings,
          secret,
          log,
          onOutcome: (outcome) =>
            metrics.alertWebhookDeliveries.inc({ webhook: settings.name, outcome }),
          onDrop: () => metrics.alertWebhookQueueDrops.inc({ webhook: settings.name }),
        }),
      );
    }
    let client: RedisClient | undefined;
    if (config.store.backend === 'redis' && config.store.redis !== undefined) {
      // NOTE: the connection is named agentflow-gateway-ratelimit in CLIENT LIST, because it is
      // created with the rate limiter's settings.
      client = createRedisClient(config.store.redis, options.env);
      client.on('error', (error: unknown) =>
        log.debug({ err: error }, 'alerts Redis connection error'),
      );
    }
    const alerting = new Alerting(options, client, webhooks);
    client?.on('ready', () => void alerting.blocks.sync());
    return alerting;
  }

  /** Subscribes to the event hub and starts the block sync. */
  start(): void {
    this.#unsubscribe ??= this.#options.events.subscribe((event, clientIp) =>
      this.engine.handle(event, clientIp),
    );
    this.blocks.start();
  }

  /**
   * Unsubscribes, waits up to a second for evaluations in flight, then stops the webhooks and
   * closes Redis. Deliveries still queued are dropped and logged.
   */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.blocks.stop();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.engine.flush(),
      new Promise((resolve) => (timer = setTimeout(resolve, FLUSH_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    for (const sender of this.webhooks.values()) {
      const unfinished = await sender.close();
      if (unfinished > 0) {
        this.#options.log.warn(
          { webhook: sender.name, unfinished },
          'alert webhook deliveries dropped at shutdown',
        );
      }
    }
    await this.#windows.close();
    if (this.#client !== undefined) {
      await this.#client.quit().catch(() => this.#client?.disconnect());
    }
  }
}
