import { randomInt } from 'node:crypto';
import { RedisScript, type RedisClient } from '../redis/script.js';
import { blockFromJson, blockToJson, type BlockRecord } from './block-record.js';

/** Maximum expired blocks one write removes, so that a script never runs for long. */
const PURGE_BATCH = 1_000;
/** Time the hash and index outlive their last block. */
const KEY_TTL_MARGIN_MS = 60_000;
/** Upper bound of the random first version: 2^40, far below where INCR overflows. */
const FIRST_VERSION_RANGE = 2 ** 40;

/**
 * Stores a block unless the list is full, after removing up to PURGE_BATCH expired blocks. A
 * block of the same kind and key that lasts at least as long is kept instead. Every change
 * increments the version, which replicas poll. A missing version starts at a random number, so
 * that after Redis lost its data a replica's old version is very unlikely to come round again.
 *
 * KEYS: records hash, expiry sorted set, version. ARGV: id, record JSON, expiry ms, max blocks,
 * now ms, first version. Returns {1} when stored, {0, json} with the longer block kept, {-1}
 * when full.
 */
const ADD_SCRIPT = new RedisScript(`
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[5], 'LIMIT', 0, ${PURGE_BATCH})
for _, id in ipairs(expired) do
  redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
local current = redis.call('ZSCORE', KEYS[2], ARGV[1])
if current then
  if tonumber(current) >= tonumber(ARGV[3]) then
    return {0, redis.call('HGET', KEYS[1], ARGV[1])}
  end
elseif redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then
  return {-1}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('SET', KEYS[3], ARGV[6], 'NX')
redis.call('INCR', KEYS[3])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
local until_ms = tonumber(last[2]) + ${KEY_TTL_MARGIN_MS}
redis.call('PEXPIREAT', KEYS[1], until_ms)
redis.call('PEXPIREAT', KEYS[2], until_ms)
return {1}
`);

/**
 * Removes the blocks with the given ids and returns their JSON; increments the version when it
 * removed one. KEYS: records hash, expiry sorted set, version. ARGV: ids.
 */
const REMOVE_SCRIPT = new RedisScript(`
local removed = {}
for _, id in ipairs(ARGV) do
  local json = redis.call('HGET', KEYS[1], id)
  if json then
    redis.call('HDEL', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
    table.insert(removed, json)
  end
end
if #removed > 0 then
  redis.call('INCR', KEYS[3])
end
return removed
`);

/**
 * Returns {version} when the version is `known`, else the version followed by the JSON of
 * every block that expires after `now`. KEYS: records hash, expiry sorted set, version.
 * ARGV: known version, now ms.
 */
const SYNC_SCRIPT = new RedisScript(`
local version = redis.call('GET', KEYS[3]) or '0'
if version == ARGV[1] then
  return {version}
end
local reply = {version}
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[2], '+inf')
for _, id in ipairs(ids) do
  local json = redis.call('HGET', KEYS[1], id)
  if json then
    table.insert(reply, json)
  end
end
return reply
`);

export type AddOutcome =
  | { readonly outcome: 'stored' }
  | { readonly outcome: 'kept'; readonly record: BlockRecord }
  | { readonly outcome: 'full' };

/**
 * Blocks in Redis: a hash from block id to JSON, a sorted set of ids by expiry, and a version.
 * The three keys share the hash tag `{blocks}`, so that scripts may use them together in a
 * Cluster. Every method raises the ioredis error when Redis fails.
 */
export class RedisBlockStore {
  readonly #client: RedisClient;
  readonly #keys: readonly [string, string, string];

  constructor(client: RedisClient, keyPrefix: string) {
    this.#client = client;
    const base = `${keyPrefix}{blocks}:`;
    this.#keys = [`${base}records`, `${base}expiry`, `${base}version`];
  }

  async add(id: string, record: BlockRecord, maxBlocks: number, now: number): Promise<AddOutcome> {
    const reply = (await ADD_SCRIPT.run(this.#client, this.#keys, [
      id,
      JSON.stringify(blockToJson(record)),
      record.expiresAt,
      maxBlocks,
      now,
      randomInt(FIRST_VERSION_RANGE),
    ])) as [number, string?];
    if (reply[0] === -1) return { outcome: 'full' };
    const kept = reply[0] === 0 ? blockFromJson(reply[1] ?? '') : undefined;
    return kept === undefined ? { outcome: 'stored' } : { outcome: 'kept', record: kept };
  }

  async remove(ids: readonly string[]): Promise<BlockRecord[]> {
    const reply = (await REMOVE_SCRIPT.run(this.#client, this.#keys, ids)) as string[];
    return reply.flatMap((json) => blockFromJson(json) ?? []);
  }

  /** Returns the version, and every live block when the version is not `knownVersion`. */
  async sync(
    knownVersion: string,
    now: number,
  ): Promise<{ version: string; records: BlockRecord[] | undefined }> {
    const reply = (await SYNC_SCRIPT.run(this.#client, this.#keys, [knownVersion, now])) as [
      string,
      ...string[],
    ];
    const [version, ...records] = reply;
    if (version === knownVersion) return { version, records: undefined };
    return { version, records: records.flatMap((json) => blockFromJson(json) ?? []) };
  }
}
