-- The package records and the deduction index (docs/redis-keys.md), owned by Packages: included
-- ("-- #include lib-package.lua") by the ledger's scripts and by the scripts of the services that
-- share the package prefixes (Refund's freeze and completion: docs/architecture.md, key ownership).
-- Locals expected before the include: TAG (the account's hash tag), and the constants of
-- PackageScriptLibrary.Preamble (numbers, the record format, statuses, alert flags, event JSON names),
-- generated from their one C# source when the script is loaded.

-- Civil date (year, month, day) of a count of days since 1970-01-01 (H. Hinnant's algorithm).
local function civil(days)
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  return yoe + era * 400 + (m <= 2 and 1 or 0), m, d
end

-- The Shanghai (UTC+8) date of a unix time in ms, yyyymmdd.
local function shanghai_day(ms)
  local y, m, d = civil(math.floor((ms + SHANGHAI_OFFSET_MS) / DAY_MS))
  return string.format('%04d%02d%02d', y, m, d)
end

-- Packages (docs/redis-keys.md). A package is ONE field of the account's hash {acct:M}:pk:<bucket>,
-- bucket = pkg_bucket(id) (LedgerKeys.PackageBucket: PKG_BUCKETS buckets per account, so a bucket stays a
-- small listpack-encoded hash), field = the package id, value = its record: the fields PKG_FIELDS names,
-- in that order, joined by '|' (PKG_PATTERN reads, PKG_FORMAT writes; the numeric ones, PKG_COUNTS, are
-- numbers in Lua). All generated from PackageRecordFormat, which PackageRecord.Parse reads by.
-- status: PKG_ACTIVE, PKG_REFUNDING or PKG_REFUNDED; alerts: one letter per alert raised, PKG_ALERT_FLAG.

local PKG_ID_HEX = '^' .. PKG_ID_PREFIX .. '(%x%x%x)'
local function pkg_bucket(id)
  local hex = string.match(id, PKG_ID_HEX)
  return TAG .. ':pk:' .. (hex and tonumber(hex, 16) % PKG_BUCKETS or 0)
end

-- The package as a table (plus id and bucket), or nil when it does not exist.
local function pkg_read(id)
  local bucket = pkg_bucket(id)
  local s = redis.call('HGET', bucket, id)
  if not s then return nil end
  local f = { string.match(s, PKG_PATTERN) }
  if not f[1] then error('package record of ' .. id .. ' is malformed: ' .. s) end
  local p = { id = id, bucket = bucket }
  for i = 1, #PKG_FIELDS do
    local name = PKG_FIELDS[i]
    p[name] = PKG_COUNTS[name] and tonumber(f[i]) or f[i]
  end
  return p
end

local function pkg_write(p)
  local f = {}
  for i = 1, #PKG_FIELDS do f[i] = p[PKG_FIELDS[i]] end
  redis.call('HSET', p.bucket, p.id, string.format(PKG_FORMAT, unpack(f)))
end

-- The deduction index: {acct:M}:avail:<label>, a sorted set (every score 0, lex order) with one
-- member "<0 free|1 purchased>|<expires_at 13 digits>|<purchase day yyyymmdd>" per group of usable
-- packages that share them, and per member a list {acct:M}:avail:<label>:<member> of the group's
-- package ids by purchase time, then id (R-PKG-3). The index's first member expiring after t, then
-- its list's head, is the package to charge: O(log n) in the number of packages.
local function pkg_queue(p)
  local index = TAG .. ':avail:' .. p.label
  local member = string.format('%s|%013d|%s', p.free == FLAG_ON and '0' or '1', p.expires_at, shanghai_day(p.purchased_at))
  return index, member, index .. ':' .. member
end

-- Puts a new package into its list, after the last one bought no later (concurrent purchases of a
-- day may arrive out of order).
local function pkg_enqueue(p)
  local index, member, queue = pkg_queue(p)
  local k, tail = -1, redis.call('LINDEX', queue, -1)
  while tail do
    local o = pkg_read(tail)
    if not o or o.purchased_at < p.purchased_at or (o.purchased_at == p.purchased_at and o.id < p.id) then break end
    k = k - 1
    tail = redis.call('LINDEX', queue, k)
  end
  if k == -1 then redis.call('RPUSH', queue, p.id)
  elseif tail then redis.call('LINSERT', queue, 'AFTER', tail, p.id)
  else redis.call('LPUSH', queue, p.id) end
  redis.call('ZADD', index, 0, member)
end

-- Takes a package out of the index (exhausted, frozen for a refund); an emptied list leaves the index.
local function pkg_dequeue(p)
  local index, member, queue = pkg_queue(p)
  redis.call('LREM', queue, 1, p.id)
  if redis.call('EXISTS', queue) == 0 then redis.call('ZREM', index, member) end
end

