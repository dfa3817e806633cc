using FaceId.Common;
using FaceId.Contracts.Common.V1;
using FaceId.Metering.Application;
using FaceId.Packages.Ledger;
using FaceId.TestKit;
using Xunit;

namespace FaceId.Ledger.Tests;

/// <summary>
/// Request ids live in one hash per account and generation (8 days) they were charged in
/// (deduct.lua, docs/redis-keys.md), their outcomes in a short form: a retry is found whenever it
/// comes, within one batch as across calls and across a generation boundary (R-PKG-5, exactly once),
/// answered with the whole original outcome (one naming another time is refused: RequestIdReuseTests), and the generation C#
/// computes is the one the scripts compute (GetUsageRecord reads where deduct.lua wrote).
/// </summary>
public sealed class RequestIdTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task A_later_retry_is_a_duplicate_one_with_another_time_of_the_same_day_is_refused_and_neither_is_charged_again()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);
        var now = host.Time.GetUtcNow();

        var first = await host.UseAsync(account, "basic_authoritative", now - TimeSpan.FromMinutes(30), requestId: "req-same-day");
        host.Time.Advance(TimeSpan.FromMinutes(25));
        var retry = await host.UseAsync(account, "basic_authoritative", now - TimeSpan.FromMinutes(30), requestId: "req-same-day");
        var otherTime = await host.Metering.RecordAsync(new UsageInput("req-same-day", account, "basic_authoritative", "", ComparisonLibrary.Unspecified,
            AccessMode.Saas, "0", now - TimeSpan.FromMinutes(5)));

        Assert.False(first.Duplicate);
        Assert.True(retry.Duplicate);
        Assert.Equal((first.Kind, first.PackageId, first.PackageRemaining, first.PriceBook), (retry.Kind, retry.PackageId, retry.PackageRemaining, retry.PriceBook));
        Assert.Equal(["occurred_at"], Assert.IsType<IdempotencyKeyReusedException>(otherTime.Refusal).DifferingFields);
        Assert.Equal(1, (await host.Reader.GetPackageAsync(account, package.Id))!.Used);
    }

    [Fact]
    public async Task R_PKG_5_a_retry_carrying_an_occurred_time_of_another_day_is_refused_and_never_charged_to_a_package_bought_since()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync(activatedAt: host.Time.GetUtcNow() - TimeSpan.FromDays(5));
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);
        var now = host.Time.GetUtcNow();

        // A gateway that stamps each attempt with its own send time: the retry says another day.
        // It names another call (the platform cannot tell a resent call from a new one under a reused id): refused.
        var first = await host.UseAsync(account, "basic_authoritative", now - TimeSpan.FromDays(2), requestId: "req-other-day");
        var retry = await host.Metering.RecordAsync(new UsageInput("req-other-day", account, "basic_authoritative", "", ComparisonLibrary.Unspecified,
            AccessMode.Saas, "0", now - TimeSpan.FromMinutes(1)));

        Assert.False(first.Duplicate);
        Assert.Equal(["occurred_at"], Assert.IsType<IdempotencyKeyReusedException>(retry.Refusal).DifferingFields);
        // Two days ago the package bought today was not valid yet: the call went postpaid, and its
        // retry, which would fit the package today, must not be charged to it.
        Assert.Equal(UsageKind.Postpaid, first.Kind);
        Assert.Equal(0, (await host.Reader.GetPackageAsync(account, package.Id))!.Used);
    }

    [Fact]
    public async Task R_PKG_5_an_id_charged_just_before_a_generation_boundary_is_found_for_the_whole_late_window_after_it()
    {
        var generation = LedgerKeys.GenerationAt(LedgerHost.DefaultStart) + 1;
        var boundary = DateTimeOffset.FromUnixTimeMilliseconds(generation * (long)LedgerKeys.RequestIdGeneration.TotalMilliseconds);
        await using var host = new LedgerHost(redis.ConnectionString, start: boundary - TimeSpan.FromHours(1));
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);
        var charged = host.Time.GetUtcNow();
        var first = await host.UseAsync(account, "basic_authoritative", charged, requestId: "req-boundary");

        // Into the next generation, to the last moment the call is still inside the 7-day late window.
        host.Time.SetUtcNow(charged + TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
        Assert.Equal(generation, LedgerKeys.GenerationAt(host.Time.GetUtcNow()));
        var retry = await host.UseAsync(account, "basic_authoritative", charged, requestId: "req-boundary");

        Assert.True(retry.Duplicate);
        Assert.Equal(first.PackageRemaining, retry.PackageRemaining);
        Assert.Equal(1, (await host.Reader.GetPackageAsync(account, package.Id))!.Used);
        Assert.Equal(first.PackageId, (await host.Metering.GetAsync(account, "req-boundary")).PackageId);
    }

    [Fact]
    public async Task An_id_repeated_inside_one_batch_is_charged_once_and_answered_as_a_duplicate()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);
        var at = host.Time.GetUtcNow();
        UsageInput Record(string id) => new(id, account, "basic_authoritative", "", ComparisonLibrary.Unspecified, AccessMode.Saas, "0", at);

        var results = await host.Metering.RecordBatchAsync([Record("b-1"), Record("b-2"), Record("b-1"), Record("b-3"), Record("b-2")]);

        Assert.Equal([false, false, true, false, true], results.Select(r => r.Duplicate));
        Assert.Equal(results[0].PackageRemaining, results[2].PackageRemaining);
        Assert.Equal(3, (await host.Reader.GetPackageAsync(account, package.Id))!.Used);
        Assert.Equal(3, await host.CounterAsync(account, at, "basic_authoritative|P"));
    }

    [Fact]
    public async Task R_PKG_5_a_retry_and_GetUsageRecord_answer_the_whole_outcome_kept_in_short_form_for_each_kind()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);
        var cases = new (string Label, string Code, UsageKind Kind)[]
        {
            ("basic_authoritative", "0", UsageKind.Package),
            ("enhanced_authoritative_wechat", "0", UsageKind.Postpaid),
            ("basic_authoritative", "1001", UsageKind.NotBillable),
        };
        foreach (var (label, code, kind) in cases)
        {
            var id = TestIds.New("kept");
            var first = await host.UseAsync(account, label, code: code, requestId: id);
            var retry = await host.UseAsync(account, label, code: code, requestId: id);
            var read = await host.Metering.GetAsync(account, id);

            Assert.Equal(kind, first.Kind);
            Assert.True(retry.Duplicate);
            foreach (var again in new[] { retry, read })
                Assert.Equal((first.Kind, first.Label, first.PackageId, first.PackageRemaining, first.PriceBook, first.Billable),
                    (again.Kind, again.Label, again.PackageId, again.PackageRemaining, again.PriceBook, again.Billable));
            // What Redis keeps per id is short (outcome, '#', fingerprint): within Redis's 48-byte string allocation.
            var kept = (string)(await host.Redis.HashGetAsync(LedgerKeys.RequestIds(account, LedgerKeys.GenerationAt(host.Time.GetUtcNow())), id))!;
            Assert.True(kept.Length <= 44 && kept.Contains(UsageFingerprint.Separator), kept);
        }
        Assert.Equal(1, (await host.Reader.GetPackageAsync(account, package.Id))!.Used);
    }

    [Fact]
    public async Task The_generation_of_an_id_is_the_same_in_csharp_and_in_the_scripts()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var assembly = typeof(PackageLedger).Assembly;
        await using var stream = assembly.GetManifestResourceStream(assembly.GetManifestResourceNames().Single(n => n.EndsWith(".lib-usage.lua", StringComparison.Ordinal)))!;
        var lib = await new StreamReader(stream).ReadToEndAsync();
        foreach (var at in new[] { LedgerHost.DefaultStart, DateTimeOffset.UnixEpoch.AddMilliseconds(691_199_999), DateTimeOffset.UnixEpoch.AddMilliseconds(691_200_000), DateTimeOffset.UtcNow })
        {
            var lua = (long)(await host.Redis.ScriptEvaluateAsync(
                PackageScriptLibrary.Preamble + "local TAG, ACCOUNT, NOW, NOW_ISO = '', '', ARGV[1], ''\n" + lib + "\nreturn RID_GEN", [], [at.ToUnixTimeMilliseconds()]));
            Assert.Equal(LedgerKeys.GenerationAt(at), lua);
        }
    }
}
