-- Creates one purchased package or a set of free packages, exactly once per guard key
-- (purchase: the client's order id; grants: trial / eid), with their PackageDelivered events
-- in the account's outbox, atomically (R-PKG-1, R-ONB-3, R-ONB-5).
-- KEYS[1] = {acct:M}:svc   KEYS[2] = {acct:M}:outbox   KEYS[3] = {acct:M}:pkgs   KEYS[4] = guard key
-- ARGV[1] = hash tag {acct:M}   ARGV[2] = require an opened, unsuspended service (1|0)
-- ARGV[3] = topic  ARGV[4] = event type  ARGV[5] = now (unix ms)  ARGV[6] = traceparent  ARGV[7] = tracestate
-- ARGV[8] = n, then n groups of 13: id, label, size, price_fen, free, purchased_at, valid_from,
--   expires_at, order_id, price_book, order key (avail index member), expires_at ISO, event JSON
-- Returns {'ok'|'dup', comma-separated package ids} or {'not_opened'|'suspended'}.
local tag = ARGV[1]
local guard = redis.call('GET', KEYS[4])
if guard then return {'dup', guard} end
if ARGV[2] == '1' then
  local state = redis.call('HGET', KEYS[1], 'state')
  if not state then return {'not_opened'} end
  if state == 'suspended' then return {'suspended'} end
end
local n = tonumber(ARGV[8])
local ids = {}
for i = 0, n - 1 do
  local b = 9 + i * 13
  local id, label = ARGV[b], ARGV[b + 1]
  redis.call('HSET', tag .. ':pkg:' .. id,
    'label', label, 'size', ARGV[b + 2], 'used', 0, 'price_fen', ARGV[b + 3], 'free', ARGV[b + 4],
    'purchased_at', ARGV[b + 5], 'valid_from', ARGV[b + 6], 'expires_at', ARGV[b + 7],
    'order_id', ARGV[b + 8], 'price_book', ARGV[b + 9], 'ordkey', ARGV[b + 10], 'expires_iso', ARGV[b + 11],
    'status', 'active', 'backdated', 0)
  redis.call('ZADD', KEYS[3], ARGV[b + 5], id)
  redis.call('ZADD', tag .. ':avail:' .. label, 0, ARGV[b + 10])
  redis.call('XADD', KEYS[2], '*', 'topic', ARGV[3], 'type', ARGV[4], 'data', ARGV[b + 12], 'time', ARGV[5],
    'traceparent', ARGV[6], 'tracestate', ARGV[7], 'id', 'delivered:' .. id)
  ids[#ids + 1] = id
end
local list = table.concat(ids, ',')
redis.call('SET', KEYS[4], list)
return {'ok', list}
