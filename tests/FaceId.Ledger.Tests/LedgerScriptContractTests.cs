using FaceId.Common;
using FaceId.Contracts.Events.V1;
using FaceId.Packages.Ledger;
using FaceId.Redis;
using FaceId.TestKit;
using Google.Protobuf;
using StackExchange.Redis;
using Xunit;

namespace FaceId.Ledger.Tests;

/// <summary>
/// Each ledger script through its typed contract against a real Redis: Bind → run → Parse, the typed
/// result and the state and events written; an answer a contract does not know throws naming the script.
/// Events built in Lua are read back with a strict JsonParser (an unknown field fails).
/// </summary>
public sealed class LedgerScriptContractTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly JsonParser Strict = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));

    [Fact]
    public async Task Activate_opens_once_and_answers_the_first_opening_afterwards()
    {
        var account = TestIds.New("acct");
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_770_000_000_000);

        var first = await ActivateScript.Instance.RunAsync(redis.Database, new(account, at, "2021-06", Settlement.Daily));
        var again = await ActivateScript.Instance.RunAsync(redis.Database, new(account, at.AddDays(1), "2022-01", Settlement.Monthly));

        Assert.Equal(new ActivateScript.Result(at, "2021-06", true), first);
        Assert.Equal(new ActivateScript.Result(at, "2021-06", false), again);
        Assert.Equal(ServiceStates.Opened, (string?)await redis.Database.HashGetAsync(LedgerKeys.Service(account), ServiceFields.State));
        Assert.Equal("daily", (string?)await redis.Database.HashGetAsync(LedgerKeys.Service(account), "cycle"));
        Assert.Throws<UnexpectedScriptReplyException>(() => ActivateScript.Instance.Parse(RedisResult.Create([RedisResult.Create(1L), RedisResult.Create((RedisValue)"b"), RedisResult.Create(7L)])));
    }

    [Fact]
    public async Task R_BIL_4_set_service_state_keeps_the_changes_in_time_order_and_answers_the_latest()
    {
        var account = TestIds.New("acct");
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_770_000_000_000);
        Assert.Equal(ServiceStateNow.NeverOpened, await SetServiceStateScript.Instance.RunAsync(redis.Database, new(account, true, at, at)));
        await ActivateScript.Instance.RunAsync(redis.Database, new(account, at, "2021-06", Settlement.Daily));

        Assert.Equal(ServiceStateNow.Suspended, await SetServiceStateScript.Instance.RunAsync(redis.Database, new(account, true, at, at)));
        Assert.Equal(ServiceStateNow.Suspended, await SetServiceStateScript.Instance.RunAsync(redis.Database, new(account, false, at.AddSeconds(-1), at)));
        Assert.Equal(ServiceStateNow.Opened, await SetServiceStateScript.Instance.RunAsync(redis.Database, new(account, false, at.AddSeconds(1), at)));
        Assert.Equal(ServiceStates.Opened, (string?)await redis.Database.HashGetAsync(LedgerKeys.Service(account), ServiceFields.State));
        Assert.Equal([(false, at.AddSeconds(-1)), (true, at), (false, at.AddSeconds(1))],
            ServiceHistory.Parse((string)(await redis.Database.HashGetAsync(LedgerKeys.Service(account), ServiceFields.States))!));
        var e = Assert.Throws<UnexpectedScriptReplyException>(() => SetServiceStateScript.Instance.Parse(RedisResult.Create((RedisValue)"paused")));
        Assert.Equal("set-service-state.lua", e.ScriptName);
    }

    [Fact]
    public async Task Reschedule_moves_a_claimed_member_only_while_it_keeps_the_claims_score()
    {
        var key = (RedisKey)$"test:schedule:{TestIds.New("s")}";
        var claimedUntil = DateTimeOffset.FromUnixTimeMilliseconds(1_770_000_000_000);
        var next = claimedUntil.AddDays(1);
        await redis.Database.SortedSetAddAsync(key, "m", claimedUntil.ToUnixTimeMilliseconds());

        Assert.False(await RescheduleScript.Instance.RunAsync(redis.Database, new(key, "m", claimedUntil.AddSeconds(-1), next)));
        Assert.True(await RescheduleScript.Instance.RunAsync(redis.Database, new(key, "m", claimedUntil, next)));
        Assert.Equal(next.ToUnixTimeMilliseconds(), await redis.Database.SortedSetScoreAsync(key, "m"));
        Assert.True(await RescheduleScript.Instance.RunAsync(redis.Database, new(key, "m", next, null)));
        Assert.Null(await redis.Database.SortedSetScoreAsync(key, "m"));
        Assert.Throws<UnexpectedScriptReplyException>(() => RescheduleScript.Instance.Parse(RedisResult.Create(2L)));
    }

    [Fact]
    public async Task R_PKG_1_R_PKG_4_create_packages_writes_records_and_events_once_per_guard()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var now = host.Time.GetUtcNow();
        // Postpaid calls of the purchase day, backdated onto the new package (R-PKG-4): the main account's and a
        // sub-account's, each moved in its own day counter cell (R-BIL-3 per sub-account).
        var sub = await host.SubAccountAsync(account);
        var postpaid = await host.UseAsync(account, "basic_authoritative");
        var subPostpaid = await host.UseAsync(sub, "basic_authoritative");
        Assert.Equal(1, await host.CounterAsync(account, now, LedgerKeys.DayCounterField("basic_authoritative", ChargeKind.Postpaid, sub)));
        Assert.Equal(1, await host.CounterAsync(account, now, LedgerKeys.DayCounterField("basic_authoritative", ChargeKind.Postpaid)));
        var id = PackageLedger.PackageId(account, "order:contract", 0);
        var request = new CreatePackagesScript.Request(account, RequireOpenedService: true, now, now, "contract",
            [(id, new NewPackage("basic_authoritative", 10, 500, false, "2021-06"))]);

        var created = await CreatePackagesScript.Instance.RunAsync(host.Redis, request);
        var again = await CreatePackagesScript.Instance.RunAsync(host.Redis, request);

        Assert.Equal(CreateStatus.Created, created.Status);
        Assert.Equal([id], created.Ids);
        Assert.Equal(CreateStatus.AlreadyCreated, again.Status);
        Assert.Equal([id], again.Ids);
        var record = await host.Reader.GetPackageAsync(account, id);
        Assert.NotNull(record);
        Assert.Equal(("basic_authoritative", 10L, 2L, 500L, false, PackageStatuses.Active, "contract", 2L),
            (record.Label, record.Size, record.Used, record.PriceFen, record.Free, record.StoredStatus, record.OrderId, record.Backdated));
        Assert.Equal(ChinaCalendar.AnniversaryOf(now), record.ExpiresAt);

        var outbox = await host.OutboxAsync(account);
        var delivered = Strict.Parse<PackageDelivered>(Assert.Single(outbox, e => e.Id == "delivered:" + id).Data);
        Assert.Equal((account, id, 10L, 2L, "2021-06"), (delivered.AccountId, delivered.PackageId, delivered.Size, delivered.BackdatedCalls, delivered.PriceBook));
        var backdated = Strict.Parse<UsageBackdated>(Assert.Single(outbox, e => e.Id == "backdated:" + id).Data);
        Assert.Equal((account, id, "basic_authoritative"), (backdated.AccountId, backdated.PackageId, backdated.Label));
        Assert.Equal(new[] { postpaid.RequestId, subPostpaid.RequestId }.Order(StringComparer.Ordinal), backdated.RequestIds.Order(StringComparer.Ordinal));
        foreach (var cell in new[] { "", sub })
        {
            Assert.Equal(1, await host.CounterAsync(account, now, LedgerKeys.DayCounterField("basic_authoritative", ChargeKind.Package, cell)));
            Assert.Equal(0, await host.CounterAsync(account, now, LedgerKeys.DayCounterField("basic_authoritative", ChargeKind.Postpaid, cell)));
        }
    }

    [Fact]
    public async Task R_ACC_2_R_BIL_4_create_packages_answers_not_opened_and_suspended_and_creates_nothing()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var now = host.Time.GetUtcNow();
        var unopened = TestIds.New("acct");
        var suspended = await host.OpenedAccountAsync();
        await host.Ledger.SetSuspendedAsync(suspended, true, now);
        foreach (var (account, expected) in new[] { (unopened, CreateStatus.NotOpened), (suspended, CreateStatus.Suspended) })
        {
            var id = PackageLedger.PackageId(account, "order:x", 0);
            var result = await CreatePackagesScript.Instance.RunAsync(host.Redis,
                new(account, true, now, now, "x", [(id, new NewPackage("basic_authoritative", 10, 500, false, "2021-06"))]));
            Assert.Equal(expected, result.Status);
            Assert.Empty(result.Ids);
            Assert.Null(await host.Reader.GetPackageAsync(account, id));
        }
        Assert.Throws<UnexpectedScriptReplyException>(() => CreatePackagesScript.Instance.Parse(RedisResult.Create([RedisResult.Create((RedisValue)"maybe")])));
        Assert.Throws<UnexpectedScriptReplyException>(() => CreatePackagesScript.Instance.Parse(RedisResult.Create([RedisResult.Create((RedisValue)"ok")])));
    }

    [Fact]
    public async Task R_PKG_6_a_package_step_raises_its_alert_once_and_prunes_the_index()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);
        var now = package.ExpiresAt.AddDays(-7);
        host.Time.SetUtcNow(now);

        Assert.Equal(PackageStepOutcome.Raised, await PackageStepScript.Instance.RunAsync(host.Redis, new(account, package.Id, PackageStep.Expiring7D, now)));
        Assert.Equal(PackageStepOutcome.Skipped, await PackageStepScript.Instance.RunAsync(host.Redis, new(account, package.Id, PackageStep.Expiring7D, now)));

        var alert = Strict.Parse<PackageAlert>(Assert.Single(await host.OutboxAsync(account), e => e.Id == $"alert:{package.Id}:PACKAGE_ALERT_KIND_EXPIRING_7D").Data);
        Assert.Equal((account, package.Id, "basic_authoritative", PackageAlertKind.Expiring7D, 1000L, 1000L),
            (alert.AccountId, alert.PackageId, alert.Label, alert.Kind, alert.Size, alert.Remaining));
        Assert.Equal(package.ExpiresAt, alert.ExpiresAt.ToDateTimeOffset());
        Assert.Equal(now, alert.RaisedAt.ToDateTimeOffset());
        var stored = (string?)await host.Redis.HashGetAsync(LedgerKeys.PackageBucket(account, package.Id), package.Id);
        Assert.Equal([PackageAlertKind.Expiring7D], PackageAlertFlags.Raised(stored!.Split(PackageRecordFormat.Separator)[PackageRecordFormat.Alerts]));

        var index = LedgerKeys.Available(account, "basic_authoritative");
        Assert.Equal(1, await host.Redis.SortedSetLengthAsync(index));
        Assert.Equal(PackageStepOutcome.Pruned, await PackageStepScript.Instance.RunAsync(host.Redis, new(account, package.Id, PackageStep.Prune, now)));
        Assert.Equal(0, await host.Redis.SortedSetLengthAsync(index));
        Assert.Equal(PackageStepOutcome.Missing, await PackageStepScript.Instance.RunAsync(host.Redis, new(account, "pkg_000nothere", PackageStep.Expired, now)));
        var e = Assert.Throws<UnexpectedScriptReplyException>(() => PackageStepScript.Instance.Parse(RedisResult.Create((RedisValue)"exploded")));
        Assert.Equal("expiry-alert.lua", e.ScriptName);
    }

    [Fact]
    public async Task R_PKG_3_R_MET_2_deduct_charges_a_batch_and_answers_each_record_typed()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);
        var now = host.Time.GetUtcNow();
        ChargeRequest Record(string label, bool billable = true) => new(TestIds.New("req"), label, now, billable, "", "ACCESS_MODE_SAAS", billable ? "0" : "9999");
        var records = new List<ChargeRequest>
        {
            Record("basic_authoritative"), Record("basic_authoritative"), Record("basic_self_photo"), Record("basic_self_photo"),
            Record("basic_authoritative", billable: false),
        };
        records.Add(records[0]); // a duplicate within the batch

        var call = DeductScript.Instance.Bind(new(account, now, records));
        Assert.Equal([LedgerKeys.Service(account), LedgerKeys.Outbox(account)], call.Keys.Select(k => (string)k!));
        var results = await DeductScript.Instance.ChargeAsync(host.Redis, new(account, now, records));

        Assert.Equal([ChargeStatus.New, ChargeStatus.New, ChargeStatus.New, ChargeStatus.New, ChargeStatus.New, ChargeStatus.Duplicate], results.Select(r => r.Status));
        Assert.Equal((ChargeKind.Package, "basic_authoritative", package.Id, 999L, "2021-06"),
            (results[0].Outcome!.Kind, results[0].Outcome!.Label, results[0].Outcome!.PackageId, results[0].Outcome!.PackageRemaining, results[0].Outcome!.PriceBook));
        Assert.Equal(998L, results[1].Outcome!.PackageRemaining);
        Assert.Equal((ChargeKind.Postpaid, "basic_self_photo"), (results[3].Outcome!.Kind, results[3].Outcome!.Label));
        Assert.Equal((ChargeKind.NotBillable, "basic_authoritative"), (results[4].Outcome!.Kind, results[4].Outcome!.Label));
        Assert.Equal(results[0].Outcome, results[5].Outcome);
        Assert.Equal(2, (await host.Reader.GetPackageAsync(account, package.Id))!.Used);
        Assert.Equal(2, await host.CounterAsync(account, now, LedgerKeys.DayCounterField("basic_authoritative", ChargeKind.Package)));
        Assert.Equal(2, await host.CounterAsync(account, now, LedgerKeys.DayCounterField("basic_self_photo", ChargeKind.Postpaid)));
        Assert.Equal(1, await host.CounterAsync(account, now, LedgerKeys.DayCounterField("basic_authoritative", ChargeKind.NotBillable)));
        var kept = (string?)await host.Redis.HashGetAsync(LedgerKeys.RequestIds(account, LedgerKeys.GenerationAt(now)), records[2].RequestId);
        // The outcome, then the call's fingerprint as C# computes it (deduct.lua writes the time's part).
        Assert.Equal(ChargeKinds.Postpaid + "basic_self_photo" + UsageFingerprint.Separator + UsageFingerprint.Of(records[2]), kept);

        // The one UsageCharged event, read strictly: one group per class and package, every new record once.
        var charged = Strict.Parse<UsageCharged>(Assert.Single(await host.OutboxAsync(account), e => e.Topic == "faceid.usage.charged.v1").Data);
        Assert.Equal(3, charged.Groups.Count);
        var packaged = Assert.Single(charged.Groups, g => g.PackageId == package.Id);
        Assert.Equal((account, "basic_authoritative", true, "2021-06"), (packaged.AccountId, packaged.Label, packaged.Billable, packaged.PriceBook));
        Assert.Equal([records[0].RequestId, records[1].RequestId], packaged.RequestIds);
        Assert.Equal([now.ToUnixTimeMilliseconds(), now.ToUnixTimeMilliseconds()], packaged.OccurredAtMs);
        Assert.Equal(5, charged.AllRecords().Count());

        // Refusals: an unknown account, a call before the opening.
        var unknown = await DeductScript.Instance.ChargeAsync(host.Redis, new(TestIds.New("acct"), now, [Record("basic_authoritative")]));
        Assert.Equal(ChargeStatus.UnknownAccount, Assert.Single(unknown).Status);
        var early = await DeductScript.Instance.ChargeAsync(host.Redis, new(account, now, [Record("basic_authoritative") with { OccurredAt = now.AddYears(-2) }]));
        Assert.Equal(ChargeStatus.NotOpened, Assert.Single(early).Status);
    }

    [Fact]
    public async Task R_BIL_1_R_BIL_4_deduct_publishes_refused_calls_in_UsageCharged_by_class_and_reason_once_and_keeps_and_counts_each_refused_id_once()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var now = host.Time.GetUtcNow();
        var suspendedAt = now.AddHours(-1);
        await host.Ledger.SetSuspendedAsync(account, true, suspendedAt);
        ChargeRequest Record(DateTimeOffset at, string sub = "") => new(TestIds.New("req"), "basic_authoritative", at, true, sub, "ACCESS_MODE_SAAS", "0");
        var records = new[] { Record(suspendedAt.AddMinutes(-1)), Record(now), Record(now, "sub-x"), Record(now.AddYears(-2)) };

        var results = await DeductScript.Instance.ChargeAsync(host.Redis, new(account, now, records));
        Assert.Equal([ChargeStatus.New, ChargeStatus.Suspended, ChargeStatus.Suspended, ChargeStatus.NotOpened], results.Select(r => r.Status));

        // One event: the charged call in groups, the refused ones in refused groups (class members, reason, ids and times); read strictly.
        var charged = Strict.Parse<UsageCharged>(Assert.Single(await host.OutboxAsync(account), e => e.Topic == "faceid.usage.charged.v1").Data);
        Assert.Equal([records[0].RequestId], charged.AllRecords().Select(r => r.RequestId));
        Assert.Equal(
        [
            (UsageRefusal.ServiceNotOpened, "", records[3].RequestId, now.AddYears(-2).ToUnixTimeMilliseconds()),
            (UsageRefusal.ServiceSuspended, "", records[1].RequestId, now.ToUnixTimeMilliseconds()),
            (UsageRefusal.ServiceSuspended, "sub-x", records[2].RequestId, now.ToUnixTimeMilliseconds()),
        ], charged.Refused.OrderBy(g => g.Reason).ThenBy(g => g.SubAccountId, StringComparer.Ordinal)
            .Select(g => (g.Reason, g.SubAccountId, Assert.Single(g.RequestIds), Assert.Single(g.OccurredAtMs))));
        Assert.All(charged.Refused, g => Assert.Equal((account, "basic_authoritative", true), (g.AccountId, g.Label, g.Billable)));

        // A refused request id is kept with its refusal and counted once in its cell under the reason's refused kind (never in the
        // charge kinds); its retry is answered the same refusal as a duplicate, neither published nor counted again.
        Assert.Equal(ChargeStatus.Suspended, (await host.Charges.GetChargeAsync(account, records[1].RequestId))!.Status);
        var retry = Assert.Single(await DeductScript.Instance.ChargeAsync(host.Redis, new(account, now, [records[1]])));
        Assert.Equal((ChargeStatus.Suspended, true), (retry.Status, retry.Duplicate));
        Assert.Single(await host.OutboxAsync(account), e => e.Topic == "faceid.usage.charged.v1");
        Assert.Equal((1L, 1L, 1L), (await host.CounterAsync(account, now, "basic_authoritative|S"), await host.CounterAsync(account, now, "basic_authoritative|sub-x|S"),
            await host.CounterAsync(account, now.AddYears(-2), "basic_authoritative|U")));
        Assert.Equal(1, await host.LabelCountAsync(account, now, "basic_authoritative", ChargeKind.Postpaid) + await host.LabelCountAsync(account, now, "basic_authoritative", ChargeKind.Package));
    }
}
