-- Removes a claimed due entry only if it still has the claim's score (a redelivery may have
-- rescheduled it since): a compare-and-delete on a sorted-set member's score.
-- Positions: WebhookReleaseDueScript (WebhookScripts.cs).
-- KEYS: wh:due.  ARGV: member, score of the claim (its lease end, ms).  Returns 1 when removed, else 0.
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
