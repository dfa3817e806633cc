using FaceId.Billing.Infrastructure;
using FaceId.Common;
using FaceId.Contracts;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Events.V1;
using FaceId.Contracts.Metering.V1;
using FaceId.EventBus;
using FaceId.Ledger.Tests;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Xunit;
using Xunit.Abstractions;
using PackageRecord = FaceId.Packages.Ledger.PackageRecord;

namespace FaceId.Reliability.Tests;

/// <summary>
/// Faults 7 and 8 (docs/reliability.md), real processes (Metering, Billing) on a durable redis-server, load from <see cref="LoadDriver"/>:
/// fault 7, Billing settling again and again while metering runs, killed with SIGKILL in the middle of a
/// settlement; and fault 8, a load whose records cross the Shanghai midnight (and the month's first
/// instant when the 7-day late window reaches one). Afterwards the invariants hold, every bill was
/// issued once and never changed, the bills equal Billing's statistics, and the day (month)
/// counters split exactly at the boundary (R-BIL-1..3, R-MET-4, R-PKG-2, R-PKG-5).
/// </summary>
public sealed class SettlementUnderLoadTests(DurableRedisFixture redis, ITestOutputHelper output) : IClassFixture<DurableRedisFixture>
{
    private const string Label = "id_info_check";
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(3);
    private static int Records => int.TryParse(Environment.GetEnvironmentVariable("FACEID_FAULT_RECORDS"), out var n) ? n : 6_000;

    private Dictionary<string, string?> ServiceEnvironment() => new()
    {
        ["Redis__ConnectionString"] = redis.ConnectionString + ",abortConnect=false",
        ["EventBus__OutboxSweepIntervalMs"] = "200",
        ["EventBus__ProcessingTimeoutMs"] = "2000",
        ["EventBus__RedeliverIntervalMs"] = "200",
        // Settlement happens only when the test asks (SettlePeriod); a claim left by a killed process lapses after 3 s.
        ["Billing__SchedulerEnabled"] = "false",
        ["Billing__SettlementClaimLeaseSeconds"] = "3",
    };

    /// <summary>A main account opened (daily settlement) in the ledger and, through its ServiceActivated event, in Billing.</summary>
    private static async Task<string> OpenDailyAccountAsync(LedgerHost host, DateTimeOffset activatedAt)
    {
        var account = await host.OpenedAccountAsync(activatedAt);
        await host.Bus.PublishAsync(new ServiceActivated
        {
            AccountId = account, ActivatedAt = Timestamp.FromDateTimeOffset(activatedAt), PriceBook = "2021-06",
            SettlementCycle = SettlementCycle.Daily, ApplicationId = TestIds.New("app"),
        });
        return account;
    }

    /// <summary>Every tenth record is not billable (ID check result −2, R-MET-2).</summary>
    private static UsageRecord Record(string account, int i, DateTimeOffset at) => new()
    {
        RequestId = $"{account}-{i}", AccountId = account, Label = Label, AccessMode = i % 2 == 0 ? AccessMode.Saas : AccessMode.Paas,
        ReturnCode = i % 10 == 0 ? "-2" : "0", OccurredAt = Timestamp.FromDateTimeOffset(at),
    };

    private static DateTimeOffset At(UsageRecord r) => r.OccurredAt.ToDateTimeOffset();

    /// <summary>Calls, billable, package and postpaid per period, from what the load was told.</summary>
    private static Dictionary<string, (long Calls, long Billable, long Package, long Postpaid)> Expected(
        UsageRecord[] records, UsageOutcome[] outcomes, Func<DateTimeOffset, string> period)
    {
        var expected = new Dictionary<string, (long Calls, long Billable, long Package, long Postpaid)>();
        for (var i = 0; i < records.Length; i++)
        {
            var key = period(At(records[i]));
            var (c, b, p, o) = expected.GetValueOrDefault(key);
            var kind = outcomes[i].Kind;
            expected[key] = (c + 1, b + (kind is ChargeKind.Package or ChargeKind.Postpaid ? 1 : 0), p + (kind == ChargeKind.Package ? 1 : 0), o + (kind == ChargeKind.Postpaid ? 1 : 0));
        }
        return expected;
    }

