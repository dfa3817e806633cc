using FaceId.Common;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FaceId.Packages.Ledger;

/// <summary>
/// Runs due package steps (expiring in 7 days / 1 day, expired, prune; PackageSchedule: one member
/// per account and purchase day) every
/// Packages:SchedulerIntervalMs. State lives in Redis, so it survives restarts and runs safely
/// on several replicas.
/// </summary>
public sealed class ExpiryScheduler(PackageSchedule schedule, PackageLedger ledger, PackageReader reader, TimeProvider time, IConfiguration configuration, ILogger<ExpiryScheduler> logger)
    : BackgroundService
{
    /// <summary>Runs every step due now; returns how many schedule members it handled.</summary>
    public async Task<int> RunDueAsync(CancellationToken ct = default)
    {
        var total = 0;
        while (!ct.IsCancellationRequested)
        {
            var due = await schedule.ClaimDueAsync(time.GetUtcNow(), 200);
            foreach (var claimed in due)
            {
                // Every step due by now runs (each is idempotent: a time jump may make several due at once).
                var packages = await reader.ListPackageIdsPurchasedOnAsync(claimed.AccountId, claimed.Day);
                var (steps, next) = PackageSchedule.StepsAt(ChinaCalendar.AnniversaryOf(ChinaCalendar.StartOf(claimed.Day)), time.GetUtcNow());
                foreach (var package in packages)
                    foreach (var s in steps) await ledger.RunPackageStepAsync(claimed.AccountId, package, s);
                await schedule.RescheduleAsync(claimed, next);
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
