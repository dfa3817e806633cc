using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FaceId.Packages.Ledger;

/// <summary>
/// Runs due package steps (expiring in 7 days / 1 day, expired, prune; PackageSchedule) every
/// Packages:SchedulerIntervalMs. State lives in Redis, so it survives restarts and runs safely
/// on several replicas.
/// </summary>
public sealed class ExpiryScheduler(PackageSchedule schedule, PackageLedger ledger, TimeProvider time, IConfiguration configuration, ILogger<ExpiryScheduler> logger)
    : BackgroundService
{
    /// <summary>Runs every step due now; returns how many ran.</summary>
    public async Task<int> RunDueAsync(CancellationToken ct = default)
    {
        var total = 0;
        while (!ct.IsCancellationRequested)
        {
            var due = await schedule.ClaimDueAsync(time.GetUtcNow(), 200);
            foreach (var (account, package, step, member) in due)
            {
                if (step is not null)
                {
                    await ledger.RunPackageStepAsync(account, package, step);
                    await schedule.CompleteAsync(member);
                    continue;
                }
                // Every step due by now runs (each is idempotent: a time jump may make several due at once).
                var expires = await ledger.GetExpiryAsync(account, package);
                var (steps, next) = expires is { } e ? PackageSchedule.StepsAt(e, time.GetUtcNow()) : ([], null);
                foreach (var s in steps) await ledger.RunPackageStepAsync(account, package, s);
                await (next is { } n ? schedule.RescheduleAsync(member, n) : schedule.CompleteAsync(member));
            }
            total += due.Count;
            if (due.Count < 200) break;
        }
        return total;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromMilliseconds(configuration.GetValue("Packages:SchedulerIntervalMs", 30_000));
        using var timer = new PeriodicTimer(interval, time);
        do
        {
            try
            {
                await RunDueAsync(stoppingToken);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                logger.LogWarning(e, "Package schedule run failed; retrying at the next tick");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
