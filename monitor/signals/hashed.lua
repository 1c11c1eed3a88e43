-- Per-post state split into 4,096 small keys by the first three hex digits of the SHA-1 of the
-- field, '<key>:<abc>' (monitor/hashed.py), so that Redis keeps each compact.
local function hashed_shard(key, field)
  return key .. ':' .. string.sub(redis.sha1hex(field), 1, 3)
end

-- A field of a split hash, or of the whole hash earlier versions kept it in while `whole` (that
-- hash exists) is true; nil where neither holds it.
local function hashed_get(key, field, whole)
  local found = redis.call('HGET', hashed_shard(key, field), field)
  if not found and whole then found = redis.call('HGET', key, field) end
  return found or nil
end
