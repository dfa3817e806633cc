-- R-REF-1, read-only: for each package, whether it could be refunded now, by the freeze's own rule
-- (lib-refund-rules.lua). Changes nothing; RequestRefund's freeze decides again atomically.
-- KEYS[1] = {acct:M}:refs (not read: routes the call to the account's slot)
-- ARGV[1] = hash tag  ARGV[2] = now (ms), then per package: ARGV[i] = package id, ARGV[i+1] = refund deadline, exclusive (ms)
-- Returns one {verdict, related refund id or ''} per package, in order; verdict: REFUNDABLE,
-- REFUND_PACKAGE_NOT_FOUND or a refusal reason of lib-refund-rules.lua.
local TAG = ARGV[1]
-- #include lib-package.lua
-- #include lib-refund-rules.lua

local now = tonumber(ARGV[2])
local verdicts = {}
for i = 3, #ARGV, 2 do
  local p = pkg_read(ARGV[i])
  if not p then
    verdicts[#verdicts + 1] = {REASON_NOT_FOUND, ''}
  else
    local reason, related = refund_refusal(p, now, tonumber(ARGV[i + 1]))
    verdicts[#verdicts + 1] = {reason or VERDICT_REFUNDABLE, related}
  end
end
return verdicts
