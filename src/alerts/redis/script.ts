import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { classifyRedisError } from '../../store/redis-errors.js';

export type RedisClient = Redis | Cluster;

/** A Lua script run by its SHA1, and sent whole once when Redis has not cached it (NOSCRIPT). */
export class RedisScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(
    client: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (classifyRedisError(error) !== 'noscript') throw error;
      return await client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** Returns a fixed-length stand-in for a value in a key name: its SHA-256, first 32 hex digits. */
export function keyDigest(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 32);
}
