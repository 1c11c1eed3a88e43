-- Coordination, live: matches each new post against the tag's posts within the largest window a
-- query may ask for (W), in either time direction, and keeps every matching pair.
--
-- The index holds '<namespace>\0<key digest>\0<time ms, 13 digits>\0<[post, author, rule
-- flags]>', read by lexical range (see monitor.signals.matching), in 65,536 sorted sets named
-- after the first four hex digits of the digest ('<index>:<abcd>'): small enough that Redis keeps
-- most in its compact encoding (up to 128 members of up to 128 bytes: zset-max-ziplist-value 128),
-- at about two thirds of the bytes a member of one large set takes. An index written whole into
-- '<index>' (earlier versions) is read beside them until retention empties it.
--
-- Pairs are one sorted set per behaviour and rule of [a, p, b, q, dt ms, key digest, earlier time
-- ms] (plus the token overlap and union for co-similar, or a mark on a co-post or co-link pair
-- both rules give), p < q, scored by the earlier post's time, so that retention drops them with
-- it. A pair is found once, when its later-arriving post is applied; re-delivered posts never
-- reach this code.
--
-- Viral keys: time is cut into buckets of W ms. When more than `cap` posts share one key in one
-- bucket, the key is viral there: none of that bucket's posts is paired on that key (the pairs
-- already made through it are dropped) and they are listed as unpaired instead. The outcome does
-- not depend on arrival order: a bucket's count only grows until retention reaches it.
local SEP = '\0'

local function stamp(t)
  return string.format('%013d', math.max(t, 0))
end

local function member(entry, t, key, author)
  return entry[1] .. SEP .. entry[2] .. SEP .. stamp(t) .. SEP .. cjson.encode({key, author, entry[3]})
end

local RULES = {t = 'toolkit', e = 'extended'}

-- A post's stored features: MessagePack (monitor.signals.matching.pack), or JSON where earlier
-- versions stored them (a JSON object starts with '{', a packed map never does).
local function unpack_features(raw)
  if string.byte(raw, 1) == 123 then return cjson.decode(raw) end
  return cmsgpack.unpack(raw)
end

local AT = 1 + 1 + 16 + 1 + 1  -- where the time starts in an index member: namespaces are 1 byte

