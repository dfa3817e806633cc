using Microsoft.Extensions.Options;

namespace FaceId.Billing.Application;

/// <summary>
/// Billing's clock-driven work, on the injected <see cref="TimeProvider"/> (tests move it with
/// FakeTimeProvider): every interval it settles each account's periods that ended a grace time
/// ago (R-BIL-2), suspends accounts whose arrears are older than 24 h (R-BIL-4), and at its own
/// interval runs the reconciliation check (R-BIL-3). Safe with several replicas: settlement claims
/// each account, and suspension is decided inside the account's script.
/// </summary>
public sealed class BillingScheduler(
    SettlementService settlement,
    BalanceService balances,
    ReconciliationService reconciliation,
    IOptions<BillingOptions> options,
    TimeProvider time,
    ILogger<BillingScheduler> logger) : BackgroundService
{
    private long _lastTickTicks = DateTimeOffset.MinValue.UtcTicks;

    /// <summary>The provider time at which the last complete pass started (tests wait on it).</summary>
    public DateTimeOffset LastPassAt => new(Interlocked.Read(ref _lastTickTicks), TimeSpan.Zero);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.SchedulerEnabled)
        {
            logger.LogInformation("Billing scheduler is disabled (Billing:SchedulerEnabled=false)");
            return;
        }
        var nextReconciliation = time.GetUtcNow() + options.Value.ReconciliationInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            try
            {
                await RunPassAsync(now, now >= nextReconciliation, stoppingToken);
                if (now >= nextReconciliation) nextReconciliation = now + options.Value.ReconciliationInterval;
                Interlocked.Exchange(ref _lastTickTicks, now.UtcTicks);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Billing scheduler pass failed; retrying next interval");
            }
            try
            {
                await Task.Delay(options.Value.SchedulerInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>One pass at <paramref name="now"/>: settle, suspend, and (when due) reconcile.</summary>
    private async Task RunPassAsync(DateTimeOffset now, bool reconcile, CancellationToken ct)
    {
        await settlement.SettleDueAccountsAsync(now, ct);
        await balances.SuspendDueAsync(now, ct);
        if (reconcile) await reconciliation.CheckRecentAsync(now, balances.ReindexIfInArrearsAsync, ct);
    }
}