    private static async Task<List<StatisticsRow>> StatisticsAsync(BillingService.BillingServiceClient client, string account, DateTimeOffset from, DateTimeOffset to, Granularity granularity)
    {
        var rows = new List<StatisticsRow>();
        var token = "";
        do
        {
            var page = await client.GetStatisticsAsync(new GetStatisticsRequest
            {
                AccountId = account, From = Timestamp.FromDateTimeOffset(from), To = Timestamp.FromDateTimeOffset(to), Granularity = granularity,
                Page = new PageRequest { PageSize = 500, PageToken = token },
            });
            rows.AddRange(page.Rows);
            token = page.NextPageToken;
        } while (token.Length > 0);
        return rows;
    }

    /// <summary>Waits until Billing counted every record (it consumes the usage stream asynchronously).</summary>
    private static Task<List<StatisticsRow>> CaughtUpAsync(BillingService.BillingServiceClient client, string account, DateTimeOffset from, DateTimeOffset to,
        Granularity granularity, int records) =>
        Eventually.GetAsync(() => StatisticsAsync(client, account, from, to, granularity), rows => rows.Sum(r => r.Calls) == records,
            TimeSpan.FromSeconds(60), "Billing counted every record");

    private static void AssertRowsEqual(Dictionary<string, (long Calls, long Billable, long Package, long Postpaid)> expected, IEnumerable<StatisticsRow> rows, string what)
    {
        var actual = rows.Where(r => r.Label == Label).ToDictionary(r => r.Period, r => (r.Calls, Billable: r.BillableCalls, Package: r.PackageCalls, Postpaid: r.PostpaidCalls));
        Assert.True(expected.OrderBy(e => e.Key).SequenceEqual(actual.OrderBy(a => a.Key)),
            $"{what}: expected {string.Join("; ", expected.OrderBy(e => e.Key))}, Billing has {string.Join("; ", actual.OrderBy(a => a.Key))}");
    }

    private static async Task<List<Bill>> BillsAsync(BillingService.BillingServiceClient client, string account)
    {
        var bills = new List<Bill>();
        var token = "";
        do
        {
            var page = await client.ListBillsAsync(new ListBillsRequest { AccountId = account, Page = new PageRequest { PageSize = 100, PageToken = token } });
            bills.AddRange(page.Bills);
            token = page.NextPageToken;
        } while (token.Length > 0);
        return bills;
    }

