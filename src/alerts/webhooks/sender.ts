import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import type { Logger } from '../../monitoring/logger.js';
import type { WebhookSettings } from '../settings.js';
import { DELIVERY_HEADER, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './signature.js';

/** Result of one attempt, or of a whole delivery: `retried` is counted once per retry. */
export type DeliveryOutcome = 'delivered' | 'retried' | 'failed';

/** Deliveries of one receiver in flight at once; the rest wait in the queue. */
const CONCURRENCY = 4;
/** Statuses after which a new attempt may succeed: timeouts, throttling, server errors. */
const RETRYABLE_STATUS = (status: number) => status === 408 || status === 429 || status >= 500;
/** Shortest time in ms between two warnings about dropped deliveries; the rest are counted. */
const DROP_WARN_INTERVAL_MS = 10_000;

export interface WebhookSenderOptions {
  readonly settings: WebhookSettings;
  readonly secret: Buffer;
  readonly log: Logger;
  readonly onOutcome: (outcome: DeliveryOutcome) => void;
  /** Called for each delivery dropped because the queue was full. */
  readonly onDrop: () => void;
  /** A number in [0, 1) for the backoff jitter; `Math.random` by default. */
  readonly random?: () => number;
}

interface Delivery {
  readonly id: string;
  readonly body: string;
  readonly rule: string;
}

type AttemptResult =
  { readonly kind: 'delivered' } | { readonly kind: 'retry' | 'fatal'; readonly reason: string };

/**
 * Sends alert firings to one receiver, away from the request path. `enqueue` only appends to a
 * bounded queue; up to four deliveries run at once, each with up to `max_attempts` attempts.
 * Between attempts it waits a random time from 0 to `retry_delay * 2^(attempt - 1)`, capped at
 * `max_retry_delay` (exponential backoff with full jitter), so that replicas retrying after an
 * outage do not arrive together. Each attempt is signed again with a fresh timestamp. The
 * receiver has a connection pool of its own, so a slow or unreachable receiver never takes
 * connections from the upstream's pool.
 */
export class WebhookSender {
  readonly name: string;
  readonly #options: WebhookSenderOptions;
  readonly #agent: Agent;
  readonly #random: () => number;
  readonly #queue: Delivery[] = [];
  readonly #stop = new AbortController();
  #active = 0;
  #idleWaiters: (() => void)[] = [];
  #lastDropWarnAt = -Infinity;
  #drops = 0;

  constructor(options: WebhookSenderOptions) {
    this.name = options.settings.name;
    this.#options = options;
    this.#random = options.random ?? Math.random;
    this.#agent = new Agent({
      connect: { timeout: options.settings.timeout },
      headersTimeout: options.settings.timeout,
      bodyTimeout: options.settings.timeout,
    });
  }

  /** Deliveries queued or in flight. */
  get pending(): number {
    return this.#queue.length + this.#active;
  }

  /**
   * Queues a delivery of `payload` as JSON. Returns false, and counts a drop, when the queue
   * is full or the sender has stopped.
   */
  enqueue(payload: Readonly<Record<string, unknown>>, rule: string): boolean {
    if (this.#stop.signal.aborted || this.pending >= this.#options.settings.queue_size) {
      this.#drop(rule);
      return false;
    }
    const id = randomUUID();
    this.#queue.push({ id, rule, body: JSON.stringify({ delivery_id: id, ...payload }) });
    this.#pump();
    return true;
  }

  /** Resolves once nothing is queued or in flight; for tests and shutdown. */
  async idle(): Promise<void> {
    while (this.pending > 0) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
  }

  /**
   * Stops: drops what is queued, cancels backoff waits and in-flight attempts, and closes the
   * connection pool. Returns the number of deliveries that were not completed.
   */
  async close(): Promise<number> {
    const unfinished = this.pending;
    this.#queue.length = 0;
    this.#stop.abort();
    await this.#agent.destroy().catch(() => undefined);
    return unfinished;
  }

  #pump(): void {
    while (this.#active < CONCURRENCY && this.#queue.length > 0) {
      const delivery = this.#queue.shift()!;
      this.#active++;
      void this.#deliver(delivery).finally(() => {
        this.#active--;
        this.#pump();
        if (this.pending === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
      });
    }
  }

  async #deliver(delivery: Delivery): Promise<void> {
    const { settings, log, onOutcome } = this.#options;
    for (let attempt = 1; ; attempt++) {
      const result = await this.#attempt(delivery);
      if (result.kind === 'delivered') {
        onOutcome('delivered');
        log.info(
          { webhook: this.name, delivery: delivery.id, rule: delivery.rule, attempt },
          'alert webhook delivered',
        );
        return;
      }
      const stopped = this.#stop.signal.aborted;
      if (result.kind === 'fatal' || attempt >= settings.max_attempts || stopped) {
        onOutcome('failed');
        log.warn(
          {
            webhook: this.name,
            delivery: delivery.id,
            rule: delivery.rule,
            attempts: attempt,
            reason: stopped ? 'gateway stopping' : result.reason,
          },
          'alert webhook delivery failed; giving up',
        );
        return;
      }
      onOutcome('retried');
      const delayMs = this.backoffMs(attempt);
      log.debug(
        { webhook: this.name, delivery: delivery.id, attempt, reason: result.reason, delayMs },
        'alert webhook attempt failed; retrying',
      );
      try {
        await sleep(delayMs, undefined, { signal: this.#stop.signal, ref: false });
      } catch {
        // Aborted by close(), so the next attempt gives up.
      }
    }
  }

  /** Returns the wait in ms after attempt `attempt` (1, 2, …), with full jitter. */
  backoffMs(attempt: number): number {
    const { retry_delay: base, max_retry_delay: cap } = this.#options.settings;
    const ceiling = Math.min(cap, base * 2 ** Math.min(attempt - 1, 30));
    return Math.floor(this.#random() * ceiling);
  }

  async #attempt(delivery: Delivery): Promise<AttemptResult> {
    const { settings, secret } = this.#options;
    if (this.#stop.signal.aborted) return { kind: 'fatal', reason: 'stopped' };
    const timestamp = String(Math.floor(Date.now() / 1000));
    try {
      const response = await request(settings.url, {
        method: 'POST',
        dispatcher: this.#agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'agentflow-gateway-alerts',
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signWebhook(secret, timestamp, delivery.body),
          [DELIVERY_HEADER]: delivery.id,
        },
        body: delivery.body,
        signal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout(settings.timeout)]),
      });
      await response.body.dump();
      const status = response.statusCode;
      if (status >= 200 && status < 300) return { kind: 'delivered' };
      return { kind: RETRYABLE_STATUS(status) ? 'retry' : 'fatal', reason: `status ${status}` };
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return { kind: 'retry', reason };
    }
  }

  #drop(rule: string): void {
    this.#drops++;
    this.#options.onDrop();
    const now = performance.now();
    if (now - this.#lastDropWarnAt < DROP_WARN_INTERVAL_MS) return;
    this.#lastDropWarnAt = now;
    this.#options.log.warn(
      {
        webhook: this.name,
        rule,
        drops: this.#drops,
        queue_size: this.#options.settings.queue_size,
      },
      'alert webhook queue full; delivery dropped',
    );
  }
}
