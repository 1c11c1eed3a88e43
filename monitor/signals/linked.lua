-- Networks at each behaviour's default query, kept as pairs come and go, so that a report over
-- everything a tag retains reads edges and its clusters' evidence instead of every pair.
--
-- A behaviour is one letter, its index's namespace (p co-post, l co-link, s co-similar, r
-- co-repost, y co-reply). Only the default rule's pairs sets count (LINKED_CODES), and of
-- their rows only those within the default window and threshold (monitor.signals.coordination
-- .Query). Keys, where <a>, <c>, <x>, <y> are account ids:
-- linked (hash):
--   'r\0<b>\0<p>\0<q>'   rows that hold the pair (p, q): found through two keys, it is one pair
--   'c\0<b>\0<p>\0<c>'   pairs of post p with posts of account c
--   's\0<p>'             p's signature: its partner accounts, sorted '<b>\1<c>' joined by '\2'
--   'w\0<b>\0<a>\0<c>'   w(a -> c): the posts of a with a matching post of c
-- edges (zset): '<b>\0<a>\0<c>\0<w>' scored w: the weight in the member too, since reading
--   scores costs the server more than the rest of the read
-- links (zset): '<b>\0<x>\0<y>\0<pairs>' at score 0, x before y: pairs between two accounts
-- signatures (zset): '<a>\0<signature>\0<posts>' at score 0: an account's posts by signature
-- Rows count as tally.lua counts posts: all once the tallies are complete; while they catch up,
-- those up to the mark 'pairs\0<code>' in the counts hash (all of them once it is '~').
local Linked = {}
Linked.__index = Linked
local LINKED_CODES = {pe = 'p', le = 'l', se = 's', ['r-'] = 'r', ['y-'] = 'y'}
local LINKED_ORDER = {'pe', 'le', 'se', 'r-', 'y-'}
local LINKED_SEP = '\0'
local LINKED_ALL = '~'  -- after every stamp: a mark that every row is up to

-- ctx: the keys counts, linked, edges, links and signatures; the default window (ms) and
-- threshold (num/den). `on`: the tallies are complete.
function Linked.new(ctx, on)
  local marks = {}
  if not on then
    local names = {}
    for j, code in ipairs(LINKED_ORDER) do names[j] = 'pairs' .. LINKED_SEP .. code end
    for j, mark in ipairs(redis.call('HMGET', ctx.counts, unpack(names))) do
      marks[LINKED_ORDER[j]] = mark or nil
    end
  end
  return setmetatable({ctx = ctx, on = on, marks = marks}, Linked)
end

-- Whether rows of the pairs set `code` count here (their removals must be told).
function Linked:watches(code)
  return LINKED_CODES[code] ~= nil
end

function Linked:counts(code, first, member)
  if self.on then return true end
  local mark = self.marks[code]
  if not mark then return false end
  local at = tally_stamp(first, member)
  return at == mark or before(at, mark)
end

-- A row of the pairs set `code` added (step 1) or removed (-1); `first` is its score.
function Linked:row(code, first, member, step)
  local b = LINKED_CODES[code]
  if not b or not self:counts(code, first, member) then return end
  local row = cjson.decode(member)
  if row[5] > self.ctx.window or (row[8] and row[8] * self.ctx.den < self.ctx.num * row[9]) then
    return
  end
  local S = LINKED_SEP
  local rows = hincr(self.ctx.linked, 'r' .. S .. b .. S .. row[2] .. S .. row[4], step)
  if rows == (step > 0 and 1 or 0) then
    self:partner(b, row[1], row[2], row[3], step)
    self:partner(b, row[3], row[4], row[1], step)
    local x, y = row[1], row[3]
    if before(y, x) then x, y = y, x end
    self:lex_count(self.ctx.links, b .. S .. x .. S .. y, step)
  end
end

-- Post p of account a gains (step 1) or loses a pair with a post of account c.
function Linked:partner(b, a, p, c, step)
  local S = LINKED_SEP
  local pairs_with = hincr(self.ctx.linked, 'c' .. S .. b .. S .. p .. S .. c, step)
  if pairs_with ~= (step > 0 and 1 or 0) then return end
  local edge = b .. S .. a .. S .. c
  local weight = hincr(self.ctx.linked, 'w' .. S .. edge, step)
  if weight - step > 0 then
    redis.call('ZREM', self.ctx.edges, edge .. S .. string.format('%d', weight - step))
  end
  if weight > 0 then
    redis.call('ZADD', self.ctx.edges, weight, edge .. S .. string.format('%d', weight))
  end
  self:sign(a, p, b .. '\1' .. c, step)
end

-- Adds a partner token to p's signature (step 1) or takes it out, and moves p between the
-- account's signatures.
function Linked:sign(a, p, token, step)
  local field = 's' .. LINKED_SEP .. p
  local old = redis.call('HGET', self.ctx.linked, field)
  local tokens = {}
  if old then
    for t in string.gmatch(old, '[^\2]+') do
      if t ~= token then tokens[#tokens + 1] = t end
    end
    self:lex_count(self.ctx.signatures, a .. LINKED_SEP .. old, -1)
  end
  if step > 0 then tokens[#tokens + 1] = token end
  if #tokens == 0 then
    redis.call('HDEL', self.ctx.linked, field)
    return
  end
  table.sort(tokens)  -- any fixed order: a signature is only compared whole
  local new = table.concat(tokens, '\2')
  redis.call('HSET', self.ctx.linked, field, new)
  self:lex_count(self.ctx.signatures, a .. LINKED_SEP .. new, 1)
end

-- Moves the count in a member '<name>\0<count>' of a lex zset by step; none at zero.
function Linked:lex_count(zset, name, step)
  local found = redis.call('ZRANGEBYLEX', zset, '[' .. name .. LINKED_SEP, '(' .. name .. '\1',
                           'LIMIT', 0, 1)
  local count = step
  if found[1] then
    redis.call('ZREM', zset, found[1])
    count = count + tonumber(string.sub(found[1], #name + 2))
  end
  if count > 0 then
    redis.call('ZADD', zset, 0, name .. LINKED_SEP .. string.format('%d', count))
  end
end
