using FaceId.Common;
using FaceId.Contracts.Common.V1;
using FaceId.Metering.Application;
using FaceId.Packages.Ledger;
using FaceId.TestKit;
using StackExchange.Redis;
using Xunit;

namespace FaceId.Ledger.Tests;

/// <summary>
/// R-PKG-5, R-MET-1: a request id stands for one call. A retry of the same call is a duplicate answered the original
/// outcome; the same id for another call (label, access mode, return code, calling account, occurred_at) is refused as
/// IDEMPOTENCY_KEY_REUSED naming the differing field, and changes nothing: no package unit, no counter, no event, the
/// kept id as it was (deduct.lua, UsageFingerprint).
/// </summary>
public sealed class RequestIdReuseTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private const string Label = "basic_authoritative";

    private static UsageInput Call(string id, string account, DateTimeOffset at, string label = Label, AccessMode mode = AccessMode.Saas, string code = "0") =>
        new(id, account, label, "", ComparisonLibrary.Unspecified, mode, code, at);

    /// <summary>What a refused reuse must leave as it was: the package, the day's counters, the outbox and the kept id.</summary>
    private static async Task<(long Used, long Package, long NotBillable, int Events, string? Kept)> StateAsync(
        LedgerHost host, string account, string packageId, DateTimeOffset at, string id) =>
        ((await host.Reader.GetPackageAsync(account, packageId))!.Used, await host.CounterAsync(account, at, Label + "|P"),
            await host.CounterAsync(account, at, Label + "|N"), (await host.OutboxAsync(account)).Count,
            await host.Redis.HashGetAsync(LedgerKeys.RequestIds(account, LedgerKeys.GenerationAt(host.Time.GetUtcNow())), id));

    [Fact]
    public async Task R_PKG_5_the_same_id_for_a_call_that_differs_in_one_field_is_refused_naming_it_and_changes_nothing()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var sub = await host.SubAccountAsync(account);
        var package = await host.BuyAsync(account, Label, 1000);
        var at = host.Time.GetUtcNow().AddMinutes(-10);
        var id = TestIds.New("reuse");
        var original = Call(id, account, at);
        var first = (await host.Metering.RecordAsync(original)).OrThrow();
        Assert.Equal((UsageKind.Package, false), (first.Kind, first.Duplicate));

        // The same call again: the original outcome, nothing charged again.
        var retry = (await host.Metering.RecordAsync(original)).OrThrow();
        Assert.Equal((true, first.PackageId, first.PackageRemaining), (retry.Duplicate, retry.PackageId, retry.PackageRemaining));
        var before = await StateAsync(host, account, package.Id, at, id);

        var others = new (UsageInput Call, string Field)[]
        {
            (original with { Label = "enhanced_authoritative_wechat" }, UsageFingerprint.Label),
            (original with { AccessMode = AccessMode.Paas }, UsageFingerprint.AccessMode),
            (original with { ReturnCode = "1001" }, UsageFingerprint.ReturnCode),
            (original with { AccountId = sub }, UsageFingerprint.Account),
            (original with { OccurredAt = at.AddMilliseconds(1) }, UsageFingerprint.OccurredAt),
            (original with { OccurredAt = at.AddHours(-8) }, UsageFingerprint.OccurredAt),
        };
        foreach (var (other, field) in others)
        {
            var refused = await host.Metering.RecordAsync(other);
            var e = Assert.IsType<IdempotencyKeyReusedException>(refused.Refusal);
            Assert.Equal("request_id", e.KeyField);
            Assert.Equal([field], e.DifferingFields);
            Assert.Equal(before, await StateAsync(host, account, package.Id, at, id));
        }
        // Two fields at once are both named; the original call is still a duplicate afterwards.
        var two = Assert.IsType<IdempotencyKeyReusedException>((await host.Metering.RecordAsync(original with { ReturnCode = "1001", AccessMode = AccessMode.Paas })).Refusal);
        Assert.Equal([UsageFingerprint.AccessMode, UsageFingerprint.ReturnCode], two.DifferingFields);
        Assert.True((await host.Metering.RecordAsync(original)).OrThrow().Duplicate);
        Assert.Equal(before, await StateAsync(host, account, package.Id, at, id));
    }

    [Fact]
    public async Task R_PKG_5_a_postpaid_and_a_not_billable_id_are_refused_for_another_label_or_code_too_and_read_back_unchanged()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var at = host.Time.GetUtcNow();
        var postpaid = Call(TestIds.New("post"), account, at, label: "enhanced_authoritative_wechat");
        var notBillable = Call(TestIds.New("nb"), account, at, code: "1001");
        Assert.Equal(UsageKind.Postpaid, (await host.Metering.RecordAsync(postpaid)).OrThrow().Kind);
        Assert.Equal(UsageKind.NotBillable, (await host.Metering.RecordAsync(notBillable)).OrThrow().Kind);

        Assert.Equal([UsageFingerprint.Label], Assert.IsType<IdempotencyKeyReusedException>((await host.Metering.RecordAsync(postpaid with { Label = Label })).Refusal).DifferingFields);
        Assert.Equal([UsageFingerprint.ReturnCode], Assert.IsType<IdempotencyKeyReusedException>((await host.Metering.RecordAsync(notBillable with { ReturnCode = "0" })).Refusal).DifferingFields);
        Assert.Equal(1, await host.CounterAsync(account, at, "enhanced_authoritative_wechat|O"));
        Assert.Equal(0, await host.CounterAsync(account, at, Label + "|O"));
        Assert.Equal(1, await host.CounterAsync(account, at, Label + "|N"));
        // GetUsageRecord reads the kept outcome without its fingerprint.
        Assert.Equal((UsageKind.Postpaid, "enhanced_authoritative_wechat"), ((await host.Metering.GetAsync(account, postpaid.RequestId)).Kind, (await host.Metering.GetAsync(account, postpaid.RequestId)).Label));
        Assert.Equal((UsageKind.NotBillable, Label), ((await host.Metering.GetAsync(account, notBillable.RequestId)).Kind, (await host.Metering.GetAsync(account, notBillable.RequestId)).Label));
    }

    [Fact]
    public async Task R_PKG_5_in_a_batch_a_reused_id_is_refused_alone_and_the_other_records_are_charged()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account, Label, 1000);
        var at = host.Time.GetUtcNow();
        var kept = Call(TestIds.New("kept"), account, at);
        await host.Metering.RecordAsync(kept);

        var batch = await host.Metering.RecordBatchAsync(
        [
            Call(TestIds.New("b"), account, at),
            kept with { ReturnCode = "2006" },
            kept,
            Call("batch-twice", account, at),
            Call("batch-twice", account, at, mode: AccessMode.Paas),
            Call(TestIds.New("b"), account, at),
        ]);

        Assert.Equal([UsageKind.Package, UsageKind.Refused, UsageKind.Package, UsageKind.Package, UsageKind.Refused, UsageKind.Package], batch.Select(r => r.Kind));
        Assert.Equal([false, false, true, false, false, false], batch.Select(r => r.Duplicate));
        Assert.Equal((RefusalReason.IdempotencyKeyReused, RefusalReason.IdempotencyKeyReused), (batch[1].Refusal, batch[4].Refusal));
        Assert.Equal([UsageFingerprint.ReturnCode], batch[1].DifferingFields!);
        Assert.Equal([UsageFingerprint.AccessMode], batch[4].DifferingFields!);
        Assert.Equal(4, (await host.Reader.GetPackageAsync(account, package.Id))!.Used);
        Assert.Equal(4, await host.CounterAsync(account, at, Label + "|P"));
    }

    [Fact]
    public async Task R_PKG_5_two_calls_racing_on_one_id_charge_once_the_other_is_refused_50_rounds()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account, Label, 1000);
        var at = host.Time.GetUtcNow();
        for (var round = 0; round < 50; round++)
        {
            var id = $"race-{round}";
            var results = await Task.WhenAll(
                Task.Run(() => host.Metering.RecordAsync(Call(id, account, at, mode: AccessMode.Saas))),
                Task.Run(() => host.Metering.RecordAsync(Call(id, account, at, mode: AccessMode.Paas))));
            Assert.Single(results, r => r.Refusal is null && r.Value!.Kind == UsageKind.Package && !r.Value.Duplicate);
            Assert.Equal([UsageFingerprint.AccessMode], Assert.IsType<IdempotencyKeyReusedException>(Assert.Single(results, r => r.Refusal is not null).Refusal).DifferingFields);
        }
        Assert.Equal(50, (await host.Reader.GetPackageAsync(account, package.Id))!.Used);
        Assert.Equal(50, await host.CounterAsync(account, at, Label + "|P"));
    }

    [Fact]
    public async Task R_PKG_4_a_postpaid_call_backdated_onto_a_package_keeps_its_fingerprint()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var call = Call(TestIds.New("backdated"), account, host.Time.GetUtcNow());
        Assert.Equal(UsageKind.Postpaid, (await host.Metering.RecordAsync(call)).OrThrow().Kind);
        var package = await host.BuyAsync(account, Label, 1000); // the purchase day's postpaid call moves onto it

        var retry = (await host.Metering.RecordAsync(call)).OrThrow();
        Assert.Equal((UsageKind.Package, true, package.Id), (retry.Kind, retry.Duplicate, retry.PackageId));
        var reused = Assert.IsType<IdempotencyKeyReusedException>((await host.Metering.RecordAsync(call with { ReturnCode = "2006" })).Refusal);
        Assert.Equal([UsageFingerprint.ReturnCode], reused.DifferingFields);
        Assert.Equal(1, (await host.Reader.GetPackageAsync(account, package.Id))!.Used);
    }

    /// <summary>
    /// A refused record (here: service not opened at the call's time) keeps no request id: the same call retried later is
    /// judged again by the state at its own time (still refused, never charged), and the id stays free for the call it names.
    /// Keeping it would answer every later retry with the refusal, or, worse, with a charge the caller was told was refused.
    /// </summary>
    [Fact]
    public async Task R_MET_4_a_refused_record_keeps_no_id_and_its_retry_after_the_service_opened_is_still_refused_and_not_charged()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var opened = host.Time.GetUtcNow();
        var account = await host.OpenedAccountAsync(activatedAt: opened);
        var package = await host.BuyAsync(account, Label, 1000);
        var early = Call(TestIds.New("early"), account, opened.AddHours(-1));

        Assert.Equal(RefusalReason.ServiceNotOpened, (await host.Metering.RecordAsync(early)).OrThrow().Refusal);
        host.Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(RefusalReason.ServiceNotOpened, (await host.Metering.RecordAsync(early)).OrThrow().Refusal);
        Assert.False(await host.Redis.HashExistsAsync(LedgerKeys.RequestIds(account, LedgerKeys.GenerationAt(host.Time.GetUtcNow())), early.RequestId));
        Assert.Equal(0, (await host.Reader.GetPackageAsync(account, package.Id))!.Used);
        // Not kept, so not a reuse: the id is charged for the call it is first accepted for.
        var charged = (await host.Metering.RecordAsync(early with { OccurredAt = opened.AddMinutes(1) })).OrThrow();
        Assert.Equal((UsageKind.Package, false), (charged.Kind, charged.Duplicate));
        Assert.Equal(1, (await host.Reader.GetPackageAsync(account, package.Id))!.Used);
    }

    /// <summary>The access mode is kept in one character: every mode must have its own.</summary>
    [Fact]
    public void Every_access_mode_has_its_own_fingerprint()
    {
        var names = Enum.GetValues<AccessMode>().Select(m => FaceId.Contracts.Common.V1.CommonReflection.Descriptor.EnumTypes.Single(e => e.Name == "AccessMode").FindValueByNumber((int)m).Name).ToList();
        Assert.Equal(names.Count, names.Select(n => UsageFingerprint.OfClass(n, "0", "")[0]).Distinct().Count());
    }

    /// <summary>
    /// Memory per kept request id (docs/benchmarks.md: target ≤ 128 bytes): 200,000 ids of 28 characters (the benchmark's
    /// shape), outcome and fingerprint kept in one 48-byte allocation. Longer ids (31–44 characters, e.g. UUIDs) cost 16 bytes more.
    /// </summary>
    [Fact]
    public async Task Memory_per_kept_usage_request_id_stays_within_128_bytes()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var at = host.Time.GetUtcNow();
        const int total = 200_000, batch = 5_000;
        for (var b = 0; b < total / batch; b++)
        {
            var records = Enumerable.Range(0, batch).Select(i => new ChargeRequest($"gw-01:{b:D4}:{i:D6}:0000000000", "enhanced_authoritative_wechat",
                at, true, "", "ACCESS_MODE_SAAS", "0")).ToList();
            var results = await DeductScript.Instance.ChargeAsync(host.Redis, new(account, host.Time.GetUtcNow(), records));
            Assert.All(results, r => Assert.Equal(ChargeStatus.New, r.Status));
        }
        var key = LedgerKeys.RequestIds(account, LedgerKeys.GenerationAt(host.Time.GetUtcNow()));
        Assert.Equal(total + 1, await host.Redis.HashLengthAsync(key)); // and the expiry marker '~'
        var bytes = (long)(await host.Redis.ExecuteAsync("MEMORY", "USAGE", (RedisKey)key, "SAMPLES", "0"));
        Assert.InRange(bytes / total, 1, 128);
    }
}
