-- Tallies: what a tag's report shows over everything the tag retains, kept as posts arrive and
-- leave, so that such a report reads a few hundred fields instead of every record.
--
-- counts (hash), where <account> is '<platform>\0<account id>' and <ref> '<platform>:<post id>':
--   'level'                            TALLY_LEVEL when they hold every retained post: set
--                                      when a tag's first post arrives. A tag whose posts came
--                                      before (or with another level) is reported from its
--                                      records while they catch up (catchup.lua): then it is
--                                      TALLY_LEVEL .. '<', and they hold the posts up to
--   'upto'                             '<time, 13 digits>\0<post>' (nothing when empty),
--                                      counting those as they arrive and leave, not the others;
--                                      '\255' once every post is counted and the pairs follow:
--   'logs'                             '<position>:<score>', how far the pair logs hold the
--                                      pairs (pairlog.lua)
--   'h\0<account>'                     [time, post, handle] of the account's newest post
--   'v\0<h|d>\0<bucket>\0<kind>'       posts by kind per hour or day (minutes: the volume hash)
--   'n\0<m|h|d>\0<bucket>'             people per minute, hour or day: the accounts with
--                                      posts in it in 'times'
--   'k\0<ref>\0<kind>'                 posts that repost, quote or reply to <ref>, by kind
--   't\0<ref>\0<account>'              ... by account, leaving out the ref's own author
--   'q\0<ref>'                         people talking about <ref>: its accounts in 't'
--   'u\0<ref>\0<url>'                  talking posts that give <url> as <ref>'s address
--   'c\0<account>'                     [time, post, creation ms] of the account's newest post
--                                      that gives when the account was created
--   'o\0<account>'                     '<creation day>:<1 if new>' as counted in 'created'
-- totals (hash): '<kind>' and '@<platform>' -> posts
-- accounts (zset): account -> minus its posts (most active first, ties by account)
-- talk (zset): ref -> minus its people talking, while any post talks about it
-- urls (zset): '<ref>\0<url>' at score 0, read by lexical range (a ref's smallest address)
-- cotags (zset): another tag -> minus the posts that carry it too
-- minutes (zset): minute number (15 digits) -> minus its posts (busiest first, ties by earliest)
-- times (zsets): '<account id>\0<platform>\0<time ms, 13 digits>\0<post>' at score 0, read by
--   lexical range: an account's posts in time order, and all posts of an account id; split by
--   account id (hashed.lua: '<times>:<abc>'), levels before 5 kept them in '<times>' whole
-- created (hash): creation day number -> accounts created that day; 'new': those of all of them
--   whose first retained post came within NEW_DAYS of their creation
-- series (string): posts and people of each minute from the minute in the counts field
--   'series' on, as two big-endian u32 (BITFIELD #2i and #2i+1): what bursts are found in
-- names (hash) and one log (string) per behaviour: the pair logs (pairlog.lua)
local Tally = {}
Tally.__index = Tally
local TALLY_LEVEL = '5'
local TALLY_SEP = '\0'
local BUCKET_MS = {m = 60000, h = 3600000, d = 86400000}
local DAY_MS, NEW_DAYS = 86400000, 30  -- monitor.signals.cohorts
local SERIES_MARGIN, SERIES_BYTES = 10080, 8  -- a week of minutes; two u32 a minute

local TALLY_NAMES = {'counts', 'totals', 'accounts', 'talk', 'urls', 'cotags', 'minutes',
                     'times', 'created', 'series', 'names'}

-- The tally keys, in keys.TALLIES order from KEYS[first] on: those above, the pair logs' names,
-- then the pair logs (pairlog.lua) as `logs`, by pairs code.
local function tally_keys(first)
  local ctx = {logs = {}}
  for j, name in ipairs(TALLY_NAMES) do ctx[name] = KEYS[first + j - 1] end
  for j, code in ipairs(LOG_CODES) do ctx.logs[code] = KEYS[first + #TALLY_NAMES + j - 1] end
  return ctx
end

local TIMES_SHARDS = 4096  -- the names hashed.lua splits 'times' into: '<times>:000' to ':fff'

-- Every tally key empty. UNLINK frees them in the background, where DEL would hold the server
-- for seconds on a tag of a million posts.
local function tally_reset(ctx)
  local all = {}
  for _, name in ipairs(TALLY_NAMES) do all[#all + 1] = ctx[name] end
  for _, code in ipairs(LOG_CODES) do all[#all + 1] = ctx.logs[code] end
  redis.call('UNLINK', unpack(all))
  for first = 0, TIMES_SHARDS - 1, 1024 do
    local shards = {}
    for n = first, first + 1023 do
      shards[#shards + 1] = ctx.times .. string.format(':%03x', n)
    end
    redis.call('UNLINK', unpack(shards))
  end
end

-- The shard of 'times' that holds an account id's posts, named once per call.
function Tally:times_of(author)
  local found = self.shards[author]
  if not found then
    found = hashed_shard(self.ctx.times, author)
    self.shards[author] = found
  end
  return found
end

-- ctx: the keys above (tally_keys), the tag's timeline, the tag, and whether its timeline is
-- empty (its first posts are arriving: tallies start over).
function Tally.new(ctx)
  if ctx.empty then
    tally_reset(ctx)
    redis.call('HSET', ctx.counts, 'level', TALLY_LEVEL)
  end
  local level, upto = unpack(redis.call('HMGET', ctx.counts, 'level', 'upto'))
  return setmetatable({ctx = ctx, on = level == TALLY_LEVEL,
                       upto = level == TALLY_LEVEL .. '<' and upto or nil,
                       counts = {}, derived = {}, totals = {}, accounts = {}, refs = {},
                       cotags = {}, minutes = {}, latest = {}, changed = {}, timed = {},
                       untimed = {}, touched = {}, buckets = {}, shards = {}}, Tally)
end

-- Byte order, as Python compares keys; Lua's own comparison follows the server's locale.
local function before(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- A counter changed by `step`; returns its new value, deleting it at zero.
local function hincr(hash, name, step)
  local now = redis.call('HINCRBY', hash, name, step)
  if now <= 0 then redis.call('HDEL', hash, name) end
  return now
end

local function tally_stamp(t, key)
  return string.format('%013d', math.max(t, 0)) .. TALLY_SEP .. key
end

local function bump(into, name, step)
  into[name] = (into[name] or 0) + step
end

-- A counter whose turning from zero to positive, or back, adds or takes one from `derived`.
function Tally:presence(name, step, derived)
  bump(self.counts, name, step)
  self.derived[name] = derived
end

-- An account's posts in a bucket changed by `step`: whether it is among the bucket's people
-- ('n') is read from its posts in 'times' when the call ends, where counting them per account
-- and bucket would cost three fields a post.
function Tally:active(bucket, account, author, prefix, t, ms, step)
  local name = bucket .. TALLY_SEP .. account
  local known = self.buckets[name]
  if not known then
    local start = math.floor(t / ms) * ms
    known = {0, '[' .. prefix .. tally_stamp(start, ''),
             '(' .. prefix .. tally_stamp(start + ms, ''), bucket, self:times_of(author)}
    self.buckets[name] = known
  end
  known[1] = known[1] + step
end

-- Whether the tallies count this post: all do once complete, those up to 'upto' until then.
function Tally:counts_post(t, key)
  if self.on then return true end
  if not self.upto then return false end
  local at = tally_stamp(t, key)
  return at == self.upto or before(at, self.upto)
end

-- One post arriving (step 1) or leaving (step -1) that the tallies count; `record` is its
-- decoded record.
function Tally:count(key, record, step)
  local t, kind, platform, author = record[1], record[2], record[3], record[4]
  local account = platform .. TALLY_SEP .. author
  bump(self.accounts, account, step)
  bump(self.totals, kind, step)
  bump(self.totals, '@' .. platform, step)
  bump(self.minutes, string.format('%015d', math.floor(t / 60000)), step)
  for size, ms in pairs(BUCKET_MS) do
    local bucket = size .. TALLY_SEP .. string.format('%d', math.floor(t / ms))
    if size ~= 'm' then
      bump(self.counts, 'v' .. TALLY_SEP .. bucket .. TALLY_SEP .. kind, step)
    end
    self:active(bucket, account, author, author .. TALLY_SEP .. platform .. TALLY_SEP, t, ms, step)
  end
  for _, other in ipairs(record[10]) do
    if other ~= self.ctx.tag then bump(self.cotags, other, step) end
  end
  local ref_id, ref_author, ref_url = record[7], record[8], record[9]
  if kind ~= 'original' and type(ref_id) == 'string' and ref_id ~= '' then
    local ref = platform .. ':' .. ref_id
    self.refs[ref] = true
    bump(self.counts, 'k' .. TALLY_SEP .. ref .. TALLY_SEP .. kind, step)
    if author ~= ref_author then
      self:presence('t' .. TALLY_SEP .. ref .. TALLY_SEP .. account, step,
                    'q' .. TALLY_SEP .. ref)
    end
    if type(ref_url) == 'string' then
      self:presence('u' .. TALLY_SEP .. ref .. TALLY_SEP .. ref_url, step, true)
    end
  end
  local timed = author .. TALLY_SEP .. platform .. TALLY_SEP .. tally_stamp(t, key)
  local shard = self:times_of(author)
  local into = step > 0 and self.timed or self.untimed
  into[shard] = into[shard] or {}
  table.insert(into[shard], timed)
  self.touched[account] = {author .. TALLY_SEP .. platform .. TALLY_SEP, shard}
  if step > 0 then  -- an account's handle, and its creation time (platforms give the same on
    -- each post), are the ones its newest post gives
    self:keep_newest('h' .. TALLY_SEP .. account, t, key, record[5])
    if type(record[11]) == 'number' then
      self:keep_newest('c' .. TALLY_SEP .. account, t, key, record[11])
    end
  end
end

-- [time, post, value] kept under a counts field, read once per call.
function Tally:newest(name)
  local known = self.latest[name]
  if known == nil then
    local raw = redis.call('HGET', self.ctx.counts, name)
    known = raw and cjson.decode(raw) or false
    self.latest[name] = known
  end
  return known
end

-- The value stays the one of the newest post (by time, then post key) that gave one.
function Tally:keep_newest(name, t, key, value)
  local known = self:newest(name)
  if not known or t > known[1] or (t == known[1] and before(known[2], key)) then
    self.latest[name] = {t, key, value}
    self.changed[name] = true
  end
end

-- Recount an account in 'created' from its creation time and its first retained post (in the
-- shard of 'times' given).
function Tally:cohort(account, prefix, shard)
  local ctx, state = self.ctx, false
  local present = redis.call('ZSCORE', ctx.accounts, account)
  local known = present and self:newest('c' .. TALLY_SEP .. account)
  if known then
    local created = known[3]
    local first = redis.call('ZRANGEBYLEX', shard, '[' .. prefix,
                             '(' .. string.sub(prefix, 1, -2) .. '\1', 'LIMIT', 0, 1)
    local since = tonumber(string.sub(first[1], #prefix + 1, #prefix + 13)) - created
    local new = since >= 0 and since <= NEW_DAYS * DAY_MS
    state = string.format('%d', math.floor(created / DAY_MS)) .. (new and ':1' or ':0')
  end
  local field = 'o' .. TALLY_SEP .. account
  local counted = redis.call('HGET', ctx.counts, field)
  if counted == state then return end
  for step, what in pairs({[-1] = counted, [1] = state}) do
    if what then
      local day, new = string.match(what, '^(-?%d+):(%d)$')
      hincr(ctx.created, day, step)
      if new == '1' then hincr(ctx.created, 'new', step) end
    end
  end
  if state then
    redis.call('HSET', ctx.counts, field, state)
  else
    redis.call('HDEL', ctx.counts, field)
  end
  if not present then redis.call('HDEL', ctx.counts, 'c' .. TALLY_SEP .. account) end
end

-- A zset scored by minus a count; drops the member at zero.
local function zcount(zset, member, step)
  if tonumber(redis.call('ZINCRBY', zset, -step, member)) >= 0 then
    redis.call('ZREM', zset, member)
    return false
  end
  return true
end

-- Moves the series' start to minute `to`, dropping minutes or adding empty ones before it.
function Tally:rebase(base, to)
  local series = self.ctx.series
  if base and to < base then
    local kept = redis.call('GET', series) or ''
    redis.call('SET', series, string.rep('\0', (base - to) * SERIES_BYTES) .. kept)
  elseif base then
    redis.call('SET', series, redis.call('GETRANGE', series, (to - base) * SERIES_BYTES, -1))
  end
  redis.call('HSET', self.ctx.counts, 'series', string.format('%d', to))
end

-- Adds posts and people per minute (minute -> {posts, people}) to the series; it starts a
-- margin before the earliest minute counted, and moves on as retention drops minutes.
function Tally:count_series(deltas)
  local ctx, ops, lowest = self.ctx, {}, nil
  for minute in pairs(deltas) do
    if not lowest or minute < lowest then lowest = minute end
  end
  if not lowest then return end
  local base = tonumber(redis.call('HGET', ctx.counts, 'series'))
  if not base or lowest < base then
    self:rebase(base, lowest - SERIES_MARGIN)
    base = lowest - SERIES_MARGIN
  end
  local left = false
  for minute, delta in pairs(deltas) do
    left = left or delta[1] < 0
    for j, step in ipairs(delta) do
      if step ~= 0 then
        local at = string.format('#%d', 2 * (minute - base) + j - 1)
        for _, arg in ipairs({'INCRBY', 'u32', at, step}) do ops[#ops + 1] = arg end
      end
    end
  end
  for first = 1, #ops, 1000 do
    redis.call('BITFIELD', ctx.series, unpack(ops, first, math.min(first + 999, #ops)))
  end
  if not left then return end  -- only posts leaving move the oldest minute on
  local oldest = redis.call('ZRANGE', ctx.timeline, 0, 0, 'WITHSCORES')[2]
  local first_minute = oldest and math.floor(tonumber(oldest) / 60000)
  if first_minute and first_minute - base > 2 * SERIES_MARGIN then
    self:rebase(base, first_minute - SERIES_MARGIN)
  end
end

function Tally:flush()
  if not (self.on or self.upto) then return end
  local ctx, turned = self.ctx, {}
  for _, known in pairs(self.buckets) do  -- before 'times' changes below
    local step = known[1]
    if step ~= 0 then
      local before = redis.call('ZLEXCOUNT', known[5], known[2], known[3])
      local change = (before + step > 0 and 1 or 0) - (before > 0 and 1 or 0)
      if change ~= 0 then bump(turned, 'n' .. TALLY_SEP .. known[4], change) end
    end
  end
  for name, step in pairs(self.counts) do
    if step ~= 0 then
      local now = hincr(ctx.counts, name, step)
      local derived = self.derived[name]
      local change = (now > 0 and 1 or 0) - (now - step > 0 and 1 or 0)
      if derived == true and change ~= 0 then  -- an address of a ref: 'u\0<ref>\0<url>'
        local member = string.sub(name, 3)
        if change > 0 then
          redis.call('ZADD', ctx.urls, 0, member)
        else
          redis.call('ZREM', ctx.urls, member)
        end
      elseif derived and change ~= 0 then
        bump(turned, derived, change)
      end
    end
  end
  local deltas = {}  -- minute -> {posts, people}, for the series
  for name, change in pairs(turned) do
    if change ~= 0 then hincr(ctx.counts, name, change) end
    if string.sub(name, 1, 4) == 'n' .. TALLY_SEP .. 'm' .. TALLY_SEP then
      deltas[tonumber(string.sub(name, 5))] = {0, change}
    end
  end
  for minute, step in pairs(self.minutes) do
    local delta = deltas[tonumber(minute)] or {0, 0}
    delta[1] = step
    deltas[tonumber(minute)] = delta
  end
  self:count_series(deltas)
  for name, step in pairs(self.totals) do
    if step ~= 0 then hincr(ctx.totals, name, step) end
  end
  for ref in pairs(self.refs) do
    local by = 'k' .. TALLY_SEP .. ref .. TALLY_SEP
    local talking = redis.call('HMGET', ctx.counts, 'q' .. TALLY_SEP .. ref, by .. 'repost',
                               by .. 'quote', by .. 'reply')
    if talking[2] or talking[3] or talking[4] then
      redis.call('ZADD', ctx.talk, -(tonumber(talking[1]) or 0), ref)
    else
      redis.call('ZREM', ctx.talk, ref)
    end
  end
  for name in pairs(self.changed) do
    redis.call('HSET', ctx.counts, name, cjson.encode(self.latest[name]))
  end
  for account, step in pairs(self.accounts) do
    if step ~= 0 and not zcount(ctx.accounts, account, step) then
      redis.call('HDEL', ctx.counts, 'h' .. TALLY_SEP .. account)
    end
  end
  for other, step in pairs(self.cotags) do
    if step ~= 0 then zcount(ctx.cotags, other, step) end
  end
  for minute, step in pairs(self.minutes) do
    if step ~= 0 then zcount(ctx.minutes, minute, step) end
  end
  for shard, members in pairs(self.untimed) do
    for first = 1, #members, 1000 do
      redis.call('ZREM', shard, unpack(members, first, math.min(first + 999, #members)))
    end
  end
  for shard, members in pairs(self.timed) do
    local scored = {}
    for _, member in ipairs(members) do
      scored[#scored + 1] = 0
      scored[#scored + 1] = member
    end
    for first = 1, #scored, 1000 do
      redis.call('ZADD', shard, unpack(scored, first, math.min(first + 999, #scored)))
    end
  end
  for account, at in pairs(self.touched) do self:cohort(account, at[1], at[2]) end
end
