-- Sorted-set reads for monitor.zsets, lexical ranges under many prefixes in one call.
-- KEYS[1]: the sorted set, or with ARGV[2] 'sharded' or 'hashed' the name of its shards: a
-- prefix's members are in '<KEYS[1]>:<the prefix's 3rd to 6th bytes>', or '<KEYS[1]>:<the first
-- three hex digits of the prefix's SHA-1>'. ARGV: what to read ('joined', 'first' or 'between'),
-- the layout ('whole', 'sharded' or 'hashed'), for 'between' the lowest and highest suffix,
-- then the prefixes. For each prefix, of the members that start with it and a NUL: all of them in
-- lexical order joined by NULs (one string: a reply of one string per prefix costs the client far
-- less than one per member), the first ('' for none), or those whose rest lies between the two
-- suffixes (a rest that starts with the highest counts too).
local what, layout, found = ARGV[1], ARGV[2], {}
local first_prefix = what == 'between' and 5 or 3
for j = first_prefix, #ARGV do
  local key = KEYS[1]
  if layout == 'sharded' then
    key = key .. ':' .. string.sub(ARGV[j], 3, 6)
  elseif layout == 'hashed' then
    key = key .. ':' .. string.sub(redis.sha1hex(ARGV[j]), 1, 3)
  end
  local low, high = '[' .. ARGV[j] .. '\0', '(' .. ARGV[j] .. '\1'
  if what == 'between' then
    low, high = low .. ARGV[3], '[' .. ARGV[j] .. '\0' .. ARGV[4] .. '\255'
  end
  if what == 'first' then
    found[#found + 1] = redis.call('ZRANGEBYLEX', key, low, high, 'LIMIT', 0, 1)[1] or ''
  elseif what == 'joined' then
    found[#found + 1] = table.concat(redis.call('ZRANGEBYLEX', key, low, high), '\0')
  else
    found[#found + 1] = redis.call('ZRANGEBYLEX', key, low, high)
  end
end
return found
