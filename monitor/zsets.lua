-- Sorted-set reads for monitor.zsets. KEYS[1]: the sorted set. ARGV[1] says which read:
-- 'scored', low, high: members with scores in [low, high] and their scores, flat;
-- 'members' | 'ends', prefixes...: for each prefix, the members that start with it and a NUL
-- (in lexical order), or the first and last of them ('' for none).
local what, key = ARGV[1], KEYS[1]
if what == 'scored' then
  return redis.call('ZRANGEBYSCORE', key, ARGV[2], ARGV[3], 'WITHSCORES')
end
local found = {}
for j = 2, #ARGV do
  local low, high = '[' .. ARGV[j] .. '\0', '(' .. ARGV[j] .. '\1'
  if what == 'ends' then
    local first = redis.call('ZRANGEBYLEX', key, low, high, 'LIMIT', 0, 1)[1]
    local last = redis.call('ZREVRANGEBYLEX', key, high, low, 'LIMIT', 0, 1)[1]
    found[j - 1] = {first or '', last or ''}
  else
    found[j - 1] = redis.call('ZRANGEBYLEX', key, low, high)
  end
end
return found
