-- R-REF-1: why package p (pkg_read) cannot be refunded at now_ms, or nil when it can. The one copy
-- of the rule: the freeze that decides (freeze-for-refund.lua) and the read-only preview
-- (refund-eligibility.lua) both call it, so the preview's answer is the freeze's. In the order the
-- reasons are reported; deadline_ms is the window's end, exclusive (RefundLedger.RefundDeadline).
-- (REASON_*: RefundReasons.Lua, generated before the script.)
-- Returns reason, related refund id ('' unless REFUND_ALREADY_REQUESTED).
local function refund_refusal(p, now_ms, deadline_ms)
  if p.free == FLAG_ON then return REASON_FREE, '' end
  if p.status ~= PKG_ACTIVE then return REASON_ALREADY_REQUESTED, p.refund_id end
  if p.used > 0 or p.backdated > 0 then return REASON_USED, '' end
  if now_ms >= deadline_ms then return REASON_WINDOW_CLOSED, '' end
  return nil, ''
end
