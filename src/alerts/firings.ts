import type { Logger } from '../monitoring/logger.js';
import type { RedisClient } from './redis/script.js';

/** One firing of an alert rule. */
export interface Firing {
  readonly rule: string;
  /** The group key, such as `client_ip=203.0.113.7`. */
  readonly key: string;
  /** Milliseconds since the epoch. */
  readonly firedAt: number;
  /** Events in the window when it fired, counted up to the threshold. */
  readonly count: number;
  /** Names of the actions the firing ran: `log`, `webhook:NAME`, `block:KIND`. */
  readonly actions: readonly string[];
}

/** The JSON form of a firing, in Redis and in `GET /admin/alerts`. */
export interface FiringJson {
  rule: string;
  key: string;
  fired_at: string;
  count: number;
  actions: string[];
}

export function firingToJson(firing: Firing): FiringJson {
  return {
    rule: firing.rule,
    key: firing.key,
    fired_at: new Date(firing.firedAt).toISOString(),
    count: firing.count,
    actions: [...firing.actions],
  };
}

/** Shortest time in ms between two warnings about failed writes; the rest are counted. */
const WARN_INTERVAL_MS = 10_000;

/**
 * The most recent firings, newest first: `max` of them in this process, and with Redis the
 * `max` most recent of every replica in one list (LPUSH and LTRIM in one MULTI).
 */
export class FiringsLog {
  readonly #max: number;
  readonly #client: RedisClient | undefined;
  readonly #key: string;
  readonly #log: Logger;
  readonly #local: FiringJson[] = [];
  #lastWarnAt = -Infinity;
  #failures = 0;

  constructor(options: {
    max: number;
    client?: RedisClient | undefined;
    keyPrefix: string;
    log: Logger;
  }) {
    this.#max = options.max;
    this.#client = options.client;
    this.#key = `${options.keyPrefix}firings`;
    this.#log = options.log;
  }

  /** Records a firing; the Redis write happens in the background and a failure is logged. */
  record(firing: Firing): void {
    const json = firingToJson(firing);
    this.#local.unshift(json);
    if (this.#local.length > this.#max) this.#local.length = this.#max;
    if (this.#client === undefined) return;
    this.#client
      .multi()
      .lpush(this.#key, JSON.stringify(json))
      .ltrim(this.#key, 0, this.#max - 1)
      .exec()
      .catch((error: unknown) => this.#warn(error, 'alert firing not written to Redis'));
  }

  /**
   * Returns up to `limit` firings, newest first: from Redis when it is used and responds, else
   * from this process (`source: local`).
   */
  async recent(limit: number): Promise<{ items: FiringJson[]; source: 'redis' | 'local' }> {
    if (this.#client !== undefined) {
      try {
        const texts = await this.#client.lrange(this.#key, 0, limit - 1);
        const items = texts.flatMap((text) => parseFiring(text) ?? []);
        return { items, source: 'redis' };
      } catch (error) {
        this.#warn(error, 'alert firings not read from Redis; returning this replica only');
      }
    }
    return { items: this.#local.slice(0, limit), source: 'local' };
  }

  #warn(error: unknown, message: string): void {
    this.#failures++;
    const now = performance.now();
    if (now - this.#lastWarnAt < WARN_INTERVAL_MS) return;
    this.#lastWarnAt = now;
    this.#log.warn({ err: error, failures: this.#failures }, message);
  }
}

function parseFiring(text: string): FiringJson | undefined {
  try {
    const value = JSON.parse(text) as Partial<FiringJson>;
    if (typeof value.rule !== 'string' || typeof value.key !== 'string') return undefined;
    return value as FiringJson;
  } catch {
    return undefined;
  }
}
