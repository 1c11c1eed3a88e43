-- Tallies: what a tag's report shows over everything the tag retains, kept as posts arrive and
-- leave, so that such a report reads a few hundred fields instead of every record.
--
-- counts (hash), where <account> is '<platform>\0<account id>' and <ref> '<platform>:<post id>':
--   'level'                            what these tallies hold (LEVEL). Set when a tag's first
--                                      post arrives: a tag tallied by another level, or from
--                                      before tallies, is reported from its records
--   'h\0<account>'                     [time, post, handle] of the account's newest post
--   'v\0<h|d>\0<bucket>\0<kind>'       posts by kind per hour or day (minutes: the volume hash)
--   'b\0<m|h|d>\0<bucket>\0<account>'  an account's posts per minute, hour or day
--   'n\0<m|h|d>\0<bucket>'             people per minute, hour or day: its accounts in 'b'
--   'r\0<ref>', 'k\0<ref>\0<kind>'     posts that repost, quote or reply to <ref>, and by kind
--   't\0<ref>\0<account>'              ... by account, leaving out the ref's own author
--   'q\0<ref>'                         people talking about <ref>: its accounts in 't'
--   'u\0<ref>\0<url>'                  talking posts that give <url> as <ref>'s address
-- totals (hash): '<kind>' and '@<platform>' -> posts
-- accounts (zset): account -> minus its posts (most active first, ties by account)
-- talk (zset): ref -> minus its people talking, while any post talks about it
-- urls (zset): '<ref>\0<url>' at score 0, read by lexical range (a ref's smallest address)
-- cotags (zset): another tag -> minus the posts that carry it too
-- minutes (zset): minute number (15 digits) -> minus its posts (busiest first, ties by earliest)
local Tally = {}
Tally.__index = Tally
local TALLY_LEVEL = '1'
local TALLY_SEP = '\0'
local BUCKET_MS = {m = 60000, h = 3600000, d = 86400000}

-- ctx: the keys above (counts, totals, accounts, talk, urls, cotags, minutes), the tag, and whether its
-- timeline is empty (its first posts are arriving: tallies start over at this level).
function Tally.new(ctx)
  if ctx.empty then
    redis.call('DEL', ctx.counts, ctx.totals, ctx.accounts, ctx.talk, ctx.urls, ctx.cotags,
               ctx.minutes)
    redis.call('HSET', ctx.counts, 'level', TALLY_LEVEL)
  end
  local on = redis.call('HGET', ctx.counts, 'level') == TALLY_LEVEL
  return setmetatable({ctx = ctx, on = on, counts = {}, derived = {}, totals = {}, accounts = {}, refs = {},
                       cotags = {}, minutes = {}, handles = {}, changed = {}}, Tally)
end

-- Byte order, as Python compares keys; Lua's own comparison follows the server's locale.
local function before(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

local function bump(into, name, step)
  into[name] = (into[name] or 0) + step
end

-- A counter whose turning from zero to positive, or back, adds or takes one from `derived`.
function Tally:presence(name, step, derived)
  bump(self.counts, name, step)
  self.derived[name] = derived
end

-- One post arriving (step 1) or leaving (step -1); `record` is its decoded record.
function Tally:count(key, record, step)
  if not self.on then return end
  local t, kind, platform, author = record[1], record[2], record[3], record[4]
  local account = platform .. TALLY_SEP .. author
  bump(self.accounts, account, step)
  bump(self.totals, kind, step)
  bump(self.totals, '@' .. platform, step)
  bump(self.minutes, string.format('%015d', math.floor(t / 60000)), step)
  for size, ms in pairs(BUCKET_MS) do
    local bucket = size .. TALLY_SEP .. string.format('%d', math.floor(t / ms))
    if size ~= 'm' then bump(self.counts, 'v' .. TALLY_SEP .. bucket .. TALLY_SEP .. kind, step) end
    self:presence('b' .. TALLY_SEP .. bucket .. TALLY_SEP .. account, step, 'n' .. TALLY_SEP .. bucket)
  end
  for _, other in ipairs(record[10]) do
    if other ~= self.ctx.tag then bump(self.cotags, other, step) end
  end
  local ref_id, ref_author, ref_url = record[7], record[8], record[9]
  if kind ~= 'original' and type(ref_id) == 'string' and ref_id ~= '' then
    local ref = platform .. ':' .. ref_id
    self.refs[ref] = true
    bump(self.counts, 'r' .. TALLY_SEP .. ref, step)
    bump(self.counts, 'k' .. TALLY_SEP .. ref .. TALLY_SEP .. kind, step)
    if author ~= ref_author then
      self:presence('t' .. TALLY_SEP .. ref .. TALLY_SEP .. account, step, 'q' .. TALLY_SEP .. ref)
    end
    if type(ref_url) == 'string' then
      self:presence('u' .. TALLY_SEP .. ref .. TALLY_SEP .. ref_url, step, true)
    end
  end
  if step > 0 then self:newest(account, t, key, record[5]) end
end

-- The handle shown for an account is the one of its newest post (by time, then post key).
function Tally:newest(account, t, key, handle)
  local known = self.handles[account]
  if known == nil then
    local raw = redis.call('HGET', self.ctx.counts, 'h' .. TALLY_SEP .. account)
    known = raw and cjson.decode(raw) or false
  end
  if not known or t > known[1] or (t == known[1] and before(known[2], key)) then
    known = {t, key, handle}
    self.changed[account] = true
  end
  self.handles[account] = known
end

-- A counter changed by `step`; returns its new value, deleting it at zero.
local function hincr(hash, name, step)
  local now = redis.call('HINCRBY', hash, name, step)
  if now <= 0 then redis.call('HDEL', hash, name) end
  return now
end

-- A zset scored by minus a count; drops the member at zero.
local function zcount(zset, member, step)
  if tonumber(redis.call('ZINCRBY', zset, -step, member)) >= 0 then
    redis.call('ZREM', zset, member)
    return false
  end
  return true
end

function Tally:flush()
  if not self.on then return end
  local ctx, turned = self.ctx, {}
  for name, step in pairs(self.counts) do
    if step ~= 0 then
      local now = hincr(ctx.counts, name, step)
      local derived = self.derived[name]
      local change = (now > 0 and 1 or 0) - (now - step > 0 and 1 or 0)
      if derived == true and change ~= 0 then  -- an address of a ref: 'u\0<ref>\0<url>'
        local member = string.sub(name, 3)
        if change > 0 then redis.call('ZADD', ctx.urls, 0, member) else redis.call('ZREM', ctx.urls, member) end
      elseif derived and change ~= 0 then
        bump(turned, derived, change)
      end
    end
  end
  for name, change in pairs(turned) do
    if change ~= 0 then hincr(ctx.counts, name, change) end
  end
  for name, step in pairs(self.totals) do
    if step ~= 0 then hincr(ctx.totals, name, step) end
  end
  for ref in pairs(self.refs) do
    local talking = redis.call('HMGET', ctx.counts, 'r' .. TALLY_SEP .. ref, 'q' .. TALLY_SEP .. ref)
    if talking[1] then
      redis.call('ZADD', ctx.talk, -(tonumber(talking[2]) or 0), ref)
    else
      redis.call('ZREM', ctx.talk, ref)
    end
  end
  for account in pairs(self.changed) do
    redis.call('HSET', ctx.counts, 'h' .. TALLY_SEP .. account, cjson.encode(self.handles[account]))
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
end
