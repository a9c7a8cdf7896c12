import { createHash } from 'node:crypto';

/** Number of ARGV entries per check in `decide` and `refund` calls. */
export const FIELDS_PER_CHECK = 6;

/** Number of integers per check in the reply of a `decide` call, after the leading flag. */
export const REPLY_FIELDS_PER_CHECK = 5;

/**
 * The Lua script that decides, refunds and renews the checks of one request whose keys share a
 * hash slot. It reads the clock with TIME, so every gateway replica uses the Redis server's
 * clock and their own clocks may differ. The GCRA and sliding window arithmetic is the same as
 * in `algorithms.ts`; change both together.
 *
 * ARGV[1] is the mode:
 *
 * - `decide`: ARGV[2] is the lease id, ARGV[3] the lease time in ms, then per check
 *   `kind, cost, a, b, shadow, unused`. kind `g` is GCRA with a = interval ms and b = burst;
 *   `s` is the sliding window with a = window ms and b = limit; `c` is concurrency with
 *   a = max in flight. Every check is evaluated first; the admitting ones are consumed only
 *   when no enforced (non-shadow) check rejected. The reply is `committed` followed by
 *   `allowed, remaining, reset ms, retry-after ms, window index` per check, all integers.
 * - `refund`: the same arguments, with the window index from the `decide` reply as the sixth
 *   field. It undoes a `decide` that was consumed, for a request that another slot rejected.
 * - `renew`: ARGV[2] is the lease time in ms and ARGV[2 + i] the lease id held in KEYS[i]. It
 *   extends leases that still exist and never recreates an expired one.
 */
