-- Applies one batch of posts to one tag's state, atomically, in that tag's hash slot.
-- KEYS: timeline, records (split by post key: hashed.lua; earlier versions kept them whole in
-- this one, read until retention empties it), volume, spellings, coordination index,
-- coordination features, unpaired (viral) posts, posts per (content key, author), accounts per
-- content key, then one pairs key per coordination index, the sixteen tally keys (see
-- tally.lua), and last the tag's revision counter.
-- ARGV: retention_ms, the batch's newest post time (ms), the posts as one MessagePack array of
-- [post key, time ms, volume kind field, volume platform field, spelling, record, packed
-- features or nil], the largest coordination window (ms), the lowest co-similar threshold as
-- numerator and denominator, the codes of the pairs sets (JSON), in the order of KEYS, and the
-- most posts one key may have in one bucket before it is viral there, and the tag.
-- A post is applied only if its key is new to the timeline (exactly-once effect) and it is not
-- older than the tag's newest post minus retention. Returns one letter per post, in order:
-- n (new), d (seen before), o (too old to keep).
local timeline, records, volume, spellings = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local retention, batch_newest = tonumber(ARGV[1]), tonumber(ARGV[2])
local posts = cmsgpack.unpack(ARGV[3])
local ctx = {index = KEYS[5], features = KEYS[6], saturated = KEYS[7], authors = KEYS[8],
             copies = KEYS[9],
             window = tonumber(ARGV[4]), num = tonumber(ARGV[5]), den = tonumber(ARGV[6]),
             cap = tonumber(ARGV[8]), pairs = {}}
for j, name in ipairs(cjson.decode(ARGV[7])) do ctx.pairs[name] = KEYS[9 + j] end
local tally_ctx = tally_keys(#KEYS - #TALLY_NAMES - #LOG_CODES)
tally_ctx.timeline, tally_ctx.tag = timeline, ARGV[9]
tally_ctx.empty = redis.call('EXISTS', timeline) == 0
local tally = Tally.new(tally_ctx)
local log = PairLog.new({logs = tally_ctx.logs, names = tally_ctx.names, pairs = ctx.pairs,
                         counts = tally_ctx.counts}, TALLY_LEVEL)
local coordination = Coordination.new(ctx, log)
local CHUNK = 1000  -- arguments per bulk call stay far below Lua's stack limit

local top = redis.call('ZREVRANGE', timeline, 0, 0, 'WITHSCORES')
if top[2] and tonumber(top[2]) > batch_newest then batch_newest = tonumber(top[2]) end
local cutoff = batch_newest - retention

local function bulk(command, key, items)
  for first = 1, #items, CHUNK do
    redis.call(command, key, unpack(items, first, math.min(first + CHUNK - 1, #items)))
  end
end

local seen = {}
for first = 1, #posts, CHUNK do
  local ids = {}
  for j = first, math.min(first + CHUNK - 1, #posts) do ids[#ids + 1] = posts[j][1] end
  for j, score in ipairs(redis.call('ZMSCORE', timeline, unpack(ids))) do
    if score then seen[ids[j]] = true end
  end
end

local verdicts, scored, stored, counts, spelt = {}, {}, {}, {}, {}
for j, post in ipairs(posts) do
  local key, t = post[1], post[2]
  if t < cutoff then
    verdicts[j] = 'o'
  elseif seen[key] then
    verdicts[j] = 'd'
  else
    seen[key] = true
    verdicts[j] = 'n'
    scored[#scored + 1] = string.format('%d', t); scored[#scored + 1] = key
    local shard = hashed_shard(records, key)
    stored[shard] = stored[shard] or {}
    table.insert(stored[shard], key); table.insert(stored[shard], post[6])
    counts[post[3]] = (counts[post[3]] or 0) + 1
    counts[post[4]] = (counts[post[4]] or 0) + 1
    spelt[post[5]] = (spelt[post[5]] or 0) + 1
    if type(post[7]) == 'string' then coordination:add(key, t, post[7]) end
    if tally:counts_post(t, key) then tally:count(key, cjson.decode(post[6]), 1) end
  end
end
bulk('ZADD', timeline, scored)
for shard, fields in pairs(stored) do bulk('HSET', shard, fields) end
for field, n in pairs(counts) do redis.call('HINCRBY', volume, field, n) end
for spelling, n in pairs(spelt) do redis.call('HINCRBY', spellings, spelling, n) end

-- Retention: posts older than the cutoff leave every counter together.
local bound = '(' .. string.format('%d', cutoff)
local expired_with_times = redis.call('ZRANGEBYSCORE', timeline, '-inf', bound, 'WITHSCORES')
if #expired_with_times > 0 then
  local expired = {}
  for j = 1, #expired_with_times, 2 do expired[#expired + 1] = expired_with_times[j] end
  coordination:expire(expired_with_times, cutoff)
  local gone, whole, dropped = {}, redis.call('EXISTS', records) == 1, {}
  for _, key in ipairs(expired) do
    local shard = hashed_shard(records, key)
    dropped[shard] = dropped[shard] or {}
    table.insert(dropped[shard], key)
    local record = cjson.decode(hashed_get(records, key, whole))
    if tally:counts_post(record[1], key) then tally:count(key, record, -1) end
    local minute = string.format('%d', math.floor(record[1] / 60000))
    for _, field in ipairs({minute .. ':' .. record[2], minute .. '@' .. record[3]}) do
      gone[field] = (gone[field] or 0) + 1
    end
  end
  for field, n in pairs(gone) do
    if redis.call('HINCRBY', volume, field, -n) <= 0 then redis.call('HDEL', volume, field) end
  end
  for shard, fields in pairs(dropped) do bulk('HDEL', shard, fields) end
  if whole then bulk('HDEL', records, expired) end
  redis.call('ZREMRANGEBYSCORE', timeline, '-inf', bound)
end
tally:flush()
log:flush(cutoff, #expired_with_times > 0)
if #scored > 0 or #expired_with_times > 0 then redis.call('INCR', KEYS[#KEYS]) end
return table.concat(verdicts)
