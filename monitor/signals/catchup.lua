-- Counts into a tag's tallies the posts that arrived before them, a chunk a call, oldest first,
-- while the apply script keeps counting arrivals and departures up to the same mark.
-- KEYS: timeline, records, then the tally keys in keys.TALLIES order.
-- ARGV: the tag, and how many posts one call counts.
-- Returns 1 once the tallies hold every retained post, 0 while some remain.
local timeline, records = KEYS[1], KEYS[2]
local ctx = {counts = KEYS[3], totals = KEYS[4], accounts = KEYS[5], talk = KEYS[6],
             urls = KEYS[7], cotags = KEYS[8], minutes = KEYS[9], times = KEYS[10],
             created = KEYS[11], series = KEYS[12], timeline = timeline, tag = ARGV[1],
             empty = false}
local chunk = tonumber(ARGV[2])
local level = redis.call('HGET', ctx.counts, 'level')
if level == TALLY_LEVEL then return 1 end
if level ~= TALLY_LEVEL .. '<' then  -- none yet, or another level's: start from nothing
  tally_reset(ctx)
  redis.call('HSET', ctx.counts, 'level', TALLY_LEVEL .. '<', 'upto', '')
end
local tally = Tally.new(ctx)
local start = 0
if tally.upto ~= '' then  -- the post after the mark; if the mark expired, so did all before it
  local rank = redis.call('ZRANK', timeline, string.sub(tally.upto, 15))
  if rank then start = rank + 1 end
end
local posts = redis.call('ZRANGE', timeline, start, start + chunk - 1, 'WITHSCORES')
for j = 1, #posts, 2 do
  local raw = redis.call('HGET', records, posts[j])
  if raw then tally:count(posts[j], cjson.decode(raw), 1) end
end
tally:flush()
if #posts < 2 * chunk then
  redis.call('HSET', ctx.counts, 'level', TALLY_LEVEL)
  redis.call('HDEL', ctx.counts, 'upto')
  return 1
end
redis.call('HSET', ctx.counts, 'upto', tally_stamp(tonumber(posts[#posts]), posts[#posts - 1]))
return 0
