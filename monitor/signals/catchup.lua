-- Counts into a tag's tallies what came before them, a chunk a call: first its posts, oldest
-- first, then the rows of each default pairs set (linked.lua) in their order, while the apply
-- script keeps counting arrivals and departures up to the same marks.
-- KEYS: timeline, records, the tally keys in keys.TALLIES order, then the pairs sets of
-- linked.lua's LINKED_ORDER.
-- ARGV: the tag, how many posts or rows one call counts, and the default query's window (ms)
-- and co-similar threshold as numerator and denominator.
-- Returns 1 once the tallies hold every retained post and pair, 0 while some remain.
local timeline, records = KEYS[1], KEYS[2]
local ctx = {counts = KEYS[3], totals = KEYS[4], accounts = KEYS[5], talk = KEYS[6],
             urls = KEYS[7], cotags = KEYS[8], minutes = KEYS[9], times = KEYS[10],
             created = KEYS[11], series = KEYS[12], linked = KEYS[13], edges = KEYS[14],
             links = KEYS[15], signatures = KEYS[16], timeline = timeline, tag = ARGV[1],
             empty = false,
             window = tonumber(ARGV[3]), num = tonumber(ARGV[4]), den = tonumber(ARGV[5])}
local chunk = tonumber(ARGV[2])
local level = redis.call('HGET', ctx.counts, 'level')
if level == TALLY_LEVEL then return 1 end
if level ~= TALLY_LEVEL .. '<' then  -- none yet, or another level's: start from nothing
  tally_reset(ctx)
  redis.call('HSET', ctx.counts, 'level', TALLY_LEVEL .. '<', 'upto', '')
  for _, code in ipairs(LINKED_ORDER) do
    redis.call('HSET', ctx.counts, 'pairs' .. LINKED_SEP .. code, '')
  end
end

-- The next `chunk` members of a sorted set after the mark '<score, 13 digits>\0<member>' (from
-- the start when it is empty), with their scores.
local function after(key, mark)
  if mark == '' then return redis.call('ZRANGE', key, 0, chunk - 1, 'WITHSCORES') end
  local score, member = string.sub(mark, 1, 13), string.sub(mark, 15)
  local found = {}
  for _, tied in ipairs(redis.call('ZRANGEBYSCORE', key, score, score)) do
    if before(member, tied) and #found < 2 * chunk then
      found[#found + 1] = tied
      found[#found + 1] = score
    end
  end
  local rest = redis.call('ZRANGEBYSCORE', key, '(' .. score, '+inf', 'WITHSCORES', 'LIMIT', 0,
                          chunk - #found / 2)
  for _, item in ipairs(rest) do found[#found + 1] = item end
  return found
end

-- Counts the chunk after `field`'s mark with `count`; sets the mark, '~' once none is left.
local function step(key, field, count)
  local items = after(key, redis.call('HGET', ctx.counts, field))
  for j = 1, #items, 2 do count(items[j], tonumber(items[j + 1])) end
  local mark = LINKED_ALL
  if #items == 2 * chunk then mark = tally_stamp(tonumber(items[#items]), items[#items - 1]) end
  redis.call('HSET', ctx.counts, field, mark)
end

local tally = Tally.new(ctx)
if tally.upto ~= LINKED_ALL then
  step(timeline, 'upto', function(post)
    local raw = redis.call('HGET', records, post)
    if raw then tally:count(post, cjson.decode(raw), 1) end
  end)
  tally:flush()
  return 0
end
local linked = Linked.new(ctx, false)
for j, code in ipairs(LINKED_ORDER) do
  local field = 'pairs' .. LINKED_SEP .. code
  if linked.marks[code] ~= LINKED_ALL then
    linked.marks[code] = LINKED_ALL  -- counts this chunk's rows
    step(KEYS[16 + j], field, function(row, first) linked:row(code, first, row, 1) end)
    linked:flush()
    return 0
  end
end
redis.call('HSET', ctx.counts, 'level', TALLY_LEVEL)
redis.call('HDEL', ctx.counts, 'upto')
for _, code in ipairs(LINKED_ORDER) do redis.call('HDEL', ctx.counts, 'pairs' .. LINKED_SEP .. code) end
return 1
