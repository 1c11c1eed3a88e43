-- Applies one batch of posts to one tag's state, atomically, in that tag's hash slot.
-- KEYS: timeline, records, volume, spellings.
-- ARGV: retention_ms, then per post: key, t_ms, kind, platform, spelling, record.
-- A post is applied only if its key is new to the timeline (exactly-once effect) and it is
-- not older than the tag's newest post minus retention. Returns {new keys, keys too old to keep}.
local timeline, records, volume, spellings = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local retention = tonumber(ARGV[1])

local top = redis.call('ZREVRANGE', timeline, 0, 0, 'WITHSCORES')
local newest = top[2] and tonumber(top[2]) or nil
local batch_newest = newest
for i = 2, #ARGV, 6 do
  local t = tonumber(ARGV[i + 1])
  if batch_newest == nil or t > batch_newest then batch_newest = t end
end
if batch_newest == nil then return {{}, {}} end
local cutoff = batch_newest - retention

local function count(field, by)
  if redis.call('HINCRBY', volume, field, by) <= 0 then redis.call('HDEL', volume, field) end
end

local added, stale = {}, {}
for i = 2, #ARGV, 6 do
  local key, t = ARGV[i], tonumber(ARGV[i + 1])
  if t < cutoff then
    stale[#stale + 1] = key
  elseif redis.call('ZADD', timeline, 'NX', t, key) == 1 then
    local minute = string.format('%d', math.floor(t / 60000))
    redis.call('HSET', records, key, ARGV[i + 5])
    count(minute .. ':' .. ARGV[i + 2], 1)
    count(minute .. '@' .. ARGV[i + 3], 1)
    redis.call('HINCRBY', spellings, ARGV[i + 4], 1)
    added[#added + 1] = key
  end
end

if newest ~= nil and batch_newest > newest then
  local expired = redis.call('ZRANGEBYSCORE', timeline, '-inf', '(' .. string.format('%d', cutoff))
  for _, key in ipairs(expired) do
    local record = cjson.decode(redis.call('HGET', records, key))
    local minute = string.format('%d', math.floor(record[1] / 60000))
    count(minute .. ':' .. record[2], -1)
    count(minute .. '@' .. record[3], -1)
    if redis.call('HINCRBY', spellings, record[4], -1) <= 0 then
      redis.call('HDEL', spellings, record[4])
    end
    redis.call('HDEL', records, key)
  end
  if #expired > 0 then
    redis.call('ZREMRANGEBYSCORE', timeline, '-inf', '(' .. string.format('%d', cutoff))
  end
end
return {added, stale}