export const RATE_LIMIT_SCRIPT = `
local FIELDS = ${FIELDS_PER_CHECK}
local EPSILON = 0.000001
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local mode = ARGV[1]

local function field(i, j)
  return ARGV[3 + (i - 1) * FIELDS + j]
end

local function format_ms(value)
  return string.format('%.3f', value)
end

local function extend_ttl(key, ttl)
  if redis.call('PTTL', key) < ttl then
    redis.call('PEXPIRE', key, ttl)
  end
end

local function gcra(key, cost, interval, burst)
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  local capacity = burst * interval
  local next_tat = tat + cost * interval
  local allow_at = next_tat - capacity
  if allow_at <= now + EPSILON then
    local remaining = math.floor((now - allow_at) / interval + EPSILON)
    return {1, remaining, next_tat - now, 0, 0, next_tat}
  end
  local available = math.max(0, math.floor((now - (tat - capacity)) / interval + EPSILON))
  return {0, available, tat - now, allow_at - now, 0, next_tat}
end

local function rolled_counts(key, window)
  local index = math.floor(now / window)
  local stored = redis.call('HMGET', key, 'w', 'c', 'p')
  local stored_index = tonumber(stored[1])
  local current = tonumber(stored[2]) or 0
  local previous = tonumber(stored[3]) or 0
  if stored_index ~= index then
    if stored_index == index - 1 then previous = current else previous = 0 end
    current = 0
  end
  return index, current, previous
end

local function sliding_retry(current, previous, elapsed, cost, window, limit)
  if current + cost <= limit then
    return math.max(0, window * (1 - (limit - current - cost) / previous) - elapsed)
  end
  local next_admit = 0
  if current > 0 then next_admit = window * (1 - (limit - cost) / current) end
  return window - elapsed + math.max(0, next_admit)
end

local function sliding(key, cost, window, limit)
  local index, current, previous = rolled_counts(key, window)
  local elapsed = now - index * window
  local used = previous * (window - elapsed) / window + current
  local allowed = used + cost <= limit + EPSILON
  local after = current
  if allowed then after = current + cost end
  local reset = 0
  if after > 0 then reset = 2 * window - elapsed elseif previous > 0 then reset = window - elapsed end
  if allowed then
    local remaining = math.floor(limit - used - cost + EPSILON)
    return {1, remaining, reset, 0, index, current, previous}
  end
  local remaining = math.max(0, math.floor(limit - used + EPSILON))
  local retry = sliding_retry(current, previous, elapsed, cost, window, limit)
  return {0, remaining, reset, retry, index, current, previous}
end

local function concurrency(key, max_in_flight)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local held = redis.call('ZCARD', key)
  if held + 1 <= max_in_flight then
    return {1, max_in_flight - held - 1, 0, 0, 0}
  end
  return {0, 0, 0, 0, 0}
end

local function evaluate(i)
  local kind = field(i, 1)
  local cost = tonumber(field(i, 2))
  local a = tonumber(field(i, 3))
  local b = tonumber(field(i, 4))
  if kind == 'g' then return gcra(KEYS[i], cost, a, b) end
  if kind == 's' then return sliding(KEYS[i], cost, a, b) end
  return concurrency(KEYS[i], a)
end

local function commit(i, result, lease, lease_ms)
  local kind = field(i, 1)
  local key = KEYS[i]
  if kind == 'g' then
    local next_tat = result[6]
    redis.call('SET', key, format_ms(next_tat), 'PX', math.max(1, math.ceil(next_tat - now)))
  elseif kind == 's' then
    local window = tonumber(field(i, 3))
    local cost = tonumber(field(i, 2))
    redis.call('HSET', key, 'w', result[5], 'c', result[6] + cost, 'p', result[7])
    redis.call('PEXPIRE', key, math.ceil((result[5] + 2) * window - now))
  else
    redis.call('ZADD', key, now + lease_ms, lease)
    extend_ttl(key, lease_ms)
  end
end

local function decide()
  local lease = ARGV[2]
  local lease_ms = tonumber(ARGV[3])
  local results = {}
  local pass = true
  for i = 1, #KEYS do
    results[i] = evaluate(i)
    if results[i][1] == 0 and field(i, 5) ~= '1' then pass = false end
  end
  local reply = {0}
  if pass then
    reply[1] = 1
    for i = 1, #KEYS do
      if results[i][1] == 1 then commit(i, results[i], lease, lease_ms) end
    end
  end
  for i = 1, #KEYS do
    local r = results[i]
    table.insert(reply, r[1])
    table.insert(reply, r[2])
    table.insert(reply, math.ceil(r[3]))
    table.insert(reply, math.ceil(r[4]))
    table.insert(reply, r[5])
  end
  return reply
end

local function refund_gcra(key, cost, interval)
  local tat = tonumber(redis.call('GET', key))
  if not tat then return end
  local earlier = tat - cost * interval
  if earlier <= now then
    redis.call('DEL', key)
  else
    redis.call('SET', key, format_ms(earlier), 'PX', math.ceil(earlier - now))
  end
end

local function refund_sliding(key, cost, index)
  local stored = redis.call('HMGET', key, 'w', 'c', 'p')
  local stored_index = tonumber(stored[1])
  if stored_index == index then
    redis.call('HSET', key, 'c', math.max(0, (tonumber(stored[2]) or 0) - cost))
  elseif stored_index == index + 1 then
    redis.call('HSET', key, 'p', math.max(0, (tonumber(stored[3]) or 0) - cost))
  end
end

local function refund()
  local lease = ARGV[2]
  for i = 1, #KEYS do
    local kind = field(i, 1)
    local cost = tonumber(field(i, 2))
    if kind == 'g' then
      refund_gcra(KEYS[i], cost, tonumber(field(i, 3)))
    elseif kind == 's' then
      refund_sliding(KEYS[i], cost, tonumber(field(i, 6)))
    else
      redis.call('ZREM', KEYS[i], lease)
    end
  end
  return 1
end

local function renew()
  local lease_ms = tonumber(ARGV[2])
  local renewed = 0
  for i = 1, #KEYS do
    renewed = renewed + redis.call('ZADD', KEYS[i], 'XX', 'CH', now + lease_ms, ARGV[2 + i])
    extend_ttl(KEYS[i], lease_ms)
  end
  return renewed
end

if mode == 'decide' then return decide() end
if mode == 'refund' then return refund() end
if mode == 'renew' then return renew() end
return redis.error_reply('ERR unknown rate limit script mode ' .. tostring(mode))
`;

/** SHA1 of {@link RATE_LIMIT_SCRIPT}, the name EVALSHA runs it by. */
export const RATE_LIMIT_SCRIPT_SHA = createHash('sha1').update(RATE_LIMIT_SCRIPT).digest('hex');
