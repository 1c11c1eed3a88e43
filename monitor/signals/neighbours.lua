-- Reads for monitor.signals.pairfinder: the index members near each asked key and bucket.
-- KEYS[1]: the index (coordinate.lua). ARGV: the window W (ms), the most posts one key may have
-- in one bucket (cap), then '<namespace>\0<key digest>\0' prefixes and bucket numbers, in turn.
-- For each, the members under the prefix in the bucket and the two beside it: {'', members...}
-- when the three hold few enough that one bounded read took them all, else
-- {'<count before>,<count>,<count after>', the members of the buckets holding at most cap}.
local index, window, cap = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])

local function bound(prefix, t, edge)
  return edge .. prefix .. string.format('%013d', math.max(t, 0))
end

local found = {}
for j = 3, #ARGV, 2 do
  local prefix, bucket = ARGV[j], tonumber(ARGV[j + 1])
  local limit = 3 * cap + 3
  local hits = redis.call('ZRANGEBYLEX', index, bound(prefix, (bucket - 1) * window, '['),
    bound(prefix, (bucket + 2) * window - 1, '[') .. '\1', 'LIMIT', 0, limit)
  if #hits < limit then
    table.insert(hits, 1, '')
  else
    hits = {''}
    local counts = {}
    for b = bucket - 1, bucket + 1 do
      local low, high = bound(prefix, b * window, '['), bound(prefix, (b + 1) * window - 1, '[') .. '\1'
      local count = redis.call('ZLEXCOUNT', index, low, high)
      counts[#counts + 1] = string.format('%d', count)
      if count <= cap then
        for _, hit in ipairs(redis.call('ZRANGEBYLEX', index, low, high)) do hits[#hits + 1] = hit end
      end
    end
    hits[1] = table.concat(counts, ',')
  end
  found[#found + 1] = hits
end
return found
