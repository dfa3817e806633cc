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
public sealed class ExpiryScheduler(PackageSchedule schedule, PackageLedger ledger, TimeProvider time, IConfiguration configuration, ILogger<ExpiryScheduler> logger)
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
                if (claimed.Step is { } step)
                {
                    // A member of the one-per-step layout: that step, once.
                    await ledger.RunPackageStepAsync(claimed.AccountId, claimed.PackageId!, step);
                    await schedule.RescheduleAsync(claimed, null);
                    continue;
                }
                // Every step due by now runs (each is idempotent: a time jump may make several due at once).
                IReadOnlyList<string> packages;
                DateTimeOffset? expires;
                if (claimed.Day is { } day)
                    (packages, expires) = (await ledger.ListPackageIdsPurchasedOnAsync(claimed.AccountId, day), ChinaCalendar.AnniversaryOf(ChinaCalendar.StartOf(day)));
                else
                    (packages, expires) = ([claimed.PackageId!], await ledger.GetExpiryAsync(claimed.AccountId, claimed.PackageId!));
                var (steps, next) = expires is { } e ? PackageSchedule.StepsAt(e, time.GetUtcNow()) : ([], null);
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
