-- Coordination, live: the index that pairs are found in, and its viral keys. Pairs are found by
-- the aggregators (monitor/signals/pairfinder.py), which read the index after this script has
-- added their posts to it, so that of any two posts the later one indexed sees the other; the
-- pairs script (pairs.lua) then keeps each pair once.
--
-- The index is one sorted set of
-- '<namespace>\0<key digest>\0<time ms, 13 digits>\0<[post, author, rule flags]>', read by
-- lexical range (see monitor.signals.matching). Pairs are one sorted set per behaviour and rule
-- of [a, p, b, q, dt ms, key digest, earlier time ms] (plus the token overlap and union for
-- co-similar), p < q, scored by the earlier post's time, so that retention drops them with it.
--
-- Viral keys: time is cut into buckets of W ms. When more than `cap` posts share one key in one
-- bucket (as the aggregators read the index once their posts are in it), the key is viral there: none of that bucket's posts is paired on that key (the pairs
-- already made through it are dropped) and they are listed as unpaired instead. The outcome does
-- not depend on arrival order: a bucket's count only grows until retention reaches it.
local SEP = '\0'

local function stamp(t)
  return string.format('%013d', math.max(t, 0))
end

local function member(entry, t, key, author)
  return entry[1] .. SEP .. entry[2] .. SEP .. stamp(t) .. SEP .. cjson.encode({key, author, entry[3]})
end

local AT = 1 + 1 + 16 + 1 + 1  -- where the time starts in an index member: namespaces are 1 byte

