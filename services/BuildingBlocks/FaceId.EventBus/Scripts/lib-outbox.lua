-- The one outbox append (decision 7, docs/events.md): every script that emits events includes it
-- ("-- #include lib-outbox.lua") and is run through OutboxScript, which appends the trace context
-- (traceparent, tracestate of the caller's span) as the script's last two ARGV. Entry fields as
-- OutboxEntry.Fields writes them for MULTI/EXEC: topic, type, data, time (unix ms), traceparent,
-- tracestate, id (a stable event id, so a retried script or relay is a duplicate, never a new event;
-- nil: the relay derives one from the entry's position, e.g. for the batch event of deduct.lua).
local OUTBOX_TRACEPARENT, OUTBOX_TRACESTATE = ARGV[#ARGV - 1], ARGV[#ARGV]

local function outbox_append(outbox, topic, type, data, time, id)
  if id then
    redis.call('XADD', outbox, '*', 'topic', topic, 'type', type, 'data', data, 'time', time,
      'traceparent', OUTBOX_TRACEPARENT, 'tracestate', OUTBOX_TRACESTATE, 'id', id)
  else
    redis.call('XADD', outbox, '*', 'topic', topic, 'type', type, 'data', data, 'time', time,
      'traceparent', OUTBOX_TRACEPARENT, 'tracestate', OUTBOX_TRACESTATE)
  end
end
