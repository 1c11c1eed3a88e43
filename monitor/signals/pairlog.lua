-- Pair logs: the pairs of the indexes a report's networks read, one 64-byte record each,
-- appended to one string per index, so that a report reads a whole network with one GET
-- (monitor/signals/pairlog.py) instead of decoding every member of the pairs sets.
--
-- A record is little-endian (numpy's native order on the usual machines): the digests of a, p,
-- b and q (the first 64 bits of their SHA-1), the earlier post's time (double), dt ms (u32), the
-- key's digest, the shared and union tokens (u32, co-similar only), and +1 for a pair made or -1
-- for one dropped as its key turned viral.
-- names (hash): account digest -> account id, for the accounts of the logged pairs.
-- Records of expired pairs stay until the logs hold more dead records than live ones; then the
-- logs and names are rewritten without them.
--
-- A tag whose pairs came before its logs (an upgrade) has them converted from the pairs sets
-- after its other tallies have caught up (catchup.lua): counts field 'logs' is then
-- '<position>:<score>', and the logs hold the pairs of the earlier positions in LOG_CODES, and of
-- this one up to that score.
local LOG_CODES = {'pe', 'r-', 'le', 'y-', 'se'}  -- keys.LOGGED, in BEHAVIOURS order
local LOG_BYTES = 64
local LOG_POSITION = {}
for position, code in ipairs(LOG_CODES) do LOG_POSITION[code] = position end

local PairLog = {}
PairLog.__index = PairLog

-- ctx: logs (code -> key), names, pairs (code -> pairs set), counts; the logs are written when
-- the tallies are complete, or up to the catch-up's mark.
-- The catch-up's mark, '<position>:<score>', as {position, score}.
local function log_mark(mark)
  local position, score = string.match(mark, '^(%d+):(.+)$')
  return {tonumber(position), tonumber(score)}
end

function PairLog.new(ctx, level)
  local state, mark = unpack(redis.call('HMGET', ctx.counts, 'level', 'logs'))
  local upto = state == level or nil
  if state == level .. '<' and mark then upto = log_mark(mark) end
  return setmetatable({ctx = ctx, upto = upto, accounts = {}, posts = {}, keys = {},
                       pending = {}, dropped = false}, PairLog)
end

-- 16 hex digits as a little-endian u64.
local function hex_bytes(hex)
  return struct.pack('<I4I4', tonumber(string.sub(hex, 9, 16), 16),
                     tonumber(string.sub(hex, 1, 8), 16))
end

-- The digests of an account and of one of its posts, named and computed once per call.
function PairLog:posted(account, post)
  local found = self.posts[post]
  if not found then
    local digest = self.accounts[account]
    if not digest then
      digest = hex_bytes(redis.sha1hex(account))
      self.accounts[account] = digest
      redis.call('HSET', self.ctx.names, digest, account)
    end
    found = digest .. hex_bytes(redis.sha1hex(post))
    self.posts[post] = found
  end
  return found
end

local LOG_PLAIN = {[1] = struct.pack('<I4I4i4', 0, 0, 1), [-1] = struct.pack('<I4I4i4', 0, 0, -1)}

-- The record of a pairs-set row [a, p, b, q, dt, key, first(, shared, union)]; a co-post or
-- co-link row may hold an eighth element, which marks it as the toolkit rule's too.
function PairLog:record(row, sign)
  local key = self.keys[row[6]]
  if not key then
    key = hex_bytes(row[6])
    self.keys[row[6]] = key
  end
  local tail = row[9] and struct.pack('<I4I4i4', row[8], row[9], sign) or LOG_PLAIN[sign]
  return self:posted(row[1], row[2]) .. self:posted(row[3], row[4]) ..
    struct.pack('<dI4', row[7], row[5]) .. key .. tail
end

-- A row added to (sign 1) or dropped from (-1) the pairs set of `code`, logged if the log
-- holds that part of the set.
function PairLog:add(code, row, sign)
  local position, upto = LOG_POSITION[code], self.upto
  if not position or not upto then return end
  if upto ~= true and (position > upto[1] or (position == upto[1] and row[7] > upto[2])) then
    return
  end
  local pending = self.pending[code] or {}
  pending[#pending + 1] = self:record(row, sign)
  self.pending[code] = pending
  self.dropped = self.dropped or sign < 0
end

-- Appends what was logged, then, when pairs expired (before `cutoff`) or were dropped, rewrites
-- the logs once their dead records outnumber live ones.
function PairLog:flush(cutoff, expired)
  for code, records in pairs(self.pending) do
    redis.call('APPEND', self.ctx.logs[code], table.concat(records))
  end
  if self.upto ~= true or not (expired or self.dropped) then return end
  local held, live = 0, 0
  for code, key in pairs(self.ctx.logs) do
    held = held + redis.call('STRLEN', key) / LOG_BYTES
    live = live + redis.call('ZCARD', self.ctx.pairs[code])
  end
  if held > 2 * live + LOG_BYTES then self:compact(cutoff) end
end

-- A pair ([p, q, key]: bytes 9 to 32 and 45 to 52) may be made, dropped and made again: it is
-- live when its signs add up to more than zero.
local function log_pair(raw, at)
  return string.sub(raw, at + 8, at + 31) .. string.sub(raw, at + 44, at + 51)
end

function PairLog:compact(cutoff)
  local accounts = {}
  for _, key in pairs(self.ctx.logs) do
    local raw = redis.call('GET', key) or ''
    local net, kept = {}, {}
    for at = 1, #raw, LOG_BYTES do
      local pair = log_pair(raw, at)
      net[pair] = (net[pair] or 0) + struct.unpack('<i4', raw, at + 60)
    end
    for at = 1, #raw, LOG_BYTES do
      local pair = log_pair(raw, at)
      if net[pair] > 0 and struct.unpack('<d', raw, at + 32) >= cutoff then
        net[pair] = 0  -- kept once
        kept[#kept + 1] = string.sub(raw, at, at + LOG_BYTES - 1)
        accounts[string.sub(raw, at, at + 7)] = true
        accounts[string.sub(raw, at + 16, at + 23)] = true
      end
    end
    redis.call('DEL', key)
    for first = 1, #kept, 1000 do
      redis.call('APPEND', key, table.concat(kept, '', first, math.min(first + 999, #kept)))
    end
  end
  local gone = {}
  for _, digest in ipairs(redis.call('HKEYS', self.ctx.names)) do
    if not accounts[digest] then gone[#gone + 1] = digest end
  end
  for first = 1, #gone, 1000 do
    redis.call('HDEL', self.ctx.names, unpack(gone, first, math.min(first + 999, #gone)))
  end
end

-- Converts the next `chunk` pairs of a pairs set into its log, for the catch-up at `mark`;
-- returns the next mark, or nil once every log holds every pair. A score's pairs are converted
-- together: the apply script logs the pairs up to the mark's score.
function PairLog:convert(mark, pairs_keys, chunk)
  local position, score = unpack(log_mark(mark))
  local pairs_key = pairs_keys[position]
  local rows = redis.call('ZRANGEBYSCORE', pairs_key, '(' .. score, '+inf', 'WITHSCORES',
                          'LIMIT', 0, chunk)
  local full = #rows == 2 * chunk
  if full then  -- more may share the last score
    local last, cut = rows[#rows], #rows
    while cut > 0 and rows[cut] == last do cut = cut - 2 end
    if cut > 0 then
      for j = #rows, cut + 1, -1 do rows[j] = nil end
    else
      rows = redis.call('ZRANGEBYSCORE', pairs_key, last, last, 'WITHSCORES')
    end
  end
  local converted = {}
  for j = 1, #rows, 2 do converted[#converted + 1] = self:record(cjson.decode(rows[j]), 1) end
  if #converted > 0 then
    redis.call('APPEND', self.ctx.logs[LOG_CODES[position]], table.concat(converted))
  end
  if full then return position .. ':' .. rows[#rows] end
  if position < #LOG_CODES then return (position + 1) .. ':-1' end
  return nil
end
