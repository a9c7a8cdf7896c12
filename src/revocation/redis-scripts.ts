import type { Cluster, Redis } from 'ioredis';
import { encodeEvent, encodeRecord, fieldOf } from './redis-codec.js';
import type { RevocationKeys } from './redis-keys.js';
import type { RevocationRecord } from './record.js';

/** Maximum expired fields one write removes, so that a script never runs for long. */
const PURGE_BATCH = 1_000;

/**
 * Removes up to PURGE_BATCH expired fields, then stores the record unless the hash is full.
 * Returns the new version, or -1 when the hash contains `max` live fields and the field is new.
 * The write, the version and the message happen in one script so that no replica can see a
 * version without its change.
 *
 * KEYS: records, expiry, version. ARGV: field, record JSON, expiry ms or '', now ms, max,
 * channel, event JSON.
 */
const REVOKE_SCRIPT = `
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[4], 'LIMIT', 0, ${PURGE_BATCH})
for _, field in ipairs(expired) do
  redis.call('HDEL', KEYS[1], field)
  redis.call('ZREM', KEYS[2], field)
end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and
    redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then
  return -1
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
end
local version = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[6], version .. ' ' .. ARGV[7])
return version
`;

/**
 * Removes a field and returns the new version. Returns 0 when the field was absent or had
 * expired. An expired field is removed without a message, because replicas already ignore it.
 *
 * KEYS: records, expiry, version. ARGV: field, now ms, channel, event JSON.
 */
const UNREVOKE_SCRIPT = `
local expiry = redis.call('ZSCORE', KEYS[2], ARGV[1])
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
if expiry and tonumber(expiry) <= tonumber(ARGV[2]) then
  return 0
end
local version = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[3], version .. ' ' .. ARGV[4])
return version
`;

type Client = Redis | Cluster;

/**
 * Stores `record` and publishes the change. Returns the new version, or undefined when the
 * list contains `maxRecords` live records and the record is new.
 */
export async function runRevokeScript(
  client: Client,
  keys: RevocationKeys,
  record: RevocationRecord,
  maxRecords: number,
  now: number,
): Promise<number | undefined> {
  // EVAL sends the script text each time, which is acceptable for rare admin writes and
  // needs no NOSCRIPT handling after a Redis restart.
  const version = await client.eval(
    REVOKE_SCRIPT,
    3,
    keys.records,
    keys.expiry,
    keys.version,
    fieldOf(record),
    encodeRecord(record),
    record.expiresAt === undefined ? '' : String(record.expiresAt),
    String(now),
    String(maxRecords),
    keys.channel,
    encodeEvent({ op: 'revoke', record }),
  );
  return Number(version) < 0 ? undefined : Number(version);
}

/** Removes the field `key` and publishes the change; returns the new version or 0. */
export async function runUnrevokeScript(
  client: Client,
  keys: RevocationKeys,
  key: string,
  now: number,
): Promise<number> {
  const version = await client.eval(
    UNREVOKE_SCRIPT,
    3,
    keys.records,
    keys.expiry,
    keys.version,
    key,
    String(now),
    keys.channel,
    encodeEvent({ op: 'unrevoke', key }),
  );
  return Number(version);
}
