-- Networks at each behaviour's default query, kept as pairs come and go, so that a report over
-- everything a tag retains reads edges and its clusters' evidence instead of every pair.
--
-- A behaviour is one letter, its index's namespace (p co-post, l co-link, s co-similar, r
-- co-repost, y co-reply). Only the default rule's pairs sets count (LINKED_CODES), and of
-- their rows only those within the default window and threshold (monitor.signals.coordination
-- .Query). Keys, where <a>, <c>, <x>, <y> are account ids:
-- linked (hash):
--   'r\0l\0<p>\0<q>'   co-link rows that hold the pair (p, q): two shared links are one pair
--                       (the other behaviours find a pair through one row)
--   's\0<p>'           p's partners: '<b>\1<c>\3<pairs of p with posts of c>', sorted by
--                       partner and joined by '\2'
--   'w\0<b>\0<a>\0<c>' w(a -> c): the posts of a with a matching post of c
--   'l\0<b>\0<x>\0<y>' pairs between two accounts, x before y
-- edges (zset): '<b>\0<a>\0<c>\0<w>' scored w: the weight in the member too, since reading
--   scores costs the server more than the rest of the read
-- links (zset): '<b>\0<x>\0<y>' at score 0, x before y: the accounts with pairs between them
-- signatures (zset): '<a>\0<signature>\0<posts>' at score 0: an account's posts by signature,
--   the partners of a post without their counts
-- Rows count as tally.lua counts posts: all once the tallies are complete; while they catch up,
-- those up to the mark 'pairs\0<code>' in the counts hash (all of them once it is '~').
-- A script call gathers its changes and writes them in flush(), each post's partners once.
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
  return setmetatable({ctx = ctx, on = on, marks = marks, posts = {}, edges = {}, links = {}},
                      Linked)
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

-- A row of the pairs set `code` added (step 1) or removed (-1); `first` is its score, `row`
-- the member decoded when the caller has it so.
function Linked:row(code, first, member, step, row)
  local b = LINKED_CODES[code]
  if not b or not self:counts(code, first, member) then return end
  row = row or cjson.decode(member)
  if row[5] > self.ctx.window or (row[8] and row[8] * self.ctx.den < self.ctx.num * row[9]) then
    return
  end
  local S = LINKED_SEP
  if b == 'l' then
    local rows = hincr(self.ctx.linked, 'r' .. S .. b .. S .. row[2] .. S .. row[4], step)
    if rows ~= (step > 0 and 1 or 0) then return end
  end
  self:partner(b, row[1], row[2], row[3], step)
  self:partner(b, row[3], row[4], row[1], step)
  local x, y = row[1], row[3]
  if before(y, x) then x, y = y, x end
  bump(self.links, b .. S .. x .. S .. y, step)
end

-- Post p of account a gains (step 1) or loses a pair with a post of account c.
function Linked:partner(b, a, p, c, step)
  local post = self.posts[p] or {author = a, steps = {}}
  bump(post.steps, b .. '\1' .. c, step)
  self.posts[p] = post
end

-- Writes what this call changed.
function Linked:flush()
  for p, post in pairs(self.posts) do self:sign(p, post) end
  local S = LINKED_SEP
  for edge, step in pairs(self.edges) do
    if step ~= 0 then
      local weight = hincr(self.ctx.linked, 'w' .. S .. edge, step)
      if weight - step > 0 then
        redis.call('ZREM', self.ctx.edges, edge .. S .. string.format('%d', weight - step))
      end
      if weight > 0 then
        redis.call('ZADD', self.ctx.edges, weight, edge .. S .. string.format('%d', weight))
      end
    end
  end
  for link, step in pairs(self.links) do
    if step ~= 0 then
      local count = hincr(self.ctx.linked, 'l' .. S .. link, step)
      if count - step <= 0 and count > 0 then
        redis.call('ZADD', self.ctx.links, 0, link)
      elseif count <= 0 then
        redis.call('ZREM', self.ctx.links, link)
      end
    end
  end
end

-- Adds a post's changed pair counts to its partners; a partner gained or lost changes an edge's
-- weight, and moves the post between its account's signatures.
function Linked:sign(p, post)
  local S, field = LINKED_SEP, 's' .. LINKED_SEP .. p
  local old = redis.call('HGET', self.ctx.linked, field)
  local counts, before_names = {}, {}
  for token, count in string.gmatch(old or '', '([^\2\3]+)\3(%d+)') do
    counts[token] = tonumber(count)
    before_names[#before_names + 1] = token
  end
  local turned = false
  for token, step in pairs(post.steps) do
    local was = counts[token] or 0
    local now = was + step
    counts[token] = now > 0 and now or nil
    if (was > 0) ~= (now > 0) then
      turned = true
      local b, c = string.match(token, '^(.)\1(.*)$')
      bump(self.edges, b .. S .. post.author .. S .. c, now > 0 and 1 or -1)
    end
  end
  local names, items = {}, {}
  for token in pairs(counts) do names[#names + 1] = token end
  table.sort(names)  -- any fixed order: a signature is only compared whole
  for j, token in ipairs(names) do items[j] = token .. '\3' .. string.format('%d', counts[token]) end
  if #items > 0 then
    redis.call('HSET', self.ctx.linked, field, table.concat(items, '\2'))
  else
    redis.call('HDEL', self.ctx.linked, field)
  end
  if turned then
    if #before_names > 0 then
      self:lex_count(self.ctx.signatures, post.author .. S .. table.concat(before_names, '\2'), -1)
    end
    if #names > 0 then
      self:lex_count(self.ctx.signatures, post.author .. S .. table.concat(names, '\2'), 1)
    end
  end
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
