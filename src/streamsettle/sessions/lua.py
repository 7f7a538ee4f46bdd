"""The Lua scripts of the Redis session store (see docs/playback.md for the key layout).

``REPORT`` mirrors ``domain.playback.apply_heartbeat`` step for step in integer ms. Lua
numbers are doubles, exact for integers below 2**53; epoch milliseconds and positions are
far below that, and integers are written back with ``%d`` so that no exponent form appears.
"""

from __future__ import annotations

COUNT = """
-- Count one event in each window counter K[i] (i >= first) against its limit A[i + shift],
-- 'count:window_ms'. The ms until the window of the first limit passed ends, or 0; the
-- limits after that one are not counted.
local function count_against(K, first, A, shift, now)
  for i = first, #K do
    local most, window = string.match(A[i + shift], '(%d+):(%d+)')
    window = tonumber(window)
    local count = redis.call('INCR', K[i])
    if count == 1 then redis.call('PEXPIRE', K[i], 2 * window) end
    if count > tonumber(most) then return window - now % window end
  end
  return 0
end
"""

LIMIT = (
    COUNT
    + """
-- KEYS: the window counters (``Limit.window_key``); ARGV: 1 now_ms, 2.. each key's limit.
return count_against(KEYS, 1, ARGV, 1, tonumber(ARGV[1]))
"""
)

REPORT = (
    COUNT
    + """
-- Any number of reports in one call, applied in order (one round trip for a whole batch
-- of heartbeats). For each report, ARGV[r] is one space-separated string (one argument for
-- the client to encode, not eleven):
--   1 session id, 2 now_ms, 3 caller ('-' = anonymous), 4 seq, 5 position_ms,
--   6 playing '1'|'0', 7 stop '1'|'0', 8 grace_ms, 9 check the caller's token '1'|'0',
--   10.. its rate limits (L of them, each 'count:window_ms');
-- and its 7 + L keys follow the previous report's in KEYS:
--   1 session hash, 2 live zset, 3 ended zset, 4 changed set (sessions to checkpoint),
--   5 revocations-loaded marker, 6 the token's revoked marker, 7 its login's revoked marker,
--   8.. rate-limit counters of this window, aligned with the limits.
-- The reply holds one {status, watched_ms, reached, retry_after_ms} per report.
local function report(K, A)
  local now = tonumber(A[2])
  local check = A[9] == '1'
  -- Before the limits, so that the report sent again once they are loaded counts once.
  if check and redis.call('EXISTS', K[5]) == 0 then
    return {'revocations_missing', 0, '', 0}
  end
  local retry_after = count_against(K, 8, A, 2, now)
  if retry_after > 0 then return {'rate_limited', 0, '', retry_after} end
  if check and redis.call('EXISTS', K[6], K[7]) > 0 then
    return {'revoked', 0, '', 0}
  end
  local f = redis.call('HMGET', K[1], 'state', 'viewer', 'seq', 'pos', 'at', 'watched',
                       'dur', 'slots', 'reached')
  if not f[1] then return {'not_found', 0, '', 0} end
  if f[2] ~= '' then
    if A[3] == '' then return {'unauthenticated', 0, '', 0} end
    if A[3] ~= f[2] then return {'forbidden', 0, '', 0} end
  end
  local watched = tonumber(f[6])
  local reached = f[9]
  if f[1] ~= 'live' then return {'ended', watched, reached, 0} end
  local stop = A[7] == '1'
  local accepted = tonumber(A[4]) > tonumber(f[3])
  if accepted then
    local old = tonumber(f[4])
    local dur = tonumber(f[7])
    local pos = tonumber(A[5])
    if pos < 0 then pos = 0 elseif pos > dur then pos = dur end
    if (A[6] == '1' or stop) and pos > old then
      local wall = now - tonumber(f[5])
      if wall < 0 then wall = 0 end
      local gain = pos - old
      if gain > wall + tonumber(A[8]) then gain = wall + tonumber(A[8]) end
      watched = watched + gain
      local have = {}
      for s in string.gmatch(reached, '%d+') do have[s] = true end
      for s in string.gmatch(f[8], '(%d+):%d*') do
        local at_ms = tonumber(s) * 1000
        if old < at_ms and at_ms <= pos and not have[s] then
          if reached == '' then reached = s else reached = reached .. ',' .. s end
          have[s] = true
        end
      end
    end
    redis.call('HSET', K[1], 'pos', string.format('%d', pos), 'at', A[2],
               'watched', string.format('%d', watched), 'seq', A[4], 'reached', reached)
  end
  if stop then
    redis.call('HSET', K[1], 'state', 'stopped', 'ended', A[2])
    redis.call('ZREM', K[2], A[1])
    redis.call('ZADD', K[3], A[2], A[1])
    return {'accepted', watched, reached, 0}
  end
  if not accepted then return {'duplicate', watched, reached, 0} end
  redis.call('ZADD', K[2], A[2], A[1])
  redis.call('SADD', K[4], A[1])
  return {'accepted', watched, reached, 0}
end

local replies = {}
local k = 0
for r = 1, #ARGV do
  local A = {}
  for v in string.gmatch(ARGV[r], '%S+') do A[#A + 1] = v end
  if A[3] == '-' then A[3] = '' end
  local K = {}
  for i = 1, #A - 2 do K[i] = KEYS[k + i] end
  k = k + #A - 2
  replies[r] = report(K, A)
end
return replies
"""
)

CLAIM = """
-- KEYS: 1 live zset, 2 ended zset
-- ARGV: 1 now_ms, 2 idle_before_ms, 3 lease_until_ms, 4 limit, 5 hash key prefix,
--       6 mode 'due'|'ids', 7.. session ids (mode 'ids')
local ids = {}
if ARGV[6] == 'due' then
  local limit = tonumber(ARGV[4])
  ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, limit)
  if #ids < limit then
    local idle = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, limit - #ids)
    for _, id in ipairs(idle) do ids[#ids + 1] = id end
  end
else
  for i = 7, #ARGV do ids[#ids + 1] = ARGV[i] end
end
local out = {}
for _, id in ipairs(ids) do
  local key = ARGV[5] .. id
  redis.call('ZREM', KEYS[1], id)
  if redis.call('EXISTS', key) == 1 then
    if redis.call('HGET', key, 'state') == 'live' then
      redis.call('HSET', key, 'state', 'stopped', 'ended', redis.call('HGET', key, 'at'))
    end
    redis.call('ZADD', KEYS[2], ARGV[3], id)
    out[#out + 1] = {id, redis.call('HGETALL', key)}
  else
    redis.call('ZREM', KEYS[2], id)
  end
end
return out
"""

CHECKPOINT = """
-- Take up to ARGV[1] sessions out of the changed set (KEYS[1]) and answer {id, HGETALL}
-- for each one still held (ARGV[2] is the hash key prefix). A session changed again after
-- this is added again by the report that changed it.
local limit = tonumber(ARGV[1])
local out = {}
while #out < limit do
  local ids = redis.call('SPOP', KEYS[1], limit - #out)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local h = redis.call('HGETALL', ARGV[2] .. id)
    if #h > 0 then out[#out + 1] = {id, h} end
  end
end
return out
"""
