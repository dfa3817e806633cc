using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FaceId.Refund.Application;

/// <summary>
/// Finishes refunds that were frozen but not credited — the process died between the two steps,
/// or Refund:CompleteInline is off — every Refund:CompletionIntervalMs (crash recovery). Entries
/// of <see cref="PendingRefunds"/> older than Refund:CompletionGraceMs are claimed with a lease
/// (Refund:CompletionLeaseMs), so replicas never work on the same entry at once and a claim of a
/// dead worker comes back. The credit itself is exactly once whoever runs it (complete-refund.lua).
/// </summary>
public sealed class RefundCompletionWorker(
    PendingRefunds pending,
    RefundApplication refunds,
    IOptions<RefundOptions> options,
    TimeProvider time,
    ILogger<RefundCompletionWorker> logger) : BackgroundService
{
    private const int BatchSize = 100;

    /// <summary>Completes every due pending refund once; returns how many entries were claimed.</summary>
    public async Task<int> RunDueAsync(CancellationToken ct = default)
    {
        var grace = TimeSpan.FromMilliseconds(options.Value.CompletionGraceMs);
        var lease = TimeSpan.FromMilliseconds(options.Value.CompletionLeaseMs);
        var total = 0;
        while (!ct.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            var due = await pending.ClaimDueAsync(now - grace, now + lease, BatchSize);
            foreach (var member in due)
            {
                if (!PendingRefunds.TryParse(member, out var account, out var refund))
                {
                    logger.LogWarning("Dropping malformed pending refund entry {Member}", member);
                    await pending.RemoveAsync(member);
                    continue;
                }
                try
                {
                    var outcome = await refunds.CompleteAsync(account, refund);
                    if (outcome == CompletionOutcome.Credited)
                        logger.LogInformation("Refund {RefundId} of {AccountId} credited by the completion worker", refund, account);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The entry stays claimed and comes back when its lease ends.
                    logger.LogWarning(e, "Completing refund {RefundId} of {AccountId} failed; retrying after the lease", refund, account);
                }
            }
            total += due.Count;
            if (due.Count < BatchSize) break;
        }
        return total;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.CompletionWorkerEnabled)
        {
            logger.LogWarning("Refund completion worker is disabled (Refund:CompletionWorkerEnabled=false): approved refunds wait for another replica");
            return;
        }
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.CompletionIntervalMs), time);
        do
        {
            try
            {
                await RunDueAsync(stoppingToken);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                logger.LogWarning(e, "Refund completion run failed; retrying at the next tick");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
