-- Counts into a tag's tallies the posts that arrived before them, a chunk a call, oldest first,
-- while the apply script keeps counting arrivals and departures up to the same mark; then
-- converts its pairs sets into the pair logs (pairlog.lua) the same way, in score order.
-- KEYS: timeline, records, the tally keys in keys.TALLIES order, then the pairs sets of the pair
-- logs, in LOG_CODES order.
-- ARGV: the tag, and how many posts (or pairs) one call counts.
-- Returns 1 once the tallies hold every retained post and pair, 0 while some remain.
local timeline, records = KEYS[1], KEYS[2]
local ctx = tally_keys(3)
ctx.timeline, ctx.tag, ctx.empty = timeline, ARGV[1], false
local chunk = tonumber(ARGV[2])
local level = redis.call('HGET', ctx.counts, 'level')
if level == TALLY_LEVEL then return 1 end
if level ~= TALLY_LEVEL .. '<' then  -- none yet, or another level's: start from nothing
  tally_reset(ctx)
  redis.call('HSET', ctx.counts, 'level', TALLY_LEVEL .. '<', 'upto', '')
end
-- The pairs, then done.
local mark = redis.call('HGET', ctx.counts, 'logs')
if mark then
  local pairs_keys = {}
  for j = 1, #LOG_CODES do pairs_keys[j] = KEYS[2 + #TALLY_NAMES + #LOG_CODES + j] end
  local log = PairLog.new({logs = ctx.logs, names = ctx.names, counts = ctx.counts}, TALLY_LEVEL)
  local next_mark = log:convert(mark, pairs_keys, chunk)
  if next_mark then
    redis.call('HSET', ctx.counts, 'logs', next_mark)
    return 0
  end
  redis.call('HSET', ctx.counts, 'level', TALLY_LEVEL)
  redis.call('HDEL', ctx.counts, 'upto', 'logs')
  return 1
end

local ALL_POSTS = '\255'  -- after every '<time>\0<post>' mark: the posts are all counted
local tally = Tally.new(ctx)
local start = 0
if tally.upto ~= '' then  -- the post after the mark; if the mark expired, so did all before it
  local rank = redis.call('ZRANK', timeline, string.sub(tally.upto, 15))
  if rank then start = rank + 1 end
end
local posts = redis.call('ZRANGE', timeline, start, start + chunk - 1, 'WITHSCORES')
local whole = redis.call('EXISTS', records) == 1
for j = 1, #posts, 2 do
  local raw = hashed_get(records, posts[j], whole)
  if raw then tally:count(posts[j], cjson.decode(raw), 1) end
end
tally:flush()
if #posts < 2 * chunk then  -- every post counted: the pairs next
  redis.call('HSET', ctx.counts, 'upto', ALL_POSTS, 'logs', '1:-1')
  return 0
end
redis.call('HSET', ctx.counts, 'upto', tally_stamp(tonumber(posts[#posts]), posts[#posts - 1]))
return 0
