-- R-REF-3: credits an approved refund exactly once: the package becomes refunded, the refund
-- credited, and RefundCompleted (Billing adds the amount to the balance) enters the outbox, together.
-- KEYS[1] = {acct:M}:ref:<refund id>  KEYS[2] = {acct:M}:outbox
-- ARGV[1] = now (ms)  ARGV[2] = history JSON (credited)  ARGV[3] = topic  ARGV[4] = type
-- ARGV[5] = RefundCompleted JSON  ARGV[6] = traceparent  ARGV[7] = tracestate  ARGV[8] = refund id
-- ARGV[9] = hash tag  ARGV[10] = package id
-- Returns 'credited' (now), 'already' (earlier), or the refund's state when it cannot be credited.
local TAG = ARGV[9]
-- #include lib-package.lua

local state = redis.call('HGET', KEYS[1], 'state')
if state == 'credited' then return 'already' end
if state ~= 'approved' then return state or 'missing' end
redis.call('HSET', KEYS[1], 'state', 'credited', 'credited_at', ARGV[1])
redis.call('RPUSH', KEYS[1] .. ':history', ARGV[2])
local p = pkg_read(ARGV[10])
if p then
  p.status = 'refunded'
  pkg_write(p)
end
redis.call('XADD', KEYS[2], '*', 'topic', ARGV[3], 'type', ARGV[4], 'data', ARGV[5], 'time', ARGV[1],
  'traceparent', ARGV[6], 'tracestate', ARGV[7], 'id', 'refund-completed:' .. ARGV[8])
return 'credited'
