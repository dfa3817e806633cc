using FaceId.Common;
using FaceId.Packages.Ledger;
using FaceId.TestKit;
using StackExchange.Redis;
using Xunit;

namespace FaceId.Ledger.Tests;

/// <summary>
/// R-PKG-6's time-based alerts come from ledger:schedule, which holds one member per account and
/// purchase day (every package bought that day expires at the same instant, R-PKG-2).
/// </summary>
public sealed class PackageScheduleTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static DateTimeOffset Shanghai(int y, int m, int d, int h = 0, int min = 0) => new(y, m, d, h, min, 0, ChinaCalendar.Offset);

    [Fact]
    public async Task R_PKG_6_one_schedule_member_per_account_and_purchase_day_serves_every_package_bought_that_day()
    {
        await using var host = new LedgerHost(redis.ConnectionString, Shanghai(2026, 3, 10, 0, 5));
        var account = await host.OpenedAccountAsync();
        var sameDay = new List<PackageRecord>();
        for (var i = 0; i < 3; i++) sameDay.Add(await host.BuyAsync(account, "basic_authoritative", 1000));
        host.Time.SetUtcNow(Shanghai(2026, 3, 10, 23, 59));
        await host.Ledger.SetEnterpriseVerifiedAsync(account, host.Time.GetUtcNow()); // E证通 (R-ONB-4)
        sameDay.Add(await host.BuyAsync(account, "eid_authoritative", 1000));
        host.Time.SetUtcNow(Shanghai(2026, 3, 11, 0, 1));
        var nextDay = await host.BuyAsync(account, "basic_authoritative", 1000);

        var members = (await host.Redis.SortedSetRangeByRankAsync(PackageSchedule.Key)).Select(m => (string)m!)
            .Where(m => m.StartsWith(account + "|", StringComparison.Ordinal)).Order().ToList();
        Assert.Equal([$"{account}|day:20260310", $"{account}|day:20260311"], members);

        // Seven days before the first day's packages expire (2027-03-10 00:00): all four get the alert, the next day's not yet.
        host.Time.SetUtcNow(Shanghai(2027, 3, 3));
        await host.Scheduler.RunDueAsync();
        var outbox = await host.OutboxAsync(account);
        foreach (var p in sameDay) Assert.Single(outbox, e => e.Id == $"alert:{p.Id}:PACKAGE_ALERT_KIND_EXPIRING_7D");
        Assert.DoesNotContain(outbox, e => e.Id.StartsWith($"alert:{nextDay.Id}:", StringComparison.Ordinal));

        host.Time.SetUtcNow(Shanghai(2027, 3, 4));
        await host.Scheduler.RunDueAsync();
        await host.Scheduler.RunDueAsync();
        outbox = await host.OutboxAsync(account);
        Assert.Single(outbox, e => e.Id == $"alert:{nextDay.Id}:PACKAGE_ALERT_KIND_EXPIRING_7D");
        foreach (var p in sameDay) Assert.Single(outbox, e => e.Id == $"alert:{p.Id}:PACKAGE_ALERT_KIND_EXPIRING_7D");
    }

    [Fact]
    public async Task R_PKG_6_a_package_created_for_a_day_whose_steps_already_ran_still_gets_them()
    {
        var bought = Shanghai(2026, 3, 10, 10);
        await using var host = new LedgerHost(redis.ConnectionString, bought);
        var account = await host.OpenedAccountAsync();
        var first = await host.BuyAsync(account, "basic_authoritative", 1000);
        host.Time.SetUtcNow(Shanghai(2027, 3, 3, 12));
        await host.Scheduler.RunDueAsync();
        Assert.Single(await host.OutboxAsync(account), e => e.Id == $"alert:{first.Id}:PACKAGE_ALERT_KIND_EXPIRING_7D");

        // A package whose purchase time lies on that day, created after its 7-day step ran: the day moves back (ZADD LT).
        var (ids, created) = await host.Ledger.CreatePackagesAsync(account, "late-grant", [new NewPackage("basic_authoritative", 100, 0, true, "2021-06")],
            bought, requireOpenedService: false);
        Assert.True(created);
        await host.Scheduler.RunDueAsync();
        var outbox = await host.OutboxAsync(account);
        Assert.Single(outbox, e => e.Id == $"alert:{ids[0]}:PACKAGE_ALERT_KIND_EXPIRING_7D");
        Assert.Single(outbox, e => e.Id == $"alert:{first.Id}:PACKAGE_ALERT_KIND_EXPIRING_7D");
    }

    [Fact]
    public async Task A_claimed_member_moved_earlier_meanwhile_keeps_the_earlier_time()
    {
        var bought = Shanghai(2026, 3, 10, 10);
        await using var host = new LedgerHost(redis.ConnectionString, bought);
        var account = TestIds.New("acct");
        var member = $"{account}|day:20260310";
        var firstStep = Shanghai(2027, 3, 3).ToUnixTimeMilliseconds();
        await host.Schedule.AddAsync(account, bought);
        Assert.Equal(firstStep, await host.Redis.SortedSetScoreAsync(PackageSchedule.Key, member));

        var now = Shanghai(2027, 3, 3, 1);
        var claimed = Assert.Single(await host.Schedule.ClaimDueAsync(now, 1000), d => d.Member == member);
        Assert.Equal(now.ToUnixTimeMilliseconds() + (long)PackageSchedule.ClaimLease.TotalMilliseconds, await host.Redis.SortedSetScoreAsync(PackageSchedule.Key, member));
        // A package of that day created while the worker holds the claim pulls the member back to its first step...
        await host.Schedule.AddAsync(account, bought.AddHours(5));
        // ...and the worker's reschedule leaves it there: the new package's steps run at the next pass.
        await host.Schedule.RescheduleAsync(claimed, Shanghai(2027, 3, 9));
        Assert.Equal(firstStep, await host.Redis.SortedSetScoreAsync(PackageSchedule.Key, member));

        // Unmoved, a claim is rescheduled, then removed after its last step.
        claimed = Assert.Single(await host.Schedule.ClaimDueAsync(now, 1000), d => d.Member == member);
        await host.Schedule.RescheduleAsync(claimed, Shanghai(2027, 3, 9));
        Assert.Equal(Shanghai(2027, 3, 9).ToUnixTimeMilliseconds(), await host.Redis.SortedSetScoreAsync(PackageSchedule.Key, member));
        claimed = Assert.Single(await host.Schedule.ClaimDueAsync(Shanghai(2027, 3, 9), 1000), d => d.Member == member);
        await host.Schedule.RescheduleAsync(claimed, null);
        Assert.Null(await host.Redis.SortedSetScoreAsync(PackageSchedule.Key, member));
    }
}
