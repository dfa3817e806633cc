using FaceId.Common;
using FaceId.Contracts.Common.V1;
using FaceId.Metering.Application;
using FaceId.Packages.Catalog;
using FaceId.TestKit;
using Xunit;

namespace FaceId.Ledger.Tests;

/// <summary>docs/rules.md §1 and §4: who pays, billable by return code, labels from channels, late records.</summary>
public sealed class MeteringRulesTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static UsageInput Channel(string account, string channel, ComparisonLibrary library, string code = "0", DateTimeOffset? at = null) =>
        new(TestIds.New("req"), account, "", channel, library, AccessMode.Paas, code, at ?? DateTimeOffset.UtcNow);

    [Fact]
    public async Task R_ACC_1_a_sub_account_s_calls_are_charged_to_its_main_account()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var main = await host.OpenedAccountAsync();
        var sub = await host.SubAccountAsync(main);
        var package = await host.BuyAsync(main, "basic_authoritative", 1000);

        var result = await host.UseAsync(sub, "basic_authoritative");

        Assert.Equal(main, result.ChargedAccountId);
        Assert.Equal(package.Id, result.PackageId);
        var usage = (await host.OutboxAsync(main)).Last(e => e.Topic == "faceid.usage.charged.v1");
        Assert.Contains($"\"subAccountId\":\"{sub}\"", usage.Data);
        Assert.Contains($"\"accountId\":\"{main}\"", usage.Data);
        var e = await Assert.ThrowsAsync<PreconditionFailedException>(() => host.BuyAsync(sub, "basic_authoritative", 1000));
        Assert.Equal("SUB_ACCOUNT", e.Reason);
    }

    [Fact]
    public async Task The_usage_event_of_a_mixed_batch_reports_every_new_record_as_it_was_charged()
    {
        // The ledger writes UsageCharged in its compact form (groups of calls charged alike); read back
        // through AllRecords, each record must carry its own call's fields and outcome (R-ACC-1, R-MET-2, R-PKG-3).
        await using var host = new LedgerHost(redis.ConnectionString);
        var main = await host.OpenedAccountAsync();
        var sub = await host.SubAccountAsync(main);
        var package = await host.BuyAsync(main, "basic_authoritative", 1000);
        var now = host.Time.GetUtcNow();
        var yesterday = now.AddDays(-1);
        UsageInput Call(string account, string label, string code, DateTimeOffset at, AccessMode mode = AccessMode.Saas) =>
            new(TestIds.New("req"), account, label, "", ComparisonLibrary.Unspecified, mode, code, at);
        var batch = new List<UsageInput>
        {
            Call(main, "basic_authoritative", "0", now), Call(sub, "basic_authoritative", "0", now.AddSeconds(-1)),
            Call(main, "basic_authoritative", "0", yesterday, AccessMode.Paas), Call(main, "basic_authoritative", "0", now),
            Call(main, "basic_authoritative", "0", now), Call(main, "basic_authoritative", "9999", now),
            Call(main, "basic_self_photo", "0", now), Call(sub, "basic_authoritative", "0", now),
        };
        batch.Add(batch[0]); // a duplicate within the batch: answered, not reported again

        var results = await host.Metering.RecordBatchAsync(batch);
        await host.Metering.RecordBatchAsync(batch); // a replay: nothing new to report

        var reported = (await host.OutboxAsync(main)).Where(e => e.Topic == "faceid.usage.charged.v1")
            .SelectMany(e => Google.Protobuf.JsonParser.Default.Parse<FaceId.Contracts.Events.V1.UsageCharged>(e.Data).AllRecords()).ToList();
        Assert.Equal(batch.Count - 1, reported.Count);
        Assert.Equal(5, reported.Count(r => r.PackageId == package.Id)); // not yesterday's call: before the purchase day (R-PKG-2)
        Assert.Equal(2, reported.Count(r => r.Billable && r.PackageId == ""));
        foreach (var (call, result) in batch.Zip(results).Take(batch.Count - 1))
        {
            var r = Assert.Single(reported, r => r.RequestId == call.RequestId);
            Assert.Equal(main, r.AccountId);
            Assert.Equal(call.AccountId == sub ? sub : "", r.SubAccountId);
            Assert.Equal(call.Label, r.Label);
            Assert.Equal(call.AccessMode, r.AccessMode);
            Assert.Equal(call.ReturnCode, r.ReturnCode);
            Assert.Equal(call.OccurredAt!.Value.ToUnixTimeMilliseconds(), r.OccurredAt.ToDateTimeOffset().ToUnixTimeMilliseconds());
            Assert.Equal(result.Billable, r.Billable);
            Assert.Equal(result.PackageId, r.PackageId);
            Assert.Equal("2021-06", r.PriceBook);
        }
        Assert.True(results[^1].Duplicate);
    }

    [Fact]
    public async Task R_ACC_2_calls_before_the_activation_instant_are_refused_not_billed()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var activated = host.Time.GetUtcNow().AddHours(-1);
        var account = await host.OpenedAccountAsync(activated);
        Assert.Equal(RefusalReason.ServiceNotOpened, (await host.UseAsync(account, "basic_authoritative", activated.AddMilliseconds(-1))).Refusal);
        Assert.Equal(UsageKind.Postpaid, (await host.UseAsync(account, "basic_authoritative", activated)).Kind);
    }

    [Fact]
    public async Task R_MET_1_a_channel_and_library_resolve_to_the_billing_label_of_the_account_s_price_book()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var current = await host.OpenedAccountAsync();
        var legacy = await host.OpenedAccountAsync(priceBook: "legacy");
        var now = host.Time.GetUtcNow();

        Assert.Equal("enhanced_self_photo_wechat", (await host.Metering.RecordAsync(Channel(current, "wechat_mini_program", ComparisonLibrary.SelfPhoto, at: now))).OrThrow().Label);
        Assert.Equal("enhanced_authoritative_app", (await host.Metering.RecordAsync(Channel(current, "enhanced_app_sdk", ComparisonLibrary.Authoritative, at: now))).OrThrow().Label);
        Assert.Equal("basic_self_photo", (await host.Metering.RecordAsync(Channel(current, "liveness_comparison_api", ComparisonLibrary.Unspecified, at: now))).OrThrow().Label);
        Assert.Equal("legacy_wechat_liveness_comparison", (await host.Metering.RecordAsync(Channel(legacy, "wechat_native_h5", ComparisonLibrary.SelfPhoto, at: now))).OrThrow().Label);
        Assert.Equal("legacy_photo_verification", (await host.Metering.RecordAsync(Channel(legacy, "photo_verification_api", ComparisonLibrary.Unspecified, at: now))).OrThrow().Label);
        // Returned, not thrown: the hot path refuses bad input without an exception.
        var missing = Assert.IsType<InvalidInputException>((await host.Metering.RecordAsync(Channel(current, "pc_h5", ComparisonLibrary.Unspecified, at: now))).Refusal);
        Assert.Equal("record.library", missing.Violations.Single().Field);
    }

    [Fact]
    public async Task A_batch_s_violations_name_the_records_they_are_in()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var now = host.Time.GetUtcNow();
        var ok = Channel(account, "liveness_comparison_api", ComparisonLibrary.Unspecified, at: now);

        var shape = await Assert.ThrowsAsync<InvalidInputException>(() => host.Metering.RecordBatchAsync(
            [ok, ok with { RequestId = "bad id!" }, ok with { ReturnCode = "" }]));
        Assert.Equal(["records[1].request_id", "records[2].return_code"], shape.Violations.Select(v => v.Field));

        var label = await Assert.ThrowsAsync<InvalidInputException>(() => host.Metering.RecordBatchAsync(
            [ok, Channel(account, "pc_h5", ComparisonLibrary.Unspecified, at: now)]));
        Assert.Equal("records[1].library", label.Violations.Single().Field);
    }

    [Theory]
    [InlineData("wechat_mini_program", "0", true)]
    [InlineData("wechat_mini_program", "2006", true)]
    [InlineData("wechat_mini_program", "2016", true)]
    [InlineData("wechat_mini_program", "1002", true)]
    [InlineData("wechat_mini_program", "2007", false)] // SDK-only codes are not billed on WeChat channels
    [InlineData("enhanced_app_sdk", "2007", true)]
    [InlineData("enhanced_app_sdk", "2015", true)]
    [InlineData("eid", "1002", false)] // E证通 does not bill suspected non-live
    [InlineData("eid", "2009", false)]
    [InlineData("eid", "0", true)]
    [InlineData("basic_app_sdk", "1001", false)]
    [InlineData("basic_app_sdk", "2017", false)]
    [InlineData("basic_app_sdk", "InvalidParameter.Photo", false)]
    [InlineData("basic_app_sdk", "UnauthorizedOperation.Arrears", false)]
    [InlineData("id_info_check", "-1", true)]
    [InlineData("id_info_check", "-2", false)]
    public void R_MET_2_billable_or_not_is_decided_by_the_return_code_tables(string channel, string code, bool billable)
    {
        var catalog = CatalogLoader.Load(CatalogLoader.DefaultDirectory);
        var label = catalog.ResolveLabel("2021-06", null, channel, ComparisonLibrary.Authoritative);
        Assert.Equal(billable, catalog.IsBillable(label.CodeSet, code));
    }

    [Fact]
    public async Task R_MET_3_a_liveness_verification_with_an_identity_check_is_two_records_under_two_labels()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        await host.BuyAsync(account, "basic_authoritative", 1000);
        var now = host.Time.GetUtcNow();
        var results = await host.Metering.RecordBatchAsync(
        [
            Channel(account, "liveness_verification_api", ComparisonLibrary.Unspecified, at: now),
            Channel(account, "id_info_check", ComparisonLibrary.Unspecified, at: now),
        ]);
        Assert.Equal(("basic_authoritative", UsageKind.Package), (results[0].Label, results[0].Kind));
        Assert.Equal(("id_info_check", UsageKind.Postpaid), (results[1].Label, results[1].Kind));
    }

    [Fact]
    public async Task R_MET_4_a_late_record_is_charged_by_the_packages_valid_at_its_own_time()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);
        var now = host.Time.GetUtcNow();

        var twoDaysLate = await host.UseAsync(account, "basic_authoritative", now.AddDays(-2));
        var onTime = await host.UseAsync(account, "basic_authoritative", now);
        var tooLate = await Assert.ThrowsAsync<InvalidInputException>(() => host.UseAsync(account, "basic_authoritative", now.AddDays(-7).AddSeconds(-1)));

        Assert.Equal(UsageKind.Postpaid, twoDaysLate.Kind); // the package did not exist yet at that time
        Assert.Equal(package.Id, onTime.PackageId);
        Assert.Equal("record.occurred_at", tooLate.Violations.Single().Field);
        Assert.Equal(1, await host.CounterAsync(account, now.AddDays(-2), "basic_authoritative|O"));
    }

    [Fact]
    public async Task R_MET_1_suspended_accounts_are_refused_without_deducting_packages()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);
        var now = host.Time.GetUtcNow();

        await host.Ledger.SetSuspendedAsync(account, true, now);
        var refused = await host.UseAsync(account, "basic_authoritative");
        await host.Ledger.SetSuspendedAsync(account, true, now.AddSeconds(-1)); // out of order: suspended from then on
        await host.Ledger.SetSuspendedAsync(account, false, now.AddSeconds(1));
        var resumed = await host.UseAsync(account, "basic_authoritative", now.AddSeconds(1));
        var duringSuspension = await host.UseAsync(account, "basic_authoritative", now.AddSeconds(-1)); // arrives after the resumption: R-MET-4

        Assert.Equal((UsageKind.Refused, RefusalReason.ServiceSuspended), (refused.Kind, refused.Refusal));
        Assert.Equal(package.Id, resumed.PackageId);
        Assert.Equal((UsageKind.Refused, RefusalReason.ServiceSuspended), (duringSuspension.Kind, duringSuspension.Refusal));
        Assert.Equal(1, (await host.Reader.GetPackageAsync(account, package.Id))!.Used);
    }
}
