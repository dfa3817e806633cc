-- Creates one purchased package or a set of free packages, exactly once per guard (purchase: the
-- client's order id; grants: trial / eid) — the package ids derive from the guard (PackageLedger.PackageId),
-- so the first package's existence is the guard — atomically with their events
-- (R-PKG-1, R-ONB-3, R-ONB-5), and backdates onto each new package the postpaid calls of its
-- label made since 00:00 of its purchase day, oldest first, up to its size (R-PKG-4).
-- Positions: CreatePackagesScript (its Bind and Parse); ST_* and PACKAGE_FIELDS: its preamble.
-- KEYS[1] = {acct:M}:svc   KEYS[2] = {acct:M}:outbox   KEYS[3] = {acct:M}:days
-- ARGV[1] = hash tag {acct:M}   ARGV[2] = main account id   ARGV[3] = require an opened, unsuspended service (FLAG_ON or not)
-- ARGV[4] = now (unix ms)  ARGV[5] = now ISO  ARGV[6..11] = topic and type of PackageDelivered, UsageBackdated, PackageAlert
-- ARGV[12] = purchased_at (unix ms)  ARGV[13] = start of the purchase day (unix ms)  ARGV[14] = purchase day (yyyymmdd)
-- ARGV[15] = expires_at (unix ms)  ARGV[16] = order id ('' for grants)
-- ARGV[17] = n, then n groups of PACKAGE_FIELDS: id, label, size, price_fen, free, price_book, PackageDelivered JSON;
-- then the trace context (OutboxScript)
--   (its backdated calls are filled in here)
-- Returns {ST_CREATED|ST_ALREADY_CREATED, comma-separated package ids (for ST_ALREADY_CREATED: those that exist)}
-- or {ST_NOT_OPENED|ST_SUSPENDED}.
local TAG, ACCOUNT, NOW, NOW_ISO = ARGV[1], ARGV[2], ARGV[4], ARGV[5]
-- #include lib-usage.lua

local n, G = tonumber(ARGV[17]), PACKAGE_FIELDS
if redis.call('HEXISTS', pkg_bucket(ARGV[18]), ARGV[18]) == 1 then
  local existing = {}
  for i = 0, n - 1 do
    local id = ARGV[18 + i * G]
    if redis.call('HEXISTS', pkg_bucket(id), id) == 1 then existing[#existing + 1] = id end
  end
  return {ST_ALREADY_CREATED, table.concat(existing, ',')}
end
if ARGV[3] == FLAG_ON then
  local state = redis.call('HGET', KEYS[1], SVC_F_STATE)
  if not state then return {ST_NOT_OPENED} end
  if state == SVC_SUSPENDED then return {ST_SUSPENDED} end
end
local day = ARGV[14]
local dayList = TAG .. ':day:' .. day
redis.call('ZADD', KEYS[3], ARGV[13], day)
local ids = {}
for i = 0, n - 1 do
  local b = 18 + i * G
  local id = ARGV[b]
  local p = { id = id, bucket = pkg_bucket(id), label = ARGV[b + 1], size = tonumber(ARGV[b + 2]), used = 0,
    price_fen = ARGV[b + 3], free = ARGV[b + 4], purchased_at = tonumber(ARGV[12]), expires_at = tonumber(ARGV[15]),
    price_book = ARGV[b + 5], status = PKG_ACTIVE, alerts = '', backdated = 0, refund_id = '', order_id = ARGV[16] }

  -- R-PKG-4: the purchase day's postpaid calls of this label move onto the package.
  local postq = TAG .. ':postq:' .. p.label .. ':' .. day
  -- A member is the request id, followed by CTR_SEP and the sub-account for a sub-account's call (deduct.lua):
  -- the day counters move per cell (label, or label|sub).
  local moved = redis.call('ZRANGE', postq, 0, p.size - 1)
  if #moved > 0 then
    local rids, cells = {}, {}
    for k, member in ipairs(moved) do
      local rid, sub = string.match(member, '^([^' .. CTR_SEP .. ']+)(.*)$')
      rids[k] = rid
      local cell = p.label .. sub
      cells[cell] = (cells[cell] or 0) + 1
      local remaining = pkg_use_unit(p)
      for _, gen in ipairs({ RID_GEN, RID_GEN - 1 }) do
        local ridKey = rid_key(gen)
        local kept = redis.call('HGET', ridKey, rid)
        if kept then
          -- The call's fingerprint stays with its id (FP_SEP and what follows: UsageFingerprint).
          local sep = string.find(kept, FP_SEP, 1, true)
          redis.call('HSET', ridKey, rid, rid_value(KIND_PACKAGE, p.label, id, remaining) .. (sep and string.sub(kept, sep) or ''))
          break
        end
      end
    end
    p.backdated = #moved
    redis.call('ZREM', postq, unpack(moved))
    local ctr = TAG .. ':ctr:' .. day
    for cell, count in pairs(cells) do
      redis.call('HINCRBY', ctr, cell .. CTR_SEP .. KIND_POSTPAID, -count)
      redis.call('HINCRBY', ctr, cell .. CTR_SEP .. KIND_PACKAGE, count)
    end
    outbox_append(KEYS[2], ARGV[8], ARGV[9],
      cjson.encode({ [UB_ACCOUNT_ID] = ACCOUNT, [UB_PACKAGE_ID] = id, [UB_LABEL] = p.label, [UB_REQUEST_IDS] = rids }),
      NOW, 'backdated:' .. id)
  end
  pkg_write(p)
  if p.used < p.size then pkg_enqueue(p) end
  redis.call('RPUSH', dayList, id)

  local delivered = cjson.decode(ARGV[b + 6])
  delivered[PD_BACKDATED_CALLS] = tostring(#moved)
  outbox_append(KEYS[2], ARGV[6], ARGV[7], cjson.encode(delivered), NOW, 'delivered:' .. id)
  ids[#ids + 1] = id
end
flush_alerts(KEYS[2], ARGV[10], ARGV[11])
return {ST_CREATED, table.concat(ids, ',')}
