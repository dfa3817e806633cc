-- Billing's memory of applied request ids (apply-usage.lua, apply-backdate.lua; inlined by RedisScript's
-- include). The ids, as the fixed-length digests the caller passes (BillingKeys.RequestIdField), live as
-- fields of one hash per account and generation ({acct:M}:bil:rid:g<n>,
-- RequestIdGenerations), written to the current generation; each hash expires as a whole once its
-- last id has been kept for the retention. The account's registry ({acct:M}:bil:rgen, a set of
-- generation numbers) lists the hashes that may still exist, so a lookup reads every hash still
-- there, whatever the clock says now: the retention is the hashes' expiry and nothing else.
-- Their keys are built here from the prefix the caller gives (the account's slot): which
-- generations still exist is known only in the script (docs/redis-keys.md).

-- The generations whose hash still exists; the registry forgets the others.
local function rid_generations(registry, prefix)
  local live = {}
  for _, g in ipairs(redis.call('SMEMBERS', registry)) do
    if redis.call('EXISTS', prefix .. g) == 1 then live[#live + 1] = prefix .. g else redis.call('SREM', registry, g) end
  end
  return live
end

-- ids (a list) → found[id] = {value, key of the hash holding it}; one HMGET per live generation
-- for the ids not found yet (long lists in chunks).
local function rid_lookup(ids, registry, prefix)
  local found, missing = {}, ids
  for _, key in ipairs(rid_generations(registry, prefix)) do
    if #missing == 0 then break end
    local still = {}
    for s = 1, #missing, 2000 do
      local chunk = { unpack(missing, s, math.min(s + 1999, #missing)) }
      local values = redis.call('HMGET', key, unpack(chunk))
      for k, v in ipairs(chunk) do
        if values[k] then found[v] = { values[k], key } else still[#still + 1] = v end
      end
    end
    missing = still
  end
  return found
end

-- Writes field, value pairs (a flat list) to the current generation's hash, registers it and,
-- when the hash is new, gives it its lifetime (ms).
local function rid_store(registry, key, generation, lifetime, fields)
  if #fields == 0 then return end
  for s = 1, #fields, 2000 do redis.call('HSET', key, unpack(fields, s, math.min(s + 1999, #fields))) end
  redis.call('SADD', registry, generation)
  redis.call('PEXPIRE', key, lifetime, 'NX')
end