local function zadd(key, scored)  -- in slices: unpack has a stack limit
  for first = 1, #scored, 1000 do
    redis.call('ZADD', key, unpack(scored, first, math.min(first + 999, #scored)))
  end
end

-- Tokens shared with a set (`mine`, token -> true, of `size` tokens), and the union's size.
local function overlap(mine, size, theirs)
  local shared = 0
  for _, token in ipairs(theirs) do if mine[token] then shared = shared + 1 end end
  return shared, size + #theirs - shared
end

-- A post's co-similar tokens under a rule: features keep the extended ones only where they
-- differ from the toolkit ones, and as positions among those where they can
-- (monitor.signals.matching.stored); positions are read once per features table.
local function post_tokens(f, rule)
  local tokens = f.s[rule] or f.s.toolkit or {}
  if type(tokens[1]) == 'number' then
    local named = {}
    for j, position in ipairs(tokens) do named[j] = f.s.toolkit[position + 1] end
    f.s[rule] = named
    tokens = named
  end
  return tokens
end

local Coordination = {}
Coordination.__index = Coordination

-- ctx: the keys (index, features, saturated, authors, copies, pairs by '<namespace><rule
-- code>'), the window W in ms, the lowest co-similar threshold as num/den, and cap; log: the
-- PairLog that pairs made and dropped go to.
function Coordination.new(ctx, log)
  local legacy = redis.call('EXISTS', ctx.index) == 1
  -- features are split by post key (hashed.lua); earlier versions kept them whole, in
  -- ctx.features, read beside the shards until retention empties it
  local whole_features = redis.call('EXISTS', ctx.features) == 1
  return setmetatable({ctx = ctx, log = log, legacy = legacy, whole_features = whole_features,
                       cache = {}, loads = {}, hits = {}, sets = {}, shards = {}}, Coordination)
end

-- The index's sorted sets that may hold an entry's key: its shard first, then the whole index
-- of earlier versions while it has entries. Named once per digest and call.
function Coordination:sets_of(entry)
  local found = self.shards[entry[2]]
  if found == nil then
    found = {self.ctx.index .. ':' .. string.sub(entry[2], 1, 4), self.legacy and self.ctx.index}
    self.shards[entry[2]] = found
  end
  return found
end

-- Index members under an entry's key from `low` to `high` (lexical bounds), in no set order; at
-- most `limit` from each set when it is given.
local function lexrange(set, low, high, limit)
  if limit then return redis.call('ZRANGEBYLEX', set, low, high, 'LIMIT', 0, limit) end
  return redis.call('ZRANGEBYLEX', set, low, high)
end

function Coordination:range(entry, low, high, limit)
  local sets = self:sets_of(entry)
  local hits = lexrange(sets[1], low, high, limit)
  if sets[2] then
    for _, hit in ipairs(lexrange(sets[2], low, high, limit)) do hits[#hits + 1] = hit end
  end
  return hits
end

function Coordination:count(entry, low, high)
  local sets = self:sets_of(entry)
  local n = redis.call('ZLEXCOUNT', sets[1], low, high)
  return sets[2] and n + redis.call('ZLEXCOUNT', sets[2], low, high) or n
end

function Coordination:features(key)
  local cached = self.cache[key]
  if cached == nil then
    local raw = hashed_get(self.ctx.features, key, self.whole_features)
    cached = raw and unpack_features(raw) or false
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
    self.loads[field] = self:count(entry, '[' .. prefix .. stamp(bucket * window),
      '[' .. prefix .. stamp((bucket + 1) * window - 1) .. '\1')
  end
  return self.loads[field]
end

-- A hit's post, author and rule flags, decoded once per script call.
function Coordination:hit(hit)
  local found = self.hits[hit]
  if found == nil then
    found = cjson.decode(string.sub(hit, AT + 14))
    self.hits[hit] = found
  end
  return found
end

-- The token set of a post's features under one rule, and its size, built once per call.
function Coordination:token_set(key, f, rule)
  local cached = self.sets[key .. SEP .. rule]
  if cached == nil then
    local set = {}
    local tokens = post_tokens(f, rule)
    for _, token in ipairs(tokens) do set[token] = true end
    cached = {set, #tokens}
    self.sets[key .. SEP .. rule] = cached
  end
  return cached[1], cached[2]
end

local function holds(flags, code) return string.find(flags, code, 1, true) ~= nil end

-- Co-post and co-link pairs that both rules give (the key is both posts' under both rules) are
-- kept once, in the extended set, their row marked (an eighth element, 1): the toolkit rule's
-- readers find them there. (Co-similar pairs differ: the toolkit's tokens keep punctuation.)
local function both_rules(entry, flags)
  return (entry[1] == 'p' or entry[1] == 'l') and entry[3] == 'te' and flags == 'te'
end

-- The pair rows of post `key` (features f, time t) with an index hit, by pairs key: one per
-- rule both posts hold the key for, and for co-similar only where the tokens are similar enough.
-- A co-similar pair is kept once, whichever shared prefix token found it first (`done`).
function Coordination:pair(entry, key, t, f, hit, found, done)
  local tq = tonumber(string.sub(hit, AT, AT + 12))
  local other = self:hit(hit)
  local q, b, flags = other[1], other[2], other[3]
  if q == key or b == f.a then return end
  local both = both_rules(entry, flags)
  for code in string.gmatch(both and 'e' or entry[3], '.') do
    local once = entry[1] == 's' and q .. SEP .. code
    if holds(flags, code) and not (once and done[once]) then
      if once then done[once] = true end
      local row = key < q and {f.a, key, b, q} or {b, q, f.a, key}
      row[5], row[6], row[7] = math.abs(t - tq), entry[2], math.min(t, tq)
      local similar = true
      if entry[1] == 's' then
        local theirs = self:features(q)
        local mine, size = self:token_set(key, f, RULES[code])
        local their_tokens = theirs and post_tokens(theirs, RULES[code]) or {}
        local shared, union = overlap(mine, size, their_tokens)
        similar = theirs and shared * self.ctx.den >= self.ctx.num * union
        row[8], row[9] = shared, union
      end
      if both then row[8] = 1 end
      if similar then
        local pairs_key = self.ctx.pairs[entry[1] .. code]
        found[pairs_key] = found[pairs_key] or {}
        table.insert(found[pairs_key], math.min(t, tq))
        table.insert(found[pairs_key], cjson.encode(row))
        self.log:add(entry[1] .. code, row, 1)
      end
    end
  end
end

-- Posts sharing an entry's key in the bucket of t and the two beside it, and their count per
-- bucket; one read when none of the three is viral, one read per bucket otherwise.
function Coordination:neighbours(entry, t)
  local window, cap = self.ctx.window, self.ctx.cap
  local prefix = entry[1] .. SEP .. entry[2] .. SEP
  local bucket = math.floor(t / window)
  local limit = 3 * cap + 3
  local hits = self:range(entry, '[' .. prefix .. stamp((bucket - 1) * window),
    '[' .. prefix .. stamp((bucket + 2) * window - 1) .. '\1', limit)
  local counts = {[bucket - 1] = 0, [bucket] = 0, [bucket + 1] = 0}
  if #hits < limit then
    for _, hit in ipairs(hits) do
      local b = math.floor(tonumber(string.sub(hit, AT, AT + 12)) / window)
      counts[b] = counts[b] + 1
    end
    return hits, counts
  end
  hits = {}
  for b = bucket - 1, bucket + 1 do
    counts[b] = self:load(entry, b)
    if counts[b] <= cap then
      for _, hit in ipairs(self:range(entry, '[' .. prefix .. stamp(b * window),
          '[' .. prefix .. stamp((b + 1) * window - 1) .. '\1')) do
        table.insert(hits, hit)
      end
    end
  end
  return hits, counts
end

-- A key just turned viral in a bucket: its posts there become unpaired on it.
function Coordination:purge(entry, bucket)
  local window, prefix = self.ctx.window, entry[1] .. SEP .. entry[2] .. SEP
  local start, stop = bucket * window, (bucket + 1) * window - 1
  local low, high = '[' .. prefix .. stamp(start), '[' .. prefix .. stamp(stop) .. '\1'
  local posts = self:range(entry, low, high)
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

-- Another prefix token, not viral around either post (the one being added counted in), through
-- which a co-similar pair whose token just turned viral is still found; nil when there is none.
function Coordination:other_token(pair, code, viral)
  local mine, theirs = self:features(pair[2]), self:features(pair[4])
  if not (mine and theirs) then return nil end
  local times = {pair[7], pair[7] + pair[5]}  -- both posts' times: the earlier, and dt after it
  local shared = {}
  for _, e in ipairs(theirs.e) do
    if e[1] == 's' and holds(e[3], code) then shared[e[2]] = true end
  end
  for _, e in ipairs(mine.e) do
    if e[1] == 's' and e[2] ~= viral and shared[e[2]] and holds(e[3], code) then
      local calm = true
      for _, t in ipairs(times) do
        calm = calm and self:held(e, math.floor(t / self.ctx.window)) <= self.ctx.cap
      end
      if calm then return e[2] end
    end
  end
  return nil
end

-- Posts indexed under an entry's key in a bucket, with the post being added when it has that
-- key there: it counts before it is indexed, as `add` counts it.
function Coordination:held(entry, bucket)
  local adding = self.adding
  local own = adding and adding.keys[entry[1] .. entry[2]] and adding.bucket == bucket
  return self:load(entry, bucket) + (own and 1 or 0)
end

function Coordination:add(key, t, raw)
  local f = unpack_features(raw)
  self.cache[key] = f
  self.adding = {bucket = math.floor(t / self.ctx.window), keys = {}}
  for _, entry in ipairs(f.e) do self.adding.keys[entry[1] .. entry[2]] = true end
  local found, done = {}, {}
  for _, entry in ipairs(f.e) do
    local window, bucket = self.ctx.window, math.floor(t / self.ctx.window)
    local hits, counts = self:neighbours(entry, t)
    local count = counts[bucket] + 1  -- with this post, indexed below
    if count > self.ctx.cap then
      redis.call('ZADD', self.ctx.saturated, t, entry[1] .. SEP .. key)
      if count == self.ctx.cap + 1 then self:purge(entry, bucket) end
    else
      for _, hit in ipairs(hits) do
        local tq = tonumber(string.sub(hit, AT, AT + 12))
        if math.abs(t - tq) <= window and counts[math.floor(tq / window)] <= self.ctx.cap then
          self:pair(entry, key, t, f, hit, found, done)
        end
      end
    end
  end
  for pairs_key, scored in pairs(found) do zadd(pairs_key, scored) end
  for _, entry in ipairs(f.e) do
    redis.call('ZADD', self:sets_of(entry)[1], 0, member(entry, t, key, f.a))
  end
  local bucket = math.floor(t / self.ctx.window)
  for _, entry in ipairs(f.e) do
    local field = entry[1] .. entry[2] .. bucket
    if self.loads[field] ~= nil then self.loads[field] = self.loads[field] + 1 end
  end
  self.adding = nil
  redis.call('HSET', hashed_shard(self.ctx.features, key), key, raw)
  self:count_copies(f, key, 1)
end

-- Copy-paste clusters: distinct accounts per content key, counted from the key's second post
-- under a rule on (most texts are posted once: those cost nothing here). Members are
-- '<rule code>\0<content digest>'. A key without one has at most one post under that rule, so
-- when another comes the one already indexed is counted in too.
function Coordination:count_copies(f, key, step)
  for _, entry in ipairs(f.e) do
    if entry[1] == 'p' then
      for code in string.gmatch(entry[3], '.') do
        local content = code .. SEP .. entry[2]
        if redis.call('ZSCORE', self.ctx.copies, content) then
          self:copy(content, f.a, step)
        elseif step > 0 then
          local others = self:posted_before(entry, code, key)
          if #others > 0 then
            for _, author in ipairs(others) do self:copy(content, author, 1) end
            self:copy(content, f.a, 1)
          end
        end
      end
    end
  end
end

-- The authors of the indexed posts other than `key` that hold a content entry under a rule.
function Coordination:posted_before(entry, code, key)
  local key_of = entry[1] .. SEP .. entry[2]
  local low, high = '[' .. key_of .. SEP, '(' .. key_of .. '\1'  -- every time under the key
  local authors = {}
  if self:count(entry, low, high) < 2 then return authors end
  for _, hit in ipairs(self:range(entry, low, high)) do
    local other = self:hit(hit)
    if other[1] ~= key and holds(other[3], code) then
      table.insert(authors, other[2])
    end
  end
  return authors
end

-- One more (step 1) or one fewer (-1) post of an author with a content key.
function Coordination:copy(content, author, step)
  local posts = redis.call('HINCRBY', self.ctx.authors, content .. SEP .. author, step)
  if step > 0 and posts == 1 then
    redis.call('ZINCRBY', self.ctx.copies, 1, content)
  elseif step < 0 and posts <= 0 then
    redis.call('HDEL', self.ctx.authors, content .. SEP .. author)
    if tonumber(redis.call('ZINCRBY', self.ctx.copies, -1, content)) <= 0 then
      redis.call('ZREM', self.ctx.copies, content)
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
      for _, entry in ipairs(f.e) do
        local sets, indexed = self:sets_of(entry), member(entry, t, key, f.a)
        redis.call('ZREM', sets[1], indexed)
        if sets[2] then redis.call('ZREM', sets[2], indexed) end
      end
      redis.call('HDEL', hashed_shard(self.ctx.features, key), key)
      if self.whole_features then redis.call('HDEL', self.ctx.features, key) end
      self:count_copies(f, key, -1)
    end
  end
  for _, pairs_key in pairs(self.ctx.pairs) do
    redis.call('ZREMRANGEBYSCORE', pairs_key, '-inf', bound)
  end
  redis.call('ZREMRANGEBYSCORE', self.ctx.saturated, '-inf', bound)
end
