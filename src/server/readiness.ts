import type { Logger } from '../monitoring/logger.js';
import type { Upstream } from '../proxy/upstream.js';

/**
 * Tracks whether the gateway should receive traffic: a policy is loaded, the gateway is not
 * shutting down, and the upstream answered a probe recently. Any probe response below 500
 * counts as reachable, since a backend that answers at all can serve requests.
 */
export class Readiness {
  #upstreamReachableAt = 0;
  #draining = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #upstream: Upstream;
  readonly #log: Logger;

  constructor(upstream: Upstream, log: Logger) {
    this.#upstream = upstream;
    this.#log = log;
  }

  start(): void {
    void this.probe();
    this.#timer = setInterval(() => void this.probe(), this.#upstream.config.health_interval);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  markDraining(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Ready means not draining and an upstream answer within three probe intervals. */
  isReady(now = Date.now()): boolean {
    const window = 3 * this.#upstream.config.health_interval;
    return !this.#draining && now - this.#upstreamReachableAt <= window;
  }

  async probe(): Promise<boolean> {
    const { pool, basePath, config } = this.#upstream;
    try {
      const response = await pool.request({
        method: 'GET',
        path: `${basePath}${config.health_path}`,
        headersTimeout: config.connect_timeout,
        bodyTimeout: config.connect_timeout,
      });
      await response.body.dump();
      if (response.statusCode < 500) {
        this.#upstreamReachableAt = Date.now();
        return true;
      }
      this.#log.warn({ status: response.statusCode }, 'upstream health probe failed');
    } catch (error) {
      this.#log.warn({ code: (error as { code?: string }).code }, 'upstream health probe failed');
    }
    return false;
  }
}
