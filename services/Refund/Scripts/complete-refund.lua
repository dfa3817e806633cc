-- R-REF-3: credits an approved refund exactly once: the package becomes refunded, the refund
-- credited, and RefundCompleted (Billing adds the amount to the balance) enters the outbox, together.
-- KEYS[1] = {acct:M}:ref:<refund id>  KEYS[2] = {acct:M}:outbox
-- ARGV[1] = now (ms)  ARGV[2] = history JSON (credited)  ARGV[3] = topic  ARGV[4] = type
-- ARGV[5] = RefundCompleted JSON  ARGV[6] = refund id  ARGV[7] = hash tag  ARGV[8] = package id
-- then the trace context (OutboxScript)
-- Returns 'credited' (now), 'already' (earlier), or the refund's state when it cannot be credited.
local TAG = ARGV[7]
-- #include lib-package.lua
-- #include lib-outbox.lua

local state = redis.call('HGET', KEYS[1], 'state')
if state == 'credited' then return 'already' end
if state ~= 'approved' then return state or 'missing' end
redis.call('HSET', KEYS[1], 'state', 'credited', 'credited_at', ARGV[1])
redis.call('RPUSH', KEYS[1] .. ':history', ARGV[2])
local p = pkg_read(ARGV[8])
if p then
  p.status = PKG_REFUNDED
  pkg_write(p)
end
outbox_append(KEYS[2], ARGV[3], ARGV[4], ARGV[5], ARGV[1], 'refund-completed:' .. ARGV[6])
return 'credited'
