import { keyDigest, RedisScript, type RedisClient } from '../redis/script.js';
import type { WindowHit, WindowSpec, WindowStore } from './window-store.js';

/**
 * Adds a member to a window and decides the firing in one step, so that replicas sharing the
 * window never both fire. The window is a sorted set of members scored by the time they were
 * added, in ms from Redis' own clock (TIME), so replicas' clocks do not matter. The cooldown
 * is a key set with NX and PX: only the hit that creates it fires.
 *
 * KEYS: window sorted set, cooldown key. ARGV: member, window ms, threshold, cooldown ms.
 * Returns count, fired (0 or 1) and the cooldown's remaining ms.
 */
const HIT_SCRIPT = new RedisScript(`
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local window = tonumber(ARGV[2])
local threshold = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count > threshold then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, count - threshold - 1)
  count = threshold
end
redis.call('PEXPIRE', KEYS[1], window)
if count < threshold then
  return {count, 0, 0}
end
if redis.call('SET', KEYS[2], now, 'NX', 'PX', ARGV[4]) then
  return {count, 1, tonumber(ARGV[4])}
end
return {count, 0, math.max(redis.call('PTTL', KEYS[2]), 0)}
`);

/**
 * Windows shared by every replica through Redis. Key names carry a digest of the window key in
 * a hash tag, so that a window and its cooldown share a Cluster slot and no subject or address
 * appears in a key name. Raises the ioredis error when Redis fails.
 */
export class RedisWindowStore implements WindowStore {
  readonly #client: RedisClient;
  readonly #prefix: string;

  constructor(client: RedisClient, keyPrefix: string) {
    this.#client = client;
    this.#prefix = keyPrefix;
  }

  async hit(spec: WindowSpec, member: string): Promise<WindowHit> {
    const tag = `{${keyDigest(spec.key)}}`;
    const reply = (await HIT_SCRIPT.run(
      this.#client,
      [`${this.#prefix}window:${tag}`, `${this.#prefix}cooldown:${tag}`],
      [member, spec.windowMs, spec.threshold, spec.cooldownMs],
    )) as [number, number, number];
    return { count: reply[0], fired: reply[1] === 1, cooldownRemainingMs: reply[2] };
  }

  /** The client belongs to the caller, who closes it. */
  async close(): Promise<void> {}
}
