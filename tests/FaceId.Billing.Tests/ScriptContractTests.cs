using FaceId.Billing.Domain;
using FaceId.Billing.Infrastructure;
using FaceId.Billing.Infrastructure.Scripts;
using FaceId.Common;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.Redis;
using FaceId.TestKit;
using Google.Protobuf;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;
using Fields = FaceId.Billing.Infrastructure.Scripts.BillingFormats.Account;

namespace FaceId.Billing.Tests;

/// <summary>
/// Each Billing script through its typed contract against a real redis-server (a cluster with
/// FACEID_TEST_REDIS=cluster): Bind → run → Parse, the typed result and the state and events it wrote.
/// An answer a contract does not know is an error naming the script, never a business outcome.
/// </summary>
public sealed class ScriptContractTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2027-03-05T10:00:00.123Z");

    /// <summary>Strict: a field the protobuf message does not declare fails the parse.</summary>
    private static readonly JsonParser Strict = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));

    private IDatabase Db => redis.Database;

    private async Task<string> ActivatedAsync(Settlement cycle = Settlement.Daily)
    {
        var account = TestIds.New("acct");
        Assert.True(await ActivateScript.Instance.RunAsync(Db, new(account, Now.AddDays(-10), "2021-06", cycle)));
        return account;
    }

    /// <summary>The outbox entries the scripts appended for the account: (type, data).</summary>
    private async Task<IReadOnlyList<(string Type, string Data)>> OutboxAsync(string account) =>
        (await Db.StreamRangeAsync(BillingKeys.Outbox(account))).Select(e => ((string)e["type"]!, (string)e["data"]!)).ToList();

    private static T Event<T>(IReadOnlyList<(string Type, string Data)> entries) where T : IMessage<T>, new()
    {
        var descriptor = new T().Descriptor;
        var (_, data) = Assert.Single(entries, e => e.Type == descriptor.FullName);
        return Strict.Parse<T>(data);
    }

    [Fact]
    public async Task Activate_records_the_activation_once()
    {
        var account = TestIds.New("acct");
        var request = new ActivateScript.Request(account, Now, "2025-01", Settlement.Monthly);

        Assert.True(await ActivateScript.Instance.RunAsync(Db, request));
        Assert.False(await ActivateScript.Instance.RunAsync(Db, request with { PriceBook = "2021-06", Cycle = Settlement.Daily }));

        var h = await Db.HashGetAllAsync(BillingKeys.Account(account));
        Assert.Equal(Now.ToUnixTimeMilliseconds(), (long)h.Single(e => e.Name == Fields.ActivatedAt).Value);
        Assert.Equal("2025-01", (string?)h.Single(e => e.Name == Fields.PriceBook).Value);
        Assert.Equal(Fields.Monthly, (string?)h.Single(e => e.Name == Fields.Cycle).Value);
    }

    [Fact]
    public async Task R_BIL_2_add_prepaid_records_a_package_charge_once()
    {
        var account = TestIds.New("acct");
        var charge = new PrepaidCharge("pkg-1", "face-1", 1_000, 9_900, Now);

        Assert.True(await AddPrepaidScript.Instance.RunAsync(Db, new(account, charge, "2021-06")));
        Assert.False(await AddPrepaidScript.Instance.RunAsync(Db, new(account, charge with { PriceFen = 1 }, "2021-06")));

        var item = (await Db.HashGetAllAsync(BillingKeys.Item(account, BillingFormats.Items.Package("pkg-1")))).ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
        Assert.Equal(new Dictionary<string, string>
        {
            [BillingFormats.Items.Label] = "face-1", [BillingFormats.Items.Size] = "1000", [BillingFormats.Items.PriceFen] = "9900",
            [BillingFormats.Items.PurchasedAt] = Now.ToUnixTimeMilliseconds().ToString(), [BillingFormats.Items.PriceBook] = "2021-06",
        }, item);
        Assert.Equal(Now.ToUnixTimeMilliseconds(), await Db.SortedSetScoreAsync(BillingKeys.Unbilled(account), BillingFormats.Items.Package("pkg-1")));
    }

    [Fact]
    public async Task R_REF_3_credit_refund_credits_once_pays_the_arrears_and_resumes_with_ServiceResumed()
    {
        var account = await ActivatedAsync();
        await Db.HashSetAsync(BillingKeys.Due(account), "2027-03-01", 500);
        await Db.HashSetAsync(BillingKeys.Account(account), [new(Fields.Suspended, BillingFormats.Yes), new(Fields.ArrearsSince, 1), new(Fields.ArrearsFen, 500)]);
        var request = new CreditRefundScript.Request(account, "ref-1", "pkg-1", 800, Now.AddMinutes(-1), Now);

        Assert.True(await CreditRefundScript.Instance.RunAsync(Db, request));
        Assert.False(await CreditRefundScript.Instance.RunAsync(Db, request));

        var state = (await Db.HashGetAllAsync(BillingKeys.Account(account))).ToDictionary(e => (string)e.Name!, e => (string?)e.Value);
        Assert.Equal(("300", "0", BillingFormats.No, false), (state[Fields.BalanceFen], state[Fields.ArrearsFen], state[Fields.Suspended], state.ContainsKey(Fields.ArrearsSince)));
        Assert.Equal(0, await Db.HashLengthAsync(BillingKeys.Due(account)));
        Assert.Equal(Now.AddMinutes(-1).ToUnixTimeMilliseconds(), await Db.SortedSetScoreAsync(BillingKeys.Unbilled(account), BillingFormats.Items.Refund("ref-1")));
        var resumed = Event<ServiceResumed>(await OutboxAsync(account));
        Assert.Equal(account, resumed.AccountId);
        Assert.Equal(Now, resumed.ResumedAt.ToDateTimeOffset());
    }

    [Fact]
    public async Task R_BIL_4_top_up_applies_once_per_key_and_stores_its_snapshot()
    {
        Assert.Null(await TopUpScript.Instance.RunAsync(Db, new(TestIds.New("nobody"), "k", 100, Now, TimeSpan.FromDays(1))));

        var account = await ActivatedAsync();
        await Db.HashSetAsync(BillingKeys.Due(account), "2027-03-01", 1_000);
        var request = new TopUpScript.Request(account, "key-1", 400, Now, TimeSpan.FromDays(400));

        var first = await TopUpScript.Instance.RunAsync(Db, request);
        var again = await TopUpScript.Instance.RunAsync(Db, request with { AmountFen = 7, Now = Now.AddHours(1) });

        Assert.Equal(new TopUpOutcome(false, 400, 0, 600, false, Now), first);
        Assert.Equal(first! with { Duplicate = true }, again);
        var stored = (string)(await Db.StringGetAsync(BillingKeys.TopUp(account, "key-1")))!;
        Assert.Equal(Enum.GetValues<TopUpSnapshotPart>().Length, stored.Split(BillingFormats.Separator).Length);
        Assert.InRange((await Db.KeyTimeToLiveAsync(BillingKeys.TopUp(account, "key-1")))!.Value, TimeSpan.FromDays(399), TimeSpan.FromDays(400));
        Assert.Empty(await OutboxAsync(account)); // not suspended: nothing resumes
    }

    [Fact]
    public async Task R_BIL_4_suspend_is_clear_later_suspended_then_already_with_one_ServiceSuspended()
    {
        var account = await ActivatedAsync();
        var after = TimeSpan.FromHours(24);
        Assert.Equal(new SuspendScript.Result(SuspendStatus.Clear, null), await SuspendScript.Instance.RunAsync(Db, new(account, Now, after)));

        var since = Now.AddHours(-2);
        await Db.HashSetAsync(BillingKeys.Due(account), [new("2027-03-02", 100), new("2027-03-01", 200)]);
        await Db.HashSetAsync(BillingKeys.Account(account), [new(Fields.ArrearsFen, 300), new(Fields.ArrearsSince, since.ToUnixTimeMilliseconds())]);

        Assert.Equal(new SuspendScript.Result(SuspendStatus.Later, since + after), await SuspendScript.Instance.RunAsync(Db, new(account, Now, after)));
        Assert.Equal(new SuspendScript.Result(SuspendStatus.Suspended, null), await SuspendScript.Instance.RunAsync(Db, new(account, since + after, after)));
        Assert.Equal(new SuspendScript.Result(SuspendStatus.Already, null), await SuspendScript.Instance.RunAsync(Db, new(account, since + after, after)));

        Assert.Equal(BillingFormats.Yes, (string?)await Db.HashGetAsync(BillingKeys.Account(account), Fields.Suspended));
        var suspended = Event<ServiceSuspended>(await OutboxAsync(account));
        Assert.Equal((account, since + after, "bill-2027-03-01"), (suspended.AccountId, suspended.SuspendedAt.ToDateTimeOffset(), suspended.BillId));
    }

    [Fact]
    public async Task Unindex_arrears_removes_the_entry_only_with_the_score_seen()
    {
        var account = TestIds.New("acct");
        await Db.SortedSetAddAsync(BillingKeys.ArrearsIndex, account, 5_000);

        Assert.False(await UnindexArrearsScript.Instance.RunAsync(Db, new(account, 4_000)));
        Assert.Equal(5_000, await Db.SortedSetScoreAsync(BillingKeys.ArrearsIndex, account));
        Assert.True(await UnindexArrearsScript.Instance.RunAsync(Db, new(account, 5_000)));
        Assert.Null(await Db.SortedSetScoreAsync(BillingKeys.ArrearsIndex, account));
        Assert.False(await UnindexArrearsScript.Instance.RunAsync(Db, new(account, 5_000)));
    }

    [Fact]
    public async Task The_settlement_claim_is_released_by_the_shared_compare_and_delete_only_for_its_holder()
    {
        var account = TestIds.New("acct");
        await Db.StringSetAsync(BillingKeys.Claim(account), "mine");

        Assert.False(await CompareAndDelete.Instance.RunAsync(Db, new(BillingKeys.Claim(account), "theirs")));
        Assert.True(await CompareAndDelete.Instance.RunAsync(Db, new(BillingKeys.Claim(account), "mine")));
        Assert.False(await Db.KeyExistsAsync(BillingKeys.Claim(account)));
    }

    private static readonly DateOnly Day1 = new(2027, 3, 4), Day2 = new(2027, 4, 1);

    private static string Cell(string label, int mode, string sub, string counter) =>
        string.Join(BillingFormats.Separator, label, mode, sub, counter);

    private async Task<Dictionary<string, long>> DayAsync(string account, DateOnly day) =>
        (await Db.HashGetAllAsync(BillingKeys.DayStats(account, Months.DayKey(day)))).ToDictionary(e => (string)e.Name!, e => (long)e.Value);

    private static readonly TimeSpan Stats = TimeSpan.FromDays(1100);

    /// <summary>
    /// The fields of the account's generation hash current at <paramref name="at"/> (request-id digests, as hex: see
    /// <see cref="Id"/>), with their stored values.
    /// </summary>
    private async Task<Dictionary<string, string>> IdsAsync(string account, DateTimeOffset at) =>
        (await Db.HashGetAllAsync(BillingKeys.RequestIds(account, BillingKeys.RequestIdGenerationAt(at)))).ToDictionary(e => Convert.ToHexString((byte[])e.Name!), e => (string)e.Value!);

    /// <summary>A request id's field as <see cref="IdsAsync"/> lists it.</summary>
    private static string Id(string requestId) => Convert.ToHexString(BillingKeys.RequestIdField(requestId));

    [Fact]
    public async Task R_BIL_1_apply_usage_counts_each_request_id_once_per_day_kind_and_month()
    {
        var account = TestIds.New("acct");
        ApplyUsageScript.Record Rec(string id, UsageKind kind, DateOnly day, string sub = "") => new(id, kind, day, "face", 1, sub);
        var records = new[]
        {
            Rec("r1", UsageKind.Package, Day1), Rec("r2", UsageKind.Postpaid, Day1), Rec("r3", UsageKind.NotBillable, Day1, "sub-1"),
            Rec("r4", UsageKind.Postpaid, Day2), Rec("r1", UsageKind.Package, Day1), // a replay inside the batch
        };
        var request = new ApplyUsageScript.Request(account, records, Now, Stats);

        Assert.Equal(new ApplyUsageScript.Result(4, 1), await ApplyUsageScript.Instance.RunAsync(Db, request));
        Assert.Equal(new ApplyUsageScript.Result(0, 5), await ApplyUsageScript.Instance.RunAsync(Db, request));

        Assert.Equal(new Dictionary<string, long>
        {
            [Cell("face", 1, "", BillingFormats.StatCounters.Calls)] = 2, [Cell("face", 1, "", BillingFormats.StatCounters.Billable)] = 2,
            [Cell("face", 1, "", BillingFormats.StatCounters.Package)] = 1, [Cell("face", 1, "", BillingFormats.StatCounters.Postpaid)] = 1,
            [Cell("face", 1, "sub-1", BillingFormats.StatCounters.Calls)] = 1,
        }, await DayAsync(account, Day1));
        Assert.Equal(1, (await DayAsync(account, Day2))[Cell("face", 1, "", BillingFormats.StatCounters.Postpaid)]);
        var months = (await Db.HashGetAllAsync(BillingKeys.MonthVersions(account))).ToDictionary(e => (string)e.Name!, e => (long)e.Value);
        Assert.Equal(new Dictionary<string, long> { ["202703"] = 3, ["202704"] = 1 }, months);
        // Postpaid records keep what a backdating moves; the others only their kind. Each id is kept as its
        // fixed-length digest, never as its text.
        Assert.All((await Db.HashKeysAsync(BillingKeys.RequestIds(account, BillingKeys.RequestIdGenerationAt(Now)))).Select(f => ((byte[])f!).Length),
            length => Assert.Equal(BillingKeys.RequestIdFieldLength, length));
        Assert.Equal(new Dictionary<string, string> { [Id("r1")] = "P", [Id("r2")] = "O20270304|face|1|", [Id("r3")] = "N", [Id("r4")] = "O20270401|face|1|" },
            await IdsAsync(account, Now));
        Assert.InRange((await Db.KeyTimeToLiveAsync(BillingKeys.RequestIds(account, BillingKeys.RequestIdGenerationAt(Now))))!.Value,
            BillingKeys.RequestIdRetention, BillingKeys.RequestIdRetention + BillingKeys.RequestIdGeneration);
        Assert.InRange((await Db.KeyTimeToLiveAsync(BillingKeys.DayStats(account, Months.DayKey(Day1))))!.Value, TimeSpan.FromDays(1099), TimeSpan.FromDays(1100));
    }

    [Fact]
    public async Task R_BIL_1_an_id_is_found_in_every_generation_still_kept_and_an_expired_generation_leaves_the_registry()
    {
        var account = TestIds.New("acct");
        ApplyUsageScript.Request Usage(string id, DateTimeOffset at) => new(account, [new(id, UsageKind.Postpaid, Day1, "face", 1, "")], at, Stats);
        var later = Now + 2 * BillingKeys.RequestIdGeneration;

        Assert.Equal(new ApplyUsageScript.Result(1, 0), await ApplyUsageScript.Instance.RunAsync(Db, Usage("old", Now)));
        // Two generations later the id is still known: a replay counts once, whatever the clock says.
        Assert.Equal(new ApplyUsageScript.Result(0, 1), await ApplyUsageScript.Instance.RunAsync(Db, Usage("old", later)));
        Assert.Equal(new ApplyUsageScript.Result(1, 0), await ApplyUsageScript.Instance.RunAsync(Db, Usage("new", later)));
        Assert.Equal([Id("new")], (await IdsAsync(account, later)).Keys);
        Assert.Equal(2, await Db.SetLengthAsync(BillingKeys.RequestIdGenerations(account)));

        // The retention is the hash's expiry: once the old generation is gone, its ids are forgotten with it.
        await Db.KeyDeleteAsync(BillingKeys.RequestIds(account, BillingKeys.RequestIdGenerationAt(Now)));
        Assert.Equal(new ApplyUsageScript.Result(1, 0), await ApplyUsageScript.Instance.RunAsync(Db, Usage("old", later)));
        Assert.Equal([BillingKeys.RequestIdGenerationAt(later).ToString()], (await Db.SetMembersAsync(BillingKeys.RequestIdGenerations(account))).Select(m => (string)m!));
    }

    [Fact]
    public async Task R_PKG_4_apply_backdate_moves_applied_postpaid_calls_and_marks_unseen_ones_for_their_usage()
    {
        var account = TestIds.New("acct");
        await ApplyUsageScript.Instance.RunAsync(Db, new(account,
            [new("p1", UsageKind.Postpaid, Day1, "face", 1, ""), new("k1", UsageKind.Package, Day1, "face", 1, ""), new("o1", UsageKind.Postpaid, Day1, "other", 1, "")],
            Now, Stats));

        // A generation later (the backdating comes after the usage, the mark before it).
        var later = Now + BillingKeys.RequestIdGeneration;
        var request = new ApplyBackdateScript.Request(account, "face", ["p1", "k1", "o1", "late"], later);
        Assert.Equal(new ApplyBackdateScript.Result(1, 1, 2), await ApplyBackdateScript.Instance.RunAsync(Db, request));
        Assert.Equal(new ApplyBackdateScript.Result(0, 0, 4), await ApplyBackdateScript.Instance.RunAsync(Db, request));
        Assert.Equal(new Dictionary<string, string> { [Id("late")] = "B" }, await IdsAsync(account, later));

        // The unseen id's usage, arriving afterwards as postpaid, counts as package-deducted.
        var last = later + BillingKeys.RequestIdGeneration;
        Assert.Equal(new ApplyUsageScript.Result(1, 0), await ApplyUsageScript.Instance.RunAsync(Db, new(account,
            [new("late", UsageKind.Postpaid, Day1, "face", 1, "")], last, Stats)));
        Assert.Equal(new Dictionary<string, string> { [Id("late")] = "P" }, await IdsAsync(account, last));
        Assert.False(await Db.KeyExistsAsync(BillingKeys.RequestIds(account, BillingKeys.RequestIdGenerationAt(later)))); // the mark moved on

        var day = await DayAsync(account, Day1);
        Assert.Equal((3L, 0L), (day[Cell("face", 1, "", BillingFormats.StatCounters.Package)], day[Cell("face", 1, "", BillingFormats.StatCounters.Postpaid)]));
        Assert.Equal(1, day[Cell("other", 1, "", BillingFormats.StatCounters.Postpaid)]);
        Assert.Equal(5, (long)await Db.HashGetAsync(BillingKeys.MonthVersions(account), "202703")); // 3 applied, 1 moved, 1 late
        Assert.Equal("P", (await IdsAsync(account, Now))[Id("p1")]);
    }

    /// <summary>
    /// Exactly once under concurrency: 20 deliveries of overlapping random halves of 600 request ids and
    /// 4 backdatings of a third of them, all at once from a pool of tasks, half in one generation and
    /// half in the next; then every id once more in a third generation. Each id counts once, and each
    /// backdated id ends package-deducted, moved or marked exactly once.
    /// </summary>
    [Fact]
    public async Task R_BIL_1_R_PKG_4_concurrent_deliveries_and_backdatings_across_generations_count_each_id_once()
    {
        var account = TestIds.New("acct");
        var ids = Enumerable.Range(0, 600).Select(i => $"conc-{i:D4}").ToList();
        var backdated = ids.Where((_, i) => i % 3 == 0).ToList();
        List<ApplyUsageScript.Record> Records(IEnumerable<string> some) => some.Select(id => new ApplyUsageScript.Record(id, UsageKind.Postpaid, Day1, "face", 1, "")).ToList();

        var runs = await Task.WhenAll(Enumerable.Range(0, 24).Select(k => Task.Run(async () =>
        {
            var at = k % 2 == 0 ? Now : Now + BillingKeys.RequestIdGeneration;
            if (k % 6 == 5)
            {
                var b = await ApplyBackdateScript.Instance.RunAsync(Db, new(account, "face", backdated, at));
                return (Applied: 0L, MovedOrMarked: b.Moved + b.Marked);
            }
            var random = new Random(k);
            var u = await ApplyUsageScript.Instance.RunAsync(Db, new(account, Records(ids.OrderBy(_ => random.Next()).Take(300)), at, Stats));
            return (Applied: u.Applied, MovedOrMarked: 0L);
        })));
        var last = await ApplyUsageScript.Instance.RunAsync(Db, new(account, Records(ids), Now + 2 * BillingKeys.RequestIdGeneration, Stats));

        Assert.Equal(600, runs.Sum(r => r.Applied) + last.Applied);
        Assert.Equal(backdated.Count, runs.Sum(r => r.MovedOrMarked));
        var day = await DayAsync(account, Day1);
        Assert.Equal((600L, 600L, 200L, 400L), (day[Cell("face", 1, "", BillingFormats.StatCounters.Calls)], day[Cell("face", 1, "", BillingFormats.StatCounters.Billable)],
            day[Cell("face", 1, "", BillingFormats.StatCounters.Package)], day[Cell("face", 1, "", BillingFormats.StatCounters.Postpaid)]));
    }

    /// <summary>
    /// Billing's memory per applied call (docs/benchmarks.md: target ≤ 128 bytes): 200,000 postpaid
    /// records of one account and day, ids of 36 characters (UUIDs), in calls of 5,000 records.
    /// </summary>
    [Fact]
    public async Task Memory_per_applied_request_id_stays_within_128_bytes()
    {
        var account = TestIds.New("acct");
        const int total = 200_000, batch = 5_000;
        for (var b = 0; b < total / batch; b++)
        {
            var records = Enumerable.Range(0, batch).Select(_ => new ApplyUsageScript.Record(Guid.NewGuid().ToString(), UsageKind.Postpaid, Day1, "face_liveness", 1, "")).ToList();
            Assert.Equal(new ApplyUsageScript.Result(batch, 0), await ApplyUsageScript.Instance.RunAsync(Db, new(account, records, Now, Stats)));
        }
        var key = BillingKeys.RequestIds(account, BillingKeys.RequestIdGenerationAt(Now));
        Assert.Equal(total, await Db.HashLengthAsync(key));
        var bytes = (long)(await Db.ExecuteAsync("MEMORY", "USAGE", (RedisKey)key, "SAMPLES", "0")); // a key argument: routed to its node in a cluster
        output.WriteLine($"{bytes} bytes by MEMORY USAGE for {total} request ids: {bytes / (double)total:0.0} bytes per id");
        Assert.InRange(bytes / total, 1, 128);
    }

    [Fact]
    public async Task R_BIL_2_R_BIL_4_issue_bill_writes_the_bill_pays_from_the_balance_and_emits_BillIssued_once()
    {
        var account = await ActivatedAsync(Settlement.Monthly);
        await Db.HashSetAsync(BillingKeys.Account(account), Fields.BalanceFen, 100);
        await AddPrepaidScript.Instance.RunAsync(Db, new(account, new PrepaidCharge("pkg-1", "face", 10, 50, Now.AddDays(-3)), "2021-06"));
        var state = new AccountState(account, Now.AddDays(-10), "2021-06", Settlement.Monthly, Seq: 0, SettledThrough: null, BalanceFen: 100,
            ArrearsFen: 0, ArrearsSince: null, Suspended: false);
        var period = new BillingPeriod(Settlement.Monthly, new DateOnly(2027, 2, 1));
        BillLineItem[] lines =
        [
            new(LineKind.Postpaid, "face", 10, 25, 250, "", "postpaid"),
            new(LineKind.PrepaidPackage, "face", 10, 50, 50, "pkg-1", "package"),
        ];
        var draft = new BillDraft(period, lines, 300, [new BilledUpdate("202702", "face", 10, 250)], ["pkg-1"], []);
        var bill = new BillRecord(period.BillId, account, period.Key, Settlement.Monthly, "2021-06", period.Start, period.End, Now, lines, 300);
        var request = new IssueBillScript.Request(state, draft, new Dictionary<string, long> { ["202702"] = 7 }, bill, Now);

        var issued = await IssueBillScript.Instance.RunAsync(Db, request);

        Assert.Equal(new IssueBillScript.Result(IssueStatus.Issued, 200, 0, 200, Now), issued);
        Assert.Equal(IssueStatus.Exists, (await IssueBillScript.Instance.RunAsync(Db, request)).Status);
        var next = period.Next;
        Assert.Equal(IssueStatus.Conflict, (await IssueBillScript.Instance.RunAsync(Db, request with
        {
            Draft = draft with { Period = next, Billed = [], PackagesCharged = [] },
            Bill = bill with { BillId = next.BillId, Period = next.Key },
        })).Status);

        Assert.Equal(200, (long)await Db.HashGetAsync(BillingKeys.Due(account), period.Key));
        Assert.Equal(0, await Db.SortedSetLengthAsync(BillingKeys.Unbilled(account)));
        var billed = (await Db.HashGetAllAsync(BillingKeys.Billed(account, "202702"))).ToDictionary(e => (string)e.Name!, e => (long)e.Value);
        Assert.Equal(new Dictionary<string, long>
        {
            [BillingFormats.Billed.Version] = 7,
            ["face" + BillingFormats.Separator + BillingFormats.Billed.Calls] = 10,
            ["face" + BillingFormats.Separator + BillingFormats.Billed.Fen] = 250,
        }, billed);
        var after = (await Db.HashGetAllAsync(BillingKeys.Account(account))).ToDictionary(e => (string)e.Name!, e => (string?)e.Value);
        Assert.Equal((period.Key, "1", "0", "200"), (after[Fields.SettledThrough], after[Fields.Seq], after[Fields.BalanceFen], after[Fields.ArrearsFen]));

        var e = Event<BillIssued>(await OutboxAsync(account));
        Assert.Equal((account, period.BillId, period.Start, period.End, 300L, true),
            (e.AccountId, e.BillId, e.PeriodStart.ToDateTimeOffset(), e.PeriodEnd.ToDateTimeOffset(), e.TotalFen, e.InArrears));
    }

    public static TheoryData<string, Func<RedisResult, object?>> UnknownReplies => new()
    {
        { "top-up.lua", r => TopUpScript.Instance.Parse(r) },
        { "suspend.lua", r => SuspendScript.Instance.Parse(r) },
        { "issue-bill.lua", r => IssueBillScript.Instance.Parse(r) },
    };

    [Theory]
    [MemberData(nameof(UnknownReplies))]
    public void An_unknown_status_is_an_error_naming_the_script_never_an_outcome(string script, Func<RedisResult, object?> parse)
    {
        var e = Assert.Throws<UnexpectedScriptReplyException>(() => parse(RedisResult.Create([RedisResult.Create((RedisValue)"paused")])));
        Assert.Equal(script, e.ScriptName);
        Assert.Contains("'paused'", e.Message);
    }

    [Fact]
    public void A_count_reply_other_than_one_or_zero_is_an_error_naming_the_script()
    {
        Assert.Equal("activate.lua", Assert.Throws<UnexpectedScriptReplyException>(() => ActivateScript.Instance.Parse(RedisResult.Create(2))).ScriptName);
        Assert.Equal("credit-refund.lua", Assert.Throws<UnexpectedScriptReplyException>(() => CreditRefundScript.Instance.Parse(RedisResult.Create(-1))).ScriptName);
        Assert.Equal("add-prepaid.lua", Assert.Throws<UnexpectedScriptReplyException>(() => AddPrepaidScript.Instance.Parse(RedisResult.Create(3))).ScriptName);
        Assert.Equal("unindex-arrears.lua", Assert.Throws<UnexpectedScriptReplyException>(() => UnindexArrearsScript.Instance.Parse(RedisResult.Create(9))).ScriptName);
    }

    [Fact]
    public void A_top_up_snapshot_of_another_shape_is_an_error_never_a_balance()
    {
        var reply = RedisResult.Create([RedisResult.Create((RedisValue)TopUpScript.Duplicate), RedisResult.Create((RedisValue)"1|2|3")]);
        Assert.Equal("top-up.lua", Assert.Throws<UnexpectedScriptReplyException>(() => TopUpScript.Instance.Parse(reply)).ScriptName);
    }
}
