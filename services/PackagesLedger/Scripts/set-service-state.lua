-- Suspends or resumes an opened service (R-BIL-4), keeping the changes as a history of instants, so that
-- deduct.lua judges each record by the state at its own time (R-MET-4): a late record of a call made before
-- a suspension is charged, a call made during a suspension that arrives after the resumption is refused.
-- Events may arrive out of order or twice: a change goes in its place by time, an exact repeat is ignored.
-- The history is bounded: only changes within the late window before now matter, and the last one before it
-- (the state at the window's start); older ones are dropped here.
-- Positions: SetServiceStateScript (its Bind and Parse). HIST_*, SVC_*: its preamble (ServiceHistory, ServiceStates).
-- KEYS[1] = {acct:M}:svc
-- ARGV[1] = the change (HIST_SUSPENDED|HIST_RESUMED)   ARGV[2] = when it happened (ms)   ARGV[3] = now (ms)
-- Returns the state now in force (the latest change's), or '' when the service was never opened.
if redis.call('HEXISTS', KEYS[1], SVC_F_ACTIVATED_AT) == 0 then return '' end
local change, at = ARGV[1], tonumber(ARGV[2])
local stored = redis.call('HGET', KEYS[1], SVC_F_STATES)
local entries = {}
if stored then
  for letter, ms in string.gmatch(stored, HIST_ENTRY) do entries[#entries + 1] = { letter, tonumber(ms) } end
else
  -- A hash from before the history: its last change, if it left the service suspended, is the history's start.
  local old = redis.call('HMGET', KEYS[1], SVC_F_STATE, SVC_F_STATE_AT)
  if old[1] == SVC_SUSPENDED then entries[1] = { HIST_SUSPENDED, tonumber(old[2] or '0') } end
end
-- In its place by time (after the changes of the same instant: the latest arrival wins a tie), unless repeated.
local pos = #entries + 1
for k = #entries, 1, -1 do
  if entries[k][2] <= at then break end
  pos = k
end
local repeated = false
for k = pos - 1, 1, -1 do
  if entries[k][2] < at then break end
  if entries[k][1] == change then repeated = true end
end
if not repeated then table.insert(entries, pos, { change, at }) end
-- Bounded: from the last change before the window on.
local from, first = tonumber(ARGV[3]) - HIST_WINDOW_MS, 1
for k = 1, #entries do
  if entries[k][2] < from then first = k end
end
local parts = {}
for k = first, #entries do parts[#parts + 1] = entries[k][1] .. string.format('%013d', entries[k][2]) end
local state = SVC_OPENED
if #entries > 0 and entries[#entries][1] == HIST_SUSPENDED then state = SVC_SUSPENDED end
redis.call('HSET', KEYS[1], SVC_F_STATE, state, SVC_F_STATES, table.concat(parts))
redis.call('HDEL', KEYS[1], SVC_F_STATE_AT)
return state
