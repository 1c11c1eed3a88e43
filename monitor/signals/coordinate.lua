-- Coordination, live: matches each new post against the tag's posts within the largest window a
-- query may ask for, in either time direction, and keeps every matching pair.
-- The index is one sorted set of '<index>\0<key digest>\0<time ms, 13 digits>\0<[post, author]>'
-- read by lexical range; pairs are one sorted set per index of [a, p, b, q, dt ms] (plus the
-- token overlap and union for co-similar), p < q, scored by the earlier post's time, so that
-- retention drops them with it. A pair is found once, when its later-arriving post is applied,
-- so arrival order does not change the result; re-delivered posts never reach this code.
local SEP = '\0'

local function stamp(t)
  return string.format('%013d', math.max(t, 0))
end

local function member(entry, t, key, author)
  return entry[1] .. SEP .. entry[2] .. SEP .. stamp(t) .. SEP .. cjson.encode({key, author})
end

local function zadd(key, scored)  -- in slices: unpack has a stack limit
  for first = 1, #scored, 1000 do
    redis.call('ZADD', key, unpack(scored, first, math.min(first + 999, #scored)))
  end
end

local Coordination = {}
Coordination.__index = Coordination

-- ctx: index key, features hash key, saturated set key, copy-paste keys (authors per content
-- key, and accounts per content key), pairs keys by index name, window ms,
-- the lowest co-similar threshold as numerator/denominator, and the most posts one post is
-- paired with per key (beyond it, the post's entry is counted as saturated instead).
function Coordination.new(ctx)
  return setmetatable({ctx = ctx, cache = {}}, Coordination)
end

function Coordination:features(key)
  local cached = self.cache[key]
  if cached == nil then
    local raw = redis.call('HGET', self.ctx.features, key)
    cached = raw and cjson.decode(raw) or false
    self.cache[key] = cached
  end
  return cached
end

local function overlap(mine, theirs)
  local set, shared = {}, 0
  for _, token in ipairs(mine) do set[token] = true end
  for _, token in ipairs(theirs) do if set[token] then shared = shared + 1 end end
  return shared, #mine + #theirs - shared
end

-- The pair of (key, t, f) with a post found in the index, or nil when it is no match.
function Coordination:pair(index, key, t, f, hit)
  local at = #index + 2 + 16 + 1
  local tq = tonumber(string.sub(hit, at, at + 12))
  local other = cjson.decode(string.sub(hit, at + 14))
  local q, b = other[1], other[2]
  if q == key or b == f.a then return nil end
  local row = key < q and {f.a, key, b, q} or {b, q, f.a, key}
  row[5] = math.abs(t - tq)
  local rule = string.match(index, '^co%-similar:(.*)$')
  if rule then
    local theirs = self:features(q)
    if not theirs then return nil end
    local shared, union = overlap(f.s[rule], theirs.s[rule])
    if shared * self.ctx.den < self.ctx.num * union then return nil end
    row[6], row[7] = shared, union
  end
  return row, math.min(t, tq)
end

function Coordination:add(key, t, raw)
  local f = cjson.decode(raw)
  self.cache[key] = f
  local window, found = self.ctx.window, {}
  for _, entry in ipairs(f.e) do
    local prefix = entry[1] .. SEP .. entry[2] .. SEP
    local hits = redis.call('ZRANGEBYLEX', self.ctx.index,
      '[' .. prefix .. stamp(t - window), '[' .. prefix .. stamp(t + window) .. '\1',
      'LIMIT', 0, self.ctx.cap + 1)
    if #hits > self.ctx.cap then  -- viral content: counted, not paired (see the Python side)
      redis.call('ZADD', self.ctx.saturated, t, entry[1] .. SEP .. key)
      hits = {}
    end
    for _, hit in ipairs(hits) do
      local row, score = self:pair(entry[1], key, t, f, hit)
      if row then
        local pairs_key = self.ctx.pairs[entry[1]]
        found[pairs_key] = found[pairs_key] or {}
        table.insert(found[pairs_key], score)
        table.insert(found[pairs_key], cjson.encode(row))
      end
    end
  end
  for pairs_key, scored in pairs(found) do zadd(pairs_key, scored) end
  local indexed = {}
  for _, entry in ipairs(f.e) do
    table.insert(indexed, 0)
    table.insert(indexed, member(entry, t, key, f.a))
  end
  zadd(self.ctx.index, indexed)
  redis.call('HSET', self.ctx.features, key, raw)
  self:count_copies(f, 1)
end

-- Copy-paste clusters: distinct accounts per content key, kept as posts come and go.
function Coordination:count_copies(f, step)
  for _, entry in ipairs(f.e) do
    if string.sub(entry[1], 1, 8) == 'co-post:' then
      local content = entry[1] .. SEP .. entry[2]
      local posts = redis.call('HINCRBY', self.ctx.authors, content .. SEP .. f.a, step)
      if step > 0 and posts == 1 then
        redis.call('ZINCRBY', self.ctx.copies, 1, content)
      elseif step < 0 and posts <= 0 then
        redis.call('HDEL', self.ctx.authors, content .. SEP .. f.a)
        if tonumber(redis.call('ZINCRBY', self.ctx.copies, -1, content)) <= 0 then
          redis.call('ZREM', self.ctx.copies, content)
        end
      end
    end
  end
end

-- Drops expired posts from the index; pairs go by score, with the earlier of their posts.
function Coordination:expire(expired_with_times, cutoff_bound)
  for j = 1, #expired_with_times, 2 do
    local key, t = expired_with_times[j], tonumber(expired_with_times[j + 1])
    local f = self:features(key)
    if f then
      local gone = {}
      for _, entry in ipairs(f.e) do table.insert(gone, member(entry, t, key, f.a)) end
      if #gone > 0 then redis.call('ZREM', self.ctx.index, unpack(gone)) end
      redis.call('HDEL', self.ctx.features, key)
      self:count_copies(f, -1)
    end
  end
  for _, pairs_key in pairs(self.ctx.pairs) do
    redis.call('ZREMRANGEBYSCORE', pairs_key, '-inf', cutoff_bound)
  end
  redis.call('ZREMRANGEBYSCORE', self.ctx.saturated, '-inf', cutoff_bound)
end
