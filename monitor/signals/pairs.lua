-- Keeps the pairs the aggregators found (monitor/signals/pairfinder.py) for one tag, each once.
-- KEYS: as the apply script's. ARGV: retention_ms, the largest window (ms), the codes of the
-- pairs sets (JSON, in the order of KEYS), the most posts one key may have in one bucket, the
-- pairs as one JSON array of [pairs code, [a, p, b, q, dt ms, '', earlier time ms(, shared,
-- union)], [key digests]], and their pair log records (pairlog.lua), 64 bytes each, in order.
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
local records = ARGV[6]

local kept = {}  -- code -> {members, rows, records}
for j, found in ipairs(cjson.decode(ARGV[5])) do
  local code, row = found[1], found[2]
  for _, digest in ipairs(row[7] >= cutoff and found[3] or {}) do
    local entry = {string.sub(code, 1, 1), digest}
    if coordination:calm(entry, row[7]) and coordination:calm(entry, row[7] + row[5]) then
      row[6] = digest
      local set = kept[code] or {members = {}, rows = {}, records = {}}
      kept[code] = set
      set.members[#set.members + 1] = cjson.encode(row)
      set.rows[#set.rows + 1] = row
      set.records[#set.records + 1] = string.sub(records, 64 * j - 63, 64 * j)
      break
    end
  end
end

local added = 0
for code, set in pairs(kept) do
  local scored = {}
  for first = 1, #set.members, 1000 do
    local last = math.min(first + 999, #set.members)
    local scores = redis.call('ZMSCORE', ctx.pairs[code], unpack(set.members, first, last))
    for j = first, last do
      if not scores[j - first + 1] then
        scored[#scored + 1] = set.rows[j][7]
        scored[#scored + 1] = set.members[j]
        log:made(code, set.rows[j], set.records[j])
      end
    end
  end
  for first = 1, #scored, 1000 do
    redis.call('ZADD', ctx.pairs[code], unpack(scored, first, math.min(first + 999, #scored)))
  end
  added = added + #scored / 2
end
log:flush(cutoff, false)
if added > 0 then redis.call('INCR', KEYS[#KEYS]) end
return added
