using FaceId.Billing.Tests.Support;
using FaceId.Contracts;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Events.V1;
using FaceId.Contracts.Metering.V1;
using FaceId.Contracts.Packages.V1;
using FaceId.EventBus;
using FaceId.Redis;
using FaceId.TestKit;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit;

namespace FaceId.Billing.Tests;

/// <summary>
/// Onboarding, Packages, Metering and Billing in process on one Redis and one fake clock: metered
/// calls become statistics, a bill and a reconciliation that agree to the call and to the fen
/// (R-BIL-1, R-BIL-2, R-BIL-3); and arrears suspend and resume the service (R-BIL-4).
/// </summary>
public sealed class EndToEndTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private IConnectionMultiplexer _connection = null!;
    private IDatabase Db => _connection.GetDatabase();

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _connection = _redis.Connect();
    }

    public async Task DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private static Timestamp Ts(string shanghaiLocal) => Timestamp.FromDateTimeOffset(Hosts.At(shanghaiLocal));

    [Fact]
    public async Task R_BIL_1_R_BIL_2_R_BIL_3_twenty_thousand_metered_calls_agree_in_bill_statistics_and_reconciliation_and_a_full_replay_changes_nothing()
    {
        var clock = Hosts.Clock("2027-03-10T08:00");
        await using var platform = Platform.Start(_redis.ConnectionString, clock);
        var account = await platform.OpenServiceAsync();           // daily, price book 2021-06, 6 × 100 free trial calls
        var sub = await platform.CreateSubAccountAsync(account);
        clock.SetUtcNow(Hosts.At("2027-03-10T20:00"));
        var basicPackage = await platform.BuyAsync(account, "basic_authoritative", 10_000);   // 8,000.00 CNY

        // 20,000 calls between 09:00 and 19:00: 12,000 Basic-authoritative, 1,000 of them failing with a
        // system error (not billable), 5,000 bank-card checks, 2,000 Enhanced self-photo (WeChat);
        // SaaS and PaaS, a quarter through the sub-account.
        var random = new Random(7);
        var labels = Enumerable.Repeat(("basic_authoritative", "0"), 12_000)
            .Concat(Enumerable.Repeat(("basic_authoritative", "1001"), 1_000))
            .Concat(Enumerable.Repeat(("bank_card_info_check", "0"), 5_000))
            .Concat(Enumerable.Repeat(("enhanced_self_photo_wechat", "0"), 2_000))
            .OrderBy(_ => random.Next()).ToList();
        var records = labels.Select((l, i) => Platform.Call(i % 4 == 3 ? sub : account, l.Item1,
            Hosts.At("2027-03-10T09:00").AddMilliseconds(i * 1_800L), l.Item2, i % 2 == 0 ? AccessMode.Saas : AccessMode.Paas)).ToList();

        var outcomes = (await platform.MeterAsync(records.Take(5_000))).ToList();
        // Bought after the first 5,000 calls: the day's postpaid bank-card calls move onto it (R-PKG-4, UsageBackdated).
        clock.Advance(TimeSpan.FromMinutes(1));
        var bankPackage = await platform.BuyAsync(account, "bank_card_info_check", 1_000);     // 380.00 CNY
        Assert.Equal(1_000, bankPackage.BackdatedCalls);
        outcomes.AddRange(await platform.MeterAsync(records.Skip(5_000)));
        Assert.Equal(20_000, outcomes.Count);
        Assert.DoesNotContain(outcomes, o => o.Kind == ChargeKind.Refused || o.Duplicate);
        Assert.Equal(1_000, outcomes.Count(o => o.Kind == ChargeKind.NotBillable));
        Assert.All(outcomes, o => Assert.Equal(account, o.ChargedAccountId));

        await platform.BillingClient.TopUpAsync(new TopUpRequest { IdempotencyKey = TestIds.New("topup"), AccountId = account, AmountFen = 2_000_000 });
        await WaitUntilBillingCaughtUpAsync(platform, account, calls: 20_000);

        // The scheduler settles 2027-03-10 an hour after it ended.
        await SchedulerClock.AdvanceAsync(clock, Hosts.At("2027-03-11T01:00"), platform.Billing);
        var bill = await platform.BillingClient.GetBillAsync(new GetBillRequest { AccountId = account, BillId = "bill-2027-03-10" });
        Assert.Equal(bill, await platform.BillingClient.SettlePeriodAsync(new SettlePeriodRequest
        {
            IdempotencyKey = TestIds.New("settle"), AccountId = account, PeriodInstant = Ts("2027-03-10T12:00"),
        }));

        // The bill, to the fen.
        Assert.Equal(
        [
            (BillLineKind.Postpaid, "bank_card_info_check", 4_000L, 38L, 152_000L, "2027-03-10"),           // 5,000 billable this month: [1,000, 10,000)
            (BillLineKind.Postpaid, "basic_authoritative", 1_900L, 100L, 190_000L, "2027-03-10"),           // 12,000 − 100 trial − 10,000 package
            (BillLineKind.Postpaid, "enhanced_self_photo_wechat", 1_900L, 30L, 57_000L, "2027-03-10"),      // 2,000 − 100 trial
            (BillLineKind.PrepaidPackage, "basic_authoritative", 10_000L, 800_000L, 800_000L, basicPackage.PackageId),
            (BillLineKind.PrepaidPackage, "bank_card_info_check", 1_000L, 38_000L, 38_000L, bankPackage.PackageId),
        ], bill.Lines.Select(l => (l.Kind, l.Label, l.Calls, l.UnitPriceFen, l.AmountFen, l.Reference)));
        Assert.Equal(1_237_000, bill.TotalFen);
        Assert.Equal(BillStatus.Paid, bill.Status);
        Assert.Equal(2_000_000 - 1_237_000, (await platform.BillingClient.GetBalanceAsync(new GetBalanceRequest { AccountId = account })).BalanceFen);

        // The statistics, to the call and to the fen.
        var stats = await StatisticsAsync(platform, account, bySub: false);
        Assert.Equal(
        [
            ("bank_card_info_check", 5_000L, 5_000L, 1_000L, 4_000L, 152_000L),
            ("basic_authoritative", 13_000L, 12_000L, 10_100L, 1_900L, 190_000L),
            ("enhanced_self_photo_wechat", 2_000L, 2_000L, 100L, 1_900L, 57_000L),
        ], stats.Select(r => (r.Label, r.Calls, r.BillableCalls, r.PackageCalls, r.PostpaidCalls, r.PostpaidAmountFen)));
        Assert.Equal(bill.Lines.Where(l => l.Kind == BillLineKind.Postpaid).Sum(l => l.AmountFen), stats.Sum(r => r.PostpaidAmountFen));
        Assert.Equal(bill.Lines.Where(l => l.Kind == BillLineKind.Postpaid).Sum(l => l.Calls), stats.Sum(r => r.PostpaidCalls));
        var bySub = await StatisticsAsync(platform, account, bySub: true);
        Assert.Equal(5_000, bySub.Where(r => r.SubAccountId == sub).Sum(r => r.Calls));
        Assert.Equal(15_000, bySub.Where(r => r.SubAccountId == "").Sum(r => r.Calls));
        Assert.Equal(records.Count(r => r.AccessMode == AccessMode.Paas), bySub.Where(r => r.AccessMode == AccessMode.Paas).Sum(r => r.Calls));

        // The exports say the same, row for row, line for line and to the fen, in both formats.
        foreach (var format in new[] { ExportFormat.Csv, ExportFormat.Jsonl })
        {
            foreach (var (bySubAccount, expected) in new[] { (false, stats), (true, bySub) })
            {
                var file = await Exports.ReadAsync(platform.BillingClient.ExportStatistics(new ExportStatisticsRequest
                {
                    AccountId = account, From = Ts("2027-03-10T00:00"), To = Ts("2027-03-11T00:00"), Granularity = Granularity.Day,
                    ByAccessMode = bySubAccount, BySubAccount = bySubAccount, Format = format,
                }));
                Assert.Equal(expected.Select(Exports.Expected), Exports.StatisticsRows(file, format));
            }
            var bills = await Exports.ReadAsync(platform.BillingClient.ExportBills(new ExportBillsRequest
            {
                AccountId = account, From = Ts("2027-03-10T00:00"), To = Ts("2027-03-11T00:00"), Format = format,
            }));
            var exported = Assert.Single(Exports.Bills(bills, format));
            var (expectedBill, expectedLines) = Exports.Expected(bill);
            Assert.Equal(expectedBill, exported.Bill);
            Assert.Equal(expectedLines, exported.Lines);
            Assert.Equal("12370.00", exported.Bill[9]);
        }

        // The reconciliation: metered billable (ledger counters) = package-deducted + postpaid, per label.
        var reconciliation = await ReconcileAsync(platform, account);
        Assert.True(reconciliation.Balanced);
        Assert.Equal(
            stats.Select(r => (r.Label, "2027-03-10", r.BillableCalls, r.PackageCalls, r.PostpaidCalls)),
            reconciliation.Rows.Select(r => (r.Label, r.Period, r.MeteredBillable, r.MeteredPackageCalls, r.MeteredPostpaidCalls)));
        Assert.All(reconciliation.Rows, r => Assert.Equal((r.MeteredPackageCalls, r.MeteredPostpaidCalls), (r.PackageCalls, r.PostpaidCalls)));

        // Replay every usage and backdating event: once more as the same CloudEvent, once under a new event id.
        var bus = platform.Billing.Services.GetRequiredService<IEventBus>();
        var replayed = 0;
        foreach (var topic in new[] { EventTopics.UsageCharged, EventTopics.UsageBackdated })
        {
            foreach (var entry in await Db.StreamRangeAsync(topic))
            {
                var cloudEvent = CloudEvent.Parse((byte[])entry["data"]!);
                if (!cloudEvent.DataJson.Contains(account, StringComparison.Ordinal)) continue;
                await Db.StreamAddAsync(topic, [new NameValueEntry("data", entry["data"])]);
                if (topic == EventTopics.UsageCharged) await bus.PublishAsync(UsageCharged.Parser.ParseJson(cloudEvent.DataJson));
                else await bus.PublishAsync(UsageBackdated.Parser.ParseJson(cloudEvent.DataJson));
                replayed++;
            }
        }
        Assert.True(replayed >= 5, $"replayed {replayed} events");
        foreach (var topic in new[] { EventTopics.UsageCharged, EventTopics.UsageBackdated })
            await Eventually.AssertAsync(() => Streams.ConsumedAllAsync(Db, topic), Platform.Timeout, $"Billing consumed the replayed {topic}");

        Assert.Equal(stats, await StatisticsAsync(platform, account, bySub: false));
        Assert.Equal(bySub, await StatisticsAsync(platform, account, bySub: true));
        Assert.Equal(reconciliation, await ReconcileAsync(platform, account));
        Assert.Equal(bill, await platform.BillingClient.SettlePeriodAsync(new SettlePeriodRequest
        {
            IdempotencyKey = TestIds.New("settle"), AccountId = account, PeriodInstant = Ts("2027-03-10T00:00"),
        }));
        // Nothing was counted twice, so the next day's bill has no adjustment (nor anything else).
        await SchedulerClock.AdvanceAsync(clock, Hosts.At("2027-03-12T01:00"), platform.Billing);
        var next = await platform.BillingClient.GetBillAsync(new GetBillRequest { AccountId = account, BillId = "bill-2027-03-11" });
        Assert.Empty(next.Lines);
        Assert.Equal(763_000, (await platform.BillingClient.GetBalanceAsync(new GetBalanceRequest { AccountId = account })).BalanceFen);
        await AssertNoDeadLettersAsync();
    }

    [Fact]
    public async Task R_BIL_4_a_bill_the_balance_cannot_cover_suspends_metering_24_hours_later_and_a_top_up_resumes_it()
    {
        var clock = Hosts.Clock("2027-06-01T08:00");
        await using var platform = Platform.Start(_redis.ConnectionString, clock);
        var account = await platform.OpenServiceAsync();
        clock.SetUtcNow(Hosts.At("2027-06-01T10:00"));
        var first = await platform.MeterAsync(Enumerable.Range(0, 300).Select(_ => Platform.Call(account, "basic_authoritative", Hosts.At("2027-06-01T09:30"))));
        Assert.Equal(200, first.Count(o => o.Kind == ChargeKind.Postpaid)); // after the 100 trial calls: 200 × 1.00 CNY
        await WaitUntilBillingCaughtUpAsync(platform, account, calls: 300, day: "2027-06-01");

        await SchedulerClock.AdvanceAsync(clock, Hosts.At("2027-06-02T01:00"), platform.Billing);
        var bill = await platform.BillingClient.GetBillAsync(new GetBillRequest { AccountId = account, BillId = "bill-2027-06-01" });
        Assert.Equal((20_000L, BillStatus.InArrears, 20_000L), (bill.TotalFen, bill.Status, bill.OutstandingFen));
        var balance = await platform.BillingClient.GetBalanceAsync(new GetBalanceRequest { AccountId = account });
        Assert.Equal((0L, 20_000L, false), (balance.BalanceFen, balance.ArrearsFen, balance.Suspended));
        var suspendAt = balance.SuspendAt.ToDateTimeOffset();
        SchedulerClock.AssertAbout(Hosts.At("2027-06-03T01:00"), suspendAt);

        // Just before the 24 hours are up, calls are still served and billed.
        await SchedulerClock.AdvanceAsync(clock, suspendAt.AddSeconds(-2), platform.Billing);
        Assert.Equal(ChargeKind.Postpaid, await CallAsync(platform, account, "basic_authoritative"));

        // 24 hours after the arrears: ServiceSuspended → Packages → Metering refuses, not billable, and packages are not deducted.
        await SchedulerClock.AdvanceAsync(clock, suspendAt, platform.Billing);
        Assert.True((await platform.BillingClient.GetBalanceAsync(new GetBalanceRequest { AccountId = account })).Suspended);
        await Eventually.AssertAsync(async () => await CallAsync(platform, account, "basic_authoritative") == ChargeKind.Refused,
            Platform.Timeout, "Metering refuses calls of the suspended account");
        var refusedCall = Platform.Call(account, "enhanced_authoritative_wechat", clock.GetUtcNow()); // its trial package has 100 calls left
        var refused = (await platform.MeteringClient.RecordUsageAsync(new RecordUsageRequest { Record = refusedCall })).Outcome;
        Assert.Equal((ChargeKind.Refused, Refusal.ServiceSuspended, false, false), (refused.Kind, refused.Refusal, refused.Billable, refused.Duplicate));
        // Its request id keeps the refusal: retried 5 times, and 20 times at once in batches, it is the same refusal as a duplicate,
        // published no more, so the ledger and Billing count it once (R-BIL-1, R-BIL-3).
        for (var i = 0; i < 5; i++)
        {
            var again = (await platform.MeteringClient.RecordUsageAsync(new RecordUsageRequest { Record = refusedCall })).Outcome;
            Assert.Equal((Refusal.ServiceSuspended, true), (again.Refusal, again.Duplicate));
        }
        var parallel = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => platform.MeterAsync([refusedCall])));
        Assert.All(parallel, p => Assert.Equal((Refusal.ServiceSuspended, true), (Assert.Single(p).Refusal, Assert.Single(p).Duplicate)));
        var trial = (await platform.PackagesClient.ListPackagesAsync(new ListPackagesRequest { AccountId = account })).Packages
            .Single(p => p.Label == "enhanced_authoritative_wechat");
        Assert.Equal(0, trial.Used);
        // The two refused calls reach Billing's statistics as refused while suspended (R-BIL-1), never as calls.
        var suspendedDay = FaceId.Common.ChinaCalendar.DateOf(suspendAt).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        await Eventually.AssertAsync(async () => (await StatisticsAsync(platform, account, bySub: false, suspendedDay)).Sum(r => r.RefusedSuspendedCalls) == 2,
            Platform.Timeout, "Billing counted the refused calls");
        var wechat = Assert.Single(await StatisticsAsync(platform, account, bySub: false, suspendedDay), r => r.Label == "enhanced_authoritative_wechat");
        Assert.Equal((0L, 0L, 1L, 1L), (wechat.Calls, wechat.BillableCalls, wechat.RefusedCalls, wechat.RefusedSuspendedCalls));
        await Eventually.AssertAsync(async () => await Db.StreamLengthAsync(RedisKeys.Outbox(RedisKeys.AccountTag(account))) == 0, Platform.Timeout, "the outbox is relayed");
        await Eventually.AssertAsync(() => Streams.ConsumedAllAsync(Db, EventTopics.UsageCharged), Platform.Timeout, "Billing consumed UsageCharged");
        var reconciliation = await platform.BillingClient.GetReconciliationAsync(new GetReconciliationRequest
        {
            AccountId = account, From = Ts(suspendedDay + "T00:00"), To = Timestamp.FromDateTimeOffset(Hosts.At(suspendedDay + "T00:00").AddDays(1)),
        });
        Assert.True(reconciliation.Balanced, string.Join("; ", reconciliation.UnbalancedCells));
        Assert.Equal(1, (long)await Db.HashGetAsync(FaceId.Packages.Ledger.LedgerKeys.DayCounters(account, suspendedDay.Replace("-", "", StringComparison.Ordinal)), "enhanced_authoritative_wechat|S"));

        // Paying the arrears resumes the service by itself: ServiceResumed → calls are billed again.
        var paid = await platform.BillingClient.TopUpAsync(new TopUpRequest { IdempotencyKey = TestIds.New("topup"), AccountId = account, AmountFen = 100_000 });
        Assert.Equal((0L, false), (paid.ArrearsFen, paid.Suspended));
        await Eventually.AssertAsync(async () => await CallAsync(platform, account, "basic_authoritative") == ChargeKind.Postpaid,
            Platform.Timeout, "Metering serves the account again");
        // The call made while suspended, retried after the resumption, is still refused (R-BIL-4 at the call's time, R-MET-4).
        var retried = (await platform.MeteringClient.RecordUsageAsync(new RecordUsageRequest { Record = refusedCall })).Outcome;
        Assert.Equal((ChargeKind.Refused, Refusal.ServiceSuspended, true), (retried.Kind, retried.Refusal, retried.Duplicate));
        var resumed = await OutcomeAsync(platform, account, "enhanced_authoritative_wechat");
        Assert.Equal((ChargeKind.Package, true, 99L), (resumed.Kind, resumed.Billable, resumed.PackageRemaining));
        Assert.Single(await Streams.EventsAsync(Db, EventTopics.ServiceSuspended, account));
        Assert.Single(await Streams.EventsAsync(Db, EventTopics.ServiceResumed, account));
        await AssertNoDeadLettersAsync();
    }

    /// <summary>Every consumer (Onboarding's notifications too) could read what Billing and the others published.</summary>
    private async Task AssertNoDeadLettersAsync()
    {
        foreach (var topic in EventTopics.All)
            Assert.Equal(0, await Db.StreamLengthAsync(topic + ".deadletter"));
    }

    private static async Task<UsageOutcome> OutcomeAsync(Platform platform, string account, string label) =>
        (await platform.MeteringClient.RecordUsageAsync(new RecordUsageRequest { Record = Platform.Call(account, label, platform.Clock.GetUtcNow()) })).Outcome;

    private static async Task<ChargeKind> CallAsync(Platform platform, string account, string label) => (await OutcomeAsync(platform, account, label)).Kind;

    /// <summary>Waits until the account's outbox is drained and Billing has counted every call and consumed every event.</summary>
    private async Task WaitUntilBillingCaughtUpAsync(Platform platform, string account, long calls, string day = "2027-03-10")
    {
        await Eventually.AssertAsync(async () => await Db.StreamLengthAsync(RedisKeys.Outbox(RedisKeys.AccountTag(account))) == 0,
            Platform.Timeout, "the account's outbox is relayed");
        foreach (var topic in new[] { EventTopics.UsageCharged, EventTopics.UsageBackdated, EventTopics.PackageDelivered })
            await Eventually.AssertAsync(() => Streams.ConsumedAllAsync(Db, topic), Platform.Timeout, $"Billing consumed {topic}");
        var rows = await StatisticsAsync(platform, account, bySub: false, day);
        Assert.Equal(calls, rows.Sum(r => r.Calls));
    }

    private static async Task<IReadOnlyList<StatisticsRow>> StatisticsAsync(Platform platform, string account, bool bySub, string day = "2027-03-10") =>
        (await platform.BillingClient.GetStatisticsAsync(new GetStatisticsRequest
        {
            AccountId = account, From = Ts(day + "T00:00"), To = Timestamp.FromDateTimeOffset(Hosts.At(day + "T00:00").AddDays(1)), Granularity = Granularity.Day,
            ByAccessMode = bySub, BySubAccount = bySub, Page = new PageRequest { PageSize = 500 },
        })).Rows;

    private static async Task<Reconciliation> ReconcileAsync(Platform platform, string account) =>
        await platform.BillingClient.GetReconciliationAsync(new GetReconciliationRequest
        {
            AccountId = account, From = Ts("2027-03-10T00:00"), To = Ts("2027-03-11T00:00"),
        });
}
