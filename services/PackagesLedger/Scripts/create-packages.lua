-- Creates one purchased package or a set of free packages, exactly once per guard (purchase: the
-- client's order id; grants: trial / eid) — the package ids derive from the guard (PackageLedger.PackageId),
-- so the first package's existence is the guard — atomically with their events
-- (R-PKG-1, R-ONB-3, R-ONB-5), and backdates onto each new package the postpaid calls of its
-- label made since 00:00 of its purchase day, oldest first, up to its size (R-PKG-4).
-- KEYS[1] = {acct:M}:svc   KEYS[2] = {acct:M}:outbox   KEYS[3] = {acct:M}:pkgs   KEYS[4] = {acct:M}:pkg:<first id>
-- ARGV[1] = hash tag {acct:M}   ARGV[2] = main account id   ARGV[3] = require an opened, unsuspended service (1|0)
-- ARGV[4] = now (unix ms)  ARGV[5] = now ISO  ARGV[6] = traceparent  ARGV[7] = tracestate
-- ARGV[8..13] = topic and type of PackageDelivered, UsageBackdated, PackageAlert
-- ARGV[14] = n, then n groups of 14: id, label, size, price_fen, free, purchased_at, valid_from,
--   expires_at, order_id, price_book, avail index member, expires_at ISO, purchase day (yyyymmdd),
--   PackageDelivered JSON (backdatedCalls is filled in here)
-- The hash keeps no field derivable from others (valid_from, the index member and the ISO expiry are
-- computed where needed; backdated is written only when non-zero): memory per package.
-- Returns {'ok'|'dup', comma-separated package ids (for 'dup': those that exist)} or {'not_opened'|'suspended'}.
local TAG, ACCOUNT, NOW, NOW_ISO = ARGV[1], ARGV[2], ARGV[4], ARGV[5]
-- #include lib-usage.lua

local n = tonumber(ARGV[14])
if redis.call('EXISTS', KEYS[4]) == 1 then
  local existing = {}
  for i = 0, n - 1 do
    local id = ARGV[15 + i * 14]
    if redis.call('EXISTS', TAG .. ':pkg:' .. id) == 1 then existing[#existing + 1] = id end
  end
  return {'dup', table.concat(existing, ',')}
end
if ARGV[3] == '1' then
  local state = redis.call('HGET', KEYS[1], 'state')
  if not state then return {'not_opened'} end
  if state == 'suspended' then return {'suspended'} end
end
local tp, ts = ARGV[6], ARGV[7]
local ids = {}
for i = 0, n - 1 do
  local b = 15 + i * 14
  local id, label, size, day = ARGV[b], ARGV[b + 1], tonumber(ARGV[b + 2]), ARGV[b + 12]
  local key = TAG .. ':pkg:' .. id
  redis.call('HSET', key,
    'label', label, 'size', size, 'used', 0, 'price_fen', ARGV[b + 3], 'free', ARGV[b + 4],
    'purchased_at', ARGV[b + 5], 'expires_at', ARGV[b + 7],
    'order_id', ARGV[b + 8], 'price_book', ARGV[b + 9], 'status', 'active')
  redis.call('ZADD', KEYS[3], ARGV[b + 5], id)
  redis.call('ZADD', TAG .. ':avail:' .. label, 0, ARGV[b + 10])

  -- R-PKG-4: the purchase day's postpaid calls of this label move onto the package.
  local postq = TAG .. ':postq:' .. label .. ':' .. day
  local moved = redis.call('ZRANGE', postq, 0, size - 1)
  if #moved > 0 then
    local remaining = size
    for _, rid in ipairs(moved) do
      remaining = use_unit(id, label, size, ARGV[b + 10])
      local bucket = rid_bucket(rid)
      for _, gen in ipairs({ RID_GEN, RID_GEN - 1 }) do
        local ridKey = rid_key(gen, bucket)
        if redis.call('HEXISTS', ridKey, rid) == 1 then
          redis.call('HSET', ridKey, rid, 'P|' .. label .. '|' .. id .. '|' .. remaining)
          break
        end
      end
    end
    redis.call('ZREM', postq, unpack(moved))
    local ctr = TAG .. ':ctr:' .. day
    redis.call('HINCRBY', ctr, label .. '|O', -#moved)
    redis.call('HINCRBY', ctr, label .. '|P', #moved)
    redis.call('HSET', key, 'backdated', #moved)
    redis.call('XADD', KEYS[2], '*', 'topic', ARGV[10], 'type', ARGV[11], 'time', NOW, 'traceparent', tp, 'tracestate', ts,
      'id', 'backdated:' .. id,
      'data', cjson.encode({ accountId = ACCOUNT, packageId = id, label = label, requestIds = moved }))
  end

  local delivered = cjson.decode(ARGV[b + 13])
  delivered.backdatedCalls = tostring(#moved)
  redis.call('XADD', KEYS[2], '*', 'topic', ARGV[8], 'type', ARGV[9], 'data', cjson.encode(delivered), 'time', NOW,
    'traceparent', tp, 'tracestate', ts, 'id', 'delivered:' .. id)
  ids[#ids + 1] = id
end
flush_alerts(KEYS[2], ARGV[12], ARGV[13], tp, ts)
return {'ok', table.concat(ids, ',')}