local function zadd(key, scored)  -- in slices: unpack has a stack limit
  for first = 1, #scored, 1000 do
    redis.call('ZADD', key, unpack(scored, first, math.min(first + 999, #scored)))
  end
end

local Coordination = {}
Coordination.__index = Coordination

-- ctx: the keys (index, features, saturated, authors, copies, pairs by '<namespace><rule
-- code>'), the window W in ms and cap; log: the PairLog that pairs made and dropped go to.
function Coordination.new(ctx, log)
  return setmetatable({ctx = ctx, log = log, cache = {}, loads = {}}, Coordination)
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

-- Posts indexed under one entry's key in one bucket; counted once per script call and kept up
-- to date as this call indexes posts.
function Coordination:load(entry, bucket)
  local field = entry[1] .. entry[2] .. bucket
  if self.loads[field] == nil then
    local prefix, window = entry[1] .. SEP .. entry[2] .. SEP, self.ctx.window
    self.loads[field] = redis.call('ZLEXCOUNT', self.ctx.index, '[' .. prefix .. stamp(bucket * window),
      '[' .. prefix .. stamp((bucket + 1) * window - 1) .. '\1')
  end
  return self.loads[field]
end

-- Whether at most `cap` posts hold an entry's key in the bucket of time t: pairs are made only
-- on such keys.
function Coordination:calm(entry, t)
  return self:load(entry, math.floor(t / self.ctx.window)) <= self.ctx.cap
end

-- A key just turned viral in a bucket: its posts there become unpaired on it.
function Coordination:purge(entry, bucket)
  local window, prefix = self.ctx.window, entry[1] .. SEP .. entry[2] .. SEP
  local start, stop = bucket * window, (bucket + 1) * window - 1
  local posts = redis.call('ZRANGEBYLEX', self.ctx.index,
    '[' .. prefix .. stamp(start), '[' .. prefix .. stamp(stop) .. '\1')
  for _, hit in ipairs(posts) do
    local t = tonumber(string.sub(hit, AT, AT + 12))
    redis.call('ZADD', self.ctx.saturated, t, entry[1] .. SEP .. cjson.decode(string.sub(hit, AT + 14))[1])
  end
  for _, code in ipairs(entry[3] == '-' and {'-'} or {'t', 'e'}) do
    local pairs_key, drop = self.ctx.pairs[entry[1] .. code], {}
    local gone = redis.call('ZRANGEBYSCORE', pairs_key, start - window, stop, 'WITHSCORES')
    local named = '"' .. entry[2] .. '"'  -- hex digests need no escaping in JSON
    for j = 1, #gone, 2 do
      -- the range holds every key's pairs: only rows that name this key are decoded
      if string.find(gone[j], named, 1, true) then
        local pair, first = cjson.decode(gone[j]), tonumber(gone[j + 1])
        local second = first + pair[5]
        local inside = (first >= start and first <= stop) or (second >= start and second <= stop)
        if pair[6] == entry[2] and inside then
          table.insert(drop, gone[j])
          self.log:add(entry[1] .. code, pair, -1)
          local other = entry[1] == 's' and self:other_token(pair, code, entry[2])
          if other then
            pair[6] = other
            redis.call('ZADD', pairs_key, first, cjson.encode(pair))
            self.log:add(entry[1] .. code, pair, 1)
          end
        end
      end
    end
    for first = 1, #drop, 1000 do
      redis.call('ZREM', pairs_key, unpack(drop, first, math.min(first + 999, #drop)))
    end
  end
end

-- Another prefix token, not viral around either post, through which a co-similar pair whose
-- token just turned viral is still found; nil when there is none.
function Coordination:other_token(pair, code, viral)
  local mine, theirs = self:features(pair[2]), self:features(pair[4])
  if not (mine and theirs) then return nil end
  local times = {pair[7], pair[7] + pair[5]}  -- both posts' times: the earlier, and dt after it
  local shared = {}
  for _, e in ipairs(theirs.e) do
    if e[1] == 's' and string.find(e[3], code, 1, true) then shared[e[2]] = true end
  end
  for _, e in ipairs(mine.e) do
    if e[1] == 's' and e[2] ~= viral and shared[e[2]] and string.find(e[3], code, 1, true) then
      if self:calm(e, times[1]) and self:calm(e, times[2]) then return e[2] end
    end
  end
  return nil
end

-- Indexes a new post (features `raw`, JSON, of which `f` holds the author and the entries).
function Coordination:add(key, t, raw, f)
  self.cache[key] = f
  local indexed = {}
  for _, entry in ipairs(f.e) do
    indexed[#indexed + 1] = 0
    indexed[#indexed + 1] = member(entry, t, key, f.a)
  end
  zadd(self.ctx.index, indexed)
  redis.call('HSET', self.ctx.features, key, raw)
  self:count_copies(f, 1)
end

-- A key an aggregator read more than cap posts of in one bucket (entry {namespace, digest,
-- flags}): the posts it names there ({post, time, ...}) are unpaired on it, and the first time
-- (a marker in the unpaired set, '!' and the entry and bucket, leaves with the bucket), the
-- bucket's pairs on it are dropped.
function Coordination:viral(entry, bucket, posts)
  for j = 1, #posts, 2 do
    redis.call('ZADD', self.ctx.saturated, posts[j + 1], entry[1] .. SEP .. posts[j])
  end
  local marker = '!' .. entry[1] .. SEP .. entry[2] .. SEP .. string.format('%d', bucket)
  local last = string.format('%d', (bucket + 1) * self.ctx.window - 1)
  if redis.call('ZADD', self.ctx.saturated, 'NX', last, marker) == 1 then
    self:purge(entry, bucket)
  end
end

-- Copy-paste clusters: distinct accounts per content key, kept as posts come and go.
-- Members are '<rule code>\0<content digest>'.
function Coordination:count_copies(f, step)
  for _, entry in ipairs(f.e) do
    if entry[1] == 'p' then
      for code in string.gmatch(entry[3], '.') do
        local content = code .. SEP .. entry[2]
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
end

-- Drops expired posts from the index; pairs go by score, with the earlier of their posts.
function Coordination:expire(expired_with_times, cutoff)
  local bound = '(' .. string.format('%d', cutoff)
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
    redis.call('ZREMRANGEBYSCORE', pairs_key, '-inf', bound)
  end
  redis.call('ZREMRANGEBYSCORE', self.ctx.saturated, '-inf', bound)
end