    private static Task<Bill> SettleAsync(BillingService.BillingServiceClient client, string account, string key, DateOnly day, int minute = 12 * 60) =>
        client.SettlePeriodAsync(new SettlePeriodRequest
        {
            IdempotencyKey = key, AccountId = account, PeriodInstant = Timestamp.FromDateTimeOffset(ChinaCalendar.StartOf(day).AddMinutes(minute)),
        }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync;

    /// <summary>A bill's content (the payment state aside, which later payments may change).</summary>
    private static string Content(Bill b) => $"{b.BillId}|{b.Period}|{b.PeriodStart}|{b.PeriodEnd}|{b.TotalFen}|{b.IssuedAt}|{b.Lines}";

    [Fact]
    public async Task Fault_7_SIGKILL_of_Billing_mid_settlement_while_metering_runs_issues_each_bill_once_and_bills_equal_the_statistics()
    {
        var today = ChinaCalendar.DateOf(DateTimeOffset.UtcNow);
        var (d3, d2, d1) = (today.AddDays(-3), today.AddDays(-2), today.AddDays(-1));
        // Opened 120 days ago: the first settlement issues ~117 daily bills under one claim, long enough to be killed in the middle.
        var activatedAt = ChinaCalendar.StartOf(today.AddDays(-120)).AddHours(9);
        // The packages are bought (on the ledger's fake clock) four days ago, so they are valid for every record of the load.
        await using var host = new LedgerHost(redis.ConnectionString, ChinaCalendar.StartOf(today.AddDays(-4)).AddHours(10));
        var account = await OpenDailyAccountAsync(host, activatedAt);
        var packages = new List<PackageRecord>();
        for (var i = 0; i < 2; i++)
        {
            packages.Add(await host.BuyAsync(account, Label, 1000));
            host.Time.Advance(TimeSpan.FromMinutes(1));
        }
        // Records around the midnight between D-3 and D-2, in random order.
        var random = new Random(7);
        var midnight = ChinaCalendar.StartOf(d2);
        var records = Enumerable.Range(0, Records).Select(i => Record(account, i, midnight + TimeSpan.FromSeconds(random.Next(-7200, 7200)))).ToArray();

        var env = ServiceEnvironment();
        await using var metering = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), env);
        await using var billing = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Billing"), env);
        var client = new BillingService.BillingServiceClient(billing.Channel);
        await Eventually.AssertAsync(async () =>
        {
            try { await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }); return true; }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound) { return false; }
        }, TimeSpan.FromSeconds(30), "Billing learned of the activation");

        // From a third of the load on: settlements of D-2 and D-3, again and again, with new keys and with keys already used for
        // the same day. The first one is the account's first settlement: every period from its activation up to D-2, under one claim.
        var answers = new List<Bill>();
        var keys = new List<(string Key, DateOnly Day)>();
        var (settleCalls, settleFailures) = (0, 0);
        using var stop = new CancellationTokenSource();
        async Task SettleRepeatedlyAsync()
        {
            var r = new Random(11);
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var day = n == 0 || r.Next(2) == 0 ? d2 : d3;
                var reuse = keys.Where(k => k.Day == day).ToList();
                var key = reuse.Count > 0 && r.Next(3) == 0 ? reuse[r.Next(reuse.Count)].Key : TestIds.New("settle");
                try
                {
                    var bill = await SettleAsync(client, account, key, day, r.Next(24 * 60));
                    Interlocked.Increment(ref settleCalls);
                    lock (answers) answers.Add(bill);
                    keys.Add((key, day));
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Cancelled or StatusCode.Unknown)
                {
                    Interlocked.Increment(ref settleFailures);
                    await Task.Delay(20);
                }
            }
        }

        Task? settling = null;
        var (claimHeldAtKill, billsAtKill, acknowledgedAtKill) = (false, 0L, 0);
        var driver = new LoadDriver([metering.Channel], callers: 16, Bound);
        var outcomes = await driver.RunAsync(records, records.Length / 3, async () =>
        {
            settling = Task.Run(SettleRepeatedlyAsync);
            // SIGKILL once the first settlement has issued a few of its bills and still holds the account's claim.
            await Eventually.AssertAsync(async () => await redis.Database.KeyExistsAsync(BillingKeys.Claim(account))
                && await redis.Database.SortedSetLengthAsync(BillingKeys.Bills(account)) >= 5, TimeSpan.FromSeconds(30),
                "Billing is in the middle of the account's first settlement");
            billing.Kill();
            acknowledgedAtKill = driver.Acknowledged;
            claimHeldAtKill = await redis.Database.KeyExistsAsync(BillingKeys.Claim(account));
            billsAtKill = await redis.Database.SortedSetLengthAsync(BillingKeys.Bills(account));
            await billing.RestartAsync();
        });
        // Settle on for a moment after the load, so settlements also race the last records Billing consumes.
        await Eventually.AssertAsync(() => settleCalls >= 20, TimeSpan.FromSeconds(60), "settlements ran after the restart");
        await stop.CancelAsync();
        await settling!;

        // Billing catches up; yesterday's bill (no usage of its own) takes every record that came after D-3's or D-2's bill as an adjustment.
        var from = ChinaCalendar.StartOf(today.AddDays(-10));
        var to = ChinaCalendar.StartOf(today);
        var days = await CaughtUpAsync(client, account, from, to, Granularity.Day, records.Length);
        var yesterday = await SettleAsync(client, account, TestIds.New("settle"), d1);

        // The invariants of every fault test, and Billing's days equal what the load was told and the ledger's counters.
        var report = await Invariants.CheckAsync(host, redis.Database, account, packages, records, outcomes, Label, TimeSpan.FromSeconds(60));
        Assert.Equal(2_000, report.PackageCalls);
        AssertRowsEqual(Expected(records, outcomes, t => ChinaCalendar.DayKey(t)), days, "per-day statistics");
        Assert.True((await client.GetReconciliationAsync(new GetReconciliationRequest
        {
            AccountId = account, From = Timestamp.FromDateTimeOffset(from), To = Timestamp.FromDateTimeOffset(to),
        })).Balanced, "R-BIL-3: Billing's statistics and the ledger's counters agree");

        // The kill landed mid-settlement, and still every period has exactly one bill, announced once.
        var periods = d1.DayNumber - ChinaCalendar.DateOf(activatedAt).DayNumber + 1;
        Assert.True(claimHeldAtKill, "the SIGKILL came while the settlement held the account's claim");
        Assert.InRange(billsAtKill, 5, periods - 2); // the settlement up to D-2 had periods - 1 bills to issue
        Assert.InRange(acknowledgedAtKill, 1, records.Length - 1);
        Assert.True(settleFailures > 0, "a settlement was cut short by the kill");
        var bills = await BillsAsync(client, account);
        Assert.Equal(periods, bills.Count);
        Assert.Equal(periods, bills.Select(b => b.Period).Distinct().Count());
        await Eventually.AssertAsync(async () => (await BillIssuedAsync(account)).Count == periods, TimeSpan.FromSeconds(30), "BillIssued for every bill");
        Assert.All((await BillIssuedAsync(account)).GroupBy(e => e.BillId), g => Assert.Single(g));
        // Every answer given during the load is the bill as it stands: issued once, never changed (R-BIL-2).
        var byPeriod = bills.ToDictionary(b => b.Period);
        Assert.All(answers, a => Assert.Equal(Content(byPeriod[a.Period]), Content(a)));
        Assert.Equal(Content(byPeriod[d1.ToString("yyyy-MM-dd")]), Content(yesterday));

        // Settlement = statistics: the bills' postpaid and adjustment lines add up to Billing's postpaid calls and amounts,
        // and each package is charged once (R-BIL-2, R-BIL-3).
        var lines = bills.SelectMany(b => b.Lines).ToList();
        var postpaid = lines.Where(l => l.Label == Label && l.Kind is BillLineKind.Postpaid or BillLineKind.Adjustment).ToList();
        Assert.Equal(days.Sum(r => r.PostpaidCalls), postpaid.Sum(l => l.Calls));
        Assert.Equal(days.Sum(r => r.PostpaidAmountFen), postpaid.Sum(l => l.AmountFen));
        Assert.Equal(packages.Select(p => p.Id).Order(), lines.Where(l => l.Kind == BillLineKind.PrepaidPackage).Select(l => l.Reference).Order());

        // Idempotent: settling every period again (new keys, and the keys of the load) changes nothing.
        var balance = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account });
        foreach (var b in bills)
            Assert.Equal(Content(b), Content(await SettleAsync(client, account, TestIds.New("settle"), DateOnly.ParseExact(b.Period, "yyyy-MM-dd"))));
        foreach (var (key, day) in keys.DistinctBy(k => k.Key))
            Assert.Equal(Content(byPeriod[day.ToString("yyyy-MM-dd")]), Content(await SettleAsync(client, account, key, day)));
        Assert.Equal(bills.Select(Content), (await BillsAsync(client, account)).Select(Content));
        Assert.Equal(balance, await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }));

        output.WriteLine($"fault 7: {report} retries={driver.Retries}; settlements during the load: {settleCalls} answered, {settleFailures} failed while Billing was down; " +
            $"bills at the kill {billsAtKill} of {periods}, claim held by the killed process: {claimHeldAtKill}, records acknowledged at the kill {acknowledgedAtKill}; postpaid billed {postpaid.Sum(l => l.Calls)} calls = " +
            $"{postpaid.Sum(l => l.AmountFen)} fen (adjustment lines {postpaid.Count(l => l.Kind == BillLineKind.Adjustment)})");
    }

    private async Task<List<BillIssued>> BillIssuedAsync(string account) =>
        (await redis.Database.StreamRangeAsync(EventTopics.BillIssued))
        .Select(e => CloudEvent.Parse((byte[])e["data"]!)).Where(e => e.DataJson.Contains(account, StringComparison.Ordinal))
        .DistinctBy(e => e.Id).Select(e => BillIssued.Parser.ParseJson(e.DataJson)).ToList();

    [Fact]
    public async Task Fault_8_R_MET_4_R_PKG_2_a_load_across_the_Shanghai_midnight_splits_exactly_at_16_00_00Z_in_the_ledger_and_Billing()
    {
        var now = DateTimeOffset.UtcNow;
        // The latest Shanghai midnight with two hours of past after it, and the first instant of its month when the late window reaches it.
        var midnight = ChinaCalendar.StartOf(ChinaCalendar.DateOf(now - TimeSpan.FromHours(2)));
        Assert.Equal(new TimeSpan(16, 0, 0), midnight.UtcDateTime.TimeOfDay);
        var day = ChinaCalendar.DateOf(midnight);
        var monthStart = ChinaCalendar.StartOf(new DateOnly(day.Year, day.Month, 1));
        var monthInWindow = now - monthStart <= TimeSpan.FromDays(6);
        var boundaries = monthInWindow && monthStart != midnight ? new[] { midnight, monthStart } : [midnight];

        // One package, bought (fake clock) a minute after that midnight: usable from the midnight exactly (R-PKG-2), so no record before it may use it.
        await using var host = new LedgerHost(redis.ConnectionString, midnight.AddMinutes(1));
        var account = await OpenDailyAccountAsync(host, midnight.AddDays(-30));
        var package = await host.BuyAsync(account, Label, 1000);
        Assert.Equal(midnight, package.ValidFrom);

        // Records within two hours each side of each boundary, the last millisecond before and the first instants after it included, shuffled.
        var random = new Random(16);
        var times = new List<DateTimeOffset>();
        foreach (var b in boundaries)
        {
            times.AddRange([b.AddMilliseconds(-1), b, b.AddMilliseconds(1)]);
            for (var i = 0; i < Records / (2 * boundaries.Length); i++) times.Add(b + TimeSpan.FromMilliseconds(random.NextInt64(-7_200_000, 7_200_000)));
        }
        var records = times.OrderBy(_ => random.Next()).Select((t, i) => Record(account, i, t)).ToArray();

        var env = ServiceEnvironment();
        await using var a = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), env);
        await using var b2 = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), env);
        await using var billing = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Billing"), env);
        var driver = new LoadDriver([a.Channel, b2.Channel], callers: 32, Bound);
        var outcomes = await driver.RunAsync(records, 0, () => Task.CompletedTask);

        var report = await Invariants.CheckAsync(host, redis.Database, account, [package], records, outcomes, Label, TimeSpan.FromSeconds(60));
        // R-PKG-2: nothing before the midnight was charged to the package; after it the package paid until it was used up.
        for (var i = 0; i < records.Length; i++)
            if (At(records[i]) < midnight) Assert.NotEqual(ChargeKind.Package, outcomes[i].Kind);
        var billableAfter = outcomes.Where((o, i) => At(records[i]) >= midnight && o.Kind != ChargeKind.NotBillable).Count();
        Assert.Equal(Math.Min(1000, billableAfter), report.PackageCalls);

        // The expected split, decided by comparing with the boundary instants themselves (not by the platform's calendar code).
        string DayOf(DateTimeOffset t)
        {
            foreach (var boundary in boundaries)
            {
                if (t >= boundary && t < boundary.AddHours(2)) return ChinaCalendar.DayKey(boundary);
                if (t < boundary && t >= boundary.AddHours(-2)) return ChinaCalendar.DayKey(boundary.AddDays(-1));
            }
            throw new InvalidOperationException($"{t:O} is near no boundary");
        }
        var expectedDays = Expected(records, outcomes, DayOf);
        Assert.Equal(boundaries.SelectMany(x => new[] { ChinaCalendar.DayKey(x.AddDays(-1)), ChinaCalendar.DayKey(x) }).Distinct().Order(), expectedDays.Keys.Order());
        foreach (var (key, e) in expectedDays)
        {
            var start = ChinaCalendar.StartOf(DateOnly.ParseExact(key, "yyyy-MM-dd"));
            Assert.Equal(e.Package, await host.CounterAsync(account, start, Label + "|P"));
            Assert.Equal(e.Postpaid, await host.CounterAsync(account, start, Label + "|O"));
            Assert.Equal(e.Calls - e.Billable, await host.CounterAsync(account, start, Label + "|N"));
        }
        var client = new BillingService.BillingServiceClient(billing.Channel);
        var (from, to) = (boundaries.Min().AddDays(-1), midnight.AddDays(1));
        AssertRowsEqual(expectedDays, await CaughtUpAsync(client, account, from, to, Granularity.Day, records.Length), "per-day statistics (R-BIL-1)");
        if (monthInWindow)
        {
            string MonthOf(DateTimeOffset t) => ChinaCalendar.MonthKey(t < monthStart ? monthStart.AddDays(-1) : monthStart);
            AssertRowsEqual(Expected(records, outcomes, MonthOf), await StatisticsAsync(client, account, from, to, Granularity.Month), "per-month statistics (R-BIL-1)");
        }
        output.WriteLine($"fault 8: {report} retries={driver.Retries}; boundaries {string.Join(", ", boundaries.Select(x => x.ToString("O")))}; " +
            $"month boundary in the 7-day window: {monthInWindow}; per day: {string.Join("; ", expectedDays.OrderBy(e => e.Key))}");
    }
}
