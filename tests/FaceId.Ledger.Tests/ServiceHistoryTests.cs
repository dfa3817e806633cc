using FaceId.Metering.Application;
using FaceId.Packages.Ledger;
using FaceId.TestKit;
using Xunit;

namespace FaceId.Ledger.Tests;

/// <summary>
/// R-MET-4 with R-BIL-4: a record is judged by the service's state at its own time (occurred_at), within the late window:
/// the ledger keeps the suspensions and resumptions as a history of instants (bounded to the window and the last change
/// before it), and deduct.lua reads it in its one step. Each boundary to the millisecond.
/// </summary>
public sealed class ServiceHistoryTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    private static async Task<UsageKind> KindAsync(LedgerHost host, string account, DateTimeOffset at) =>
        (await host.UseAsync(account, "basic_authoritative", at)).Kind;

    private static async Task<IReadOnlyList<(bool Suspended, DateTimeOffset At)>> HistoryAsync(LedgerHost host, string account) =>
        ServiceHistory.Parse((string?)await host.Redis.HashGetAsync(LedgerKeys.Service(account), ServiceFields.States) ?? "");

    [Fact]
    public async Task R_MET_4_R_BIL_4_a_late_record_of_a_call_made_before_a_suspension_is_charged_and_one_made_from_it_is_refused()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);
        var suspendedAt = host.Time.GetUtcNow().AddHours(-1);
        await host.Ledger.SetSuspendedAsync(account, true, suspendedAt);

        var before = await host.UseAsync(account, "basic_authoritative", suspendedAt - Tick);
        var at = await host.UseAsync(account, "basic_authoritative", suspendedAt);
        var now = await host.UseAsync(account, "basic_authoritative");

        Assert.Equal((UsageKind.Package, package.Id), (before.Kind, before.PackageId));
        Assert.Equal((UsageKind.Refused, RefusalReason.ServiceSuspended), (at.Kind, at.Refusal));
        Assert.Equal((UsageKind.Refused, RefusalReason.ServiceSuspended), (now.Kind, now.Refusal));
        Assert.Equal(1, (await host.Reader.GetPackageAsync(account, package.Id))!.Used);
    }

    [Fact]
    public async Task R_MET_4_R_BIL_4_a_call_made_during_a_suspension_that_arrives_after_the_resumption_is_refused()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var now = host.Time.GetUtcNow();
        var (suspendedAt, resumedAt) = (now.AddDays(-3), now.AddDays(-2));
        await host.Ledger.SetSuspendedAsync(account, true, suspendedAt);
        await host.Ledger.SetSuspendedAsync(account, false, resumedAt);

        // One batch, every boundary ±1 ms, arriving now (after the resumption).
        var at = new[] { suspendedAt - Tick, suspendedAt, suspendedAt + Tick, resumedAt - Tick, resumedAt, resumedAt + Tick, now };
        var results = await host.Metering.RecordBatchAsync([.. at.Select(t => new UsageInput(TestIds.New("req"), account, "basic_authoritative", "",
            Contracts.Common.V1.ComparisonLibrary.Unspecified, Contracts.Common.V1.AccessMode.Saas, "0", t))]);

        Assert.Equal(
            [UsageKind.Postpaid, UsageKind.Refused, UsageKind.Refused, UsageKind.Refused, UsageKind.Postpaid, UsageKind.Postpaid, UsageKind.Postpaid],
            results.Select(r => r.Kind));
        Assert.All(results.Where(r => r.Kind == UsageKind.Refused), r => Assert.Equal(RefusalReason.ServiceSuspended, r.Refusal));
    }

    [Fact]
    public async Task R_MET_4_R_BIL_4_changes_arriving_out_of_order_or_twice_give_the_same_history()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var now = host.Time.GetUtcNow();
        var changes = new (bool Suspended, DateTimeOffset At)[] { (true, now.AddDays(-4)), (false, now.AddDays(-3)), (true, now.AddDays(-2)), (false, now.AddDays(-1)) };
        var inOrder = await host.OpenedAccountAsync();
        var shuffled = await host.OpenedAccountAsync();
        foreach (var (suspended, at) in changes) await host.Ledger.SetSuspendedAsync(inOrder, suspended, at);
        foreach (var k in new[] { 3, 2, 0, 2, 1, 3 }) await host.Ledger.SetSuspendedAsync(shuffled, changes[k].Suspended, changes[k].At);

        Assert.Equal(changes, await HistoryAsync(host, inOrder));
        Assert.Equal(changes, await HistoryAsync(host, shuffled));
        foreach (var account in new[] { inOrder, shuffled })
        {
            Assert.Equal(UsageKind.Refused, await KindAsync(host, account, now.AddDays(-2)));
            Assert.Equal(UsageKind.Postpaid, await KindAsync(host, account, now.AddDays(-3)));
            Assert.Equal(UsageKind.Postpaid, await KindAsync(host, account, now));
            Assert.Equal(ServiceStates.Opened, (await host.Reader.GetServiceAsync(account))!.State);
        }
    }

    [Fact]
    public async Task R_MET_4_R_BIL_4_the_history_keeps_the_changes_of_the_late_window_and_the_last_one_before_it()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var now = host.Time.GetUtcNow();
        var window = UsageRecordValidator.LateWindow;
        var windowStart = now - window;
        await host.Ledger.SetSuspendedAsync(account, true, now.AddDays(-20));
        await host.Ledger.SetSuspendedAsync(account, false, now.AddDays(-19));
        await host.Ledger.SetSuspendedAsync(account, true, windowStart - Tick); // the last change before the window: the state at its start
        await host.Ledger.SetSuspendedAsync(account, false, windowStart + TimeSpan.FromHours(1));

        Assert.Equal([(true, windowStart - Tick), (false, windowStart + TimeSpan.FromHours(1))], await HistoryAsync(host, account));
        // The oldest record the window admits is judged by the change before the window; the resumption ends it.
        Assert.Equal(UsageKind.Refused, await KindAsync(host, account, windowStart + TimeSpan.FromMinutes(1)));
        Assert.Equal(UsageKind.Postpaid, await KindAsync(host, account, windowStart + TimeSpan.FromHours(1)));

        // A change a week later drops what is no longer within the window (and keeps the last change before it).
        host.Time.Advance(window);
        await host.Ledger.SetSuspendedAsync(account, true, host.Time.GetUtcNow());
        Assert.Equal([(false, windowStart + TimeSpan.FromHours(1)), (true, host.Time.GetUtcNow())], await HistoryAsync(host, account));
    }

    [Fact]
    public async Task R_BIL_4_a_service_suspended_before_the_history_existed_stays_refused_until_its_first_change()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var now = host.Time.GetUtcNow();
        // As set-service-state.lua left a hash before the history: the state and the time of its last change.
        await host.Redis.HashSetAsync(LedgerKeys.Service(account), [new(ServiceFields.State, ServiceStates.Suspended), new(ServiceFields.StateAt, now.AddDays(-2).ToUnixTimeMilliseconds())]);

        Assert.Equal(UsageKind.Refused, await KindAsync(host, account, now.AddDays(-3))); // judged as before: at arrival
        await host.Ledger.SetSuspendedAsync(account, false, now.AddDays(-1));

        Assert.Equal([(true, now.AddDays(-2)), (false, now.AddDays(-1))], await HistoryAsync(host, account));
        Assert.Equal(UsageKind.Postpaid, await KindAsync(host, account, now.AddDays(-3)));
        Assert.Equal(UsageKind.Refused, await KindAsync(host, account, now.AddDays(-2)));
        Assert.Equal(UsageKind.Postpaid, await KindAsync(host, account, now));
        Assert.False(await host.Redis.HashExistsAsync(LedgerKeys.Service(account), ServiceFields.StateAt));
    }
}
