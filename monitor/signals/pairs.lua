-- Keeps the pairs the aggregators found (monitor/signals/pairfinder.py) for one tag, each once.
-- KEYS: as the apply script's. ARGV: retention_ms, the largest window (ms), the codes of the
-- pairs sets (JSON, in the order of KEYS), the most posts one key may have in one bucket, the
-- pairs' log records (pairlog.lua, 64 bytes each, in order), the pairs as one JSON array of
-- [pairs code, both posts' times (the earlier first), both accounts, [[key digest, the pairs set
-- member on that key], ...]], and the keys read viral as one JSON array of [namespace, key
-- digest, rule flags, bucket, [post, time, ...]] (coordinate.lua).
-- A pair is kept on the first of its keys that is calm around both posts now (coordinate.lua):
-- not at all when none is, or when its earlier post has left retention. A pair already kept is
-- left as it is. Returns how many pairs were added.
local ctx = {index = KEYS[5], features = KEYS[6], saturated = KEYS[7],
             window = tonumber(ARGV[2]), cap = tonumber(ARGV[4]), pairs = {}}
for j, name in ipairs(cjson.decode(ARGV[3])) do ctx.pairs[name] = KEYS[9 + j] end
local tally_ctx = tally_keys(#KEYS - #TALLY_NAMES - #LOG_CODES)
local log = PairLog.new({logs = tally_ctx.logs, names = tally_ctx.names, pairs = ctx.pairs,
                         counts = tally_ctx.counts}, TALLY_LEVEL)
local coordination = Coordination.new(ctx, log)
local top = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local cutoff = top[2] and tonumber(top[2]) - tonumber(ARGV[1]) or 0
local records = ARGV[5]

for _, found in ipairs(cjson.decode(ARGV[7])) do
  coordination:viral({found[1], found[2], found[3]}, found[4], found[5])
end

local kept = {}  -- code -> the chosen members and what their log records need
for row, found in ipairs(cjson.decode(ARGV[6])) do
  local code, first, second = found[1], found[2], found[3]
  local namespace = string.sub(code, 1, 1)
  for _, candidate in ipairs(first >= cutoff and found[6] or {}) do
    local entry = {namespace, candidate[1]}
    if coordination:calm(entry, first) and coordination:calm(entry, second) then
      local set = kept[code] or {}
      kept[code] = set
      set[#set + 1] = {candidate[2], first, string.sub(records, 64 * row - 63, 64 * row),
                       candidate[1], found[4], found[5]}
      break
    end
  end
end

local added = 0
for code, set in pairs(kept) do
  local members, scored = {}, {}
  for j, found in ipairs(set) do members[j] = found[1] end
  for first = 1, #members, 1000 do
    local last = math.min(first + 999, #members)
    local scores = redis.call('ZMSCORE', ctx.pairs[code], unpack(members, first, last))
    for j = first, last do
      if not scores[j - first + 1] then
        local found = set[j]
        scored[#scored + 1] = found[2]
        scored[#scored + 1] = found[1]
        log:made(code, found[2], found[3], found[4], found[5], found[6])
      end
    end
  end
  for first = 1, #scored, 1000 do
    redis.call('ZADD', ctx.pairs[code], unpack(scored, first, math.min(first + 999, #scored)))
  end
  added = added + #scored / 2
end
log:flush(cutoff, false)  -- drops by a viral key may have the logs rewritten
if added > 0 then redis.call('INCR', KEYS[#KEYS]) end
return added
