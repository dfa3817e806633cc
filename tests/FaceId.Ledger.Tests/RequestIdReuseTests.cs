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
    /// R-ACC-2, R-MET-4, R-PKG-5: a refused record (here: service not opened at the call's time) keeps its request id with its
    /// refusal. The same call retried after the service opened is answered the same refusal, marked a duplicate, never judged
    /// again nor charged, nor published or counted again (the day counter's refused kind "label|U" stays 1); the id with another
    /// payload (another occurred_at) is IDEMPOTENCY_KEY_REUSED like any kept id.
    /// </summary>
    [Fact]
    public async Task R_MET_4_a_refused_record_keeps_its_id_its_retry_after_the_service_opened_is_the_same_refusal_and_another_call_under_it_is_reused()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var opened = host.Time.GetUtcNow();
        var account = await host.OpenedAccountAsync(activatedAt: opened);
        var package = await host.BuyAsync(account, Label, 1000);
        var early = Call(TestIds.New("early"), account, opened.AddHours(-1));

        var first = (await host.Metering.RecordAsync(early)).OrThrow();
        Assert.Equal((RefusalReason.ServiceNotOpened, false), (first.Refusal, first.Duplicate));
        var events = (await host.OutboxAsync(account)).Count;
        host.Time.Advance(TimeSpan.FromHours(1));
        var retry = (await host.Metering.RecordAsync(early)).OrThrow();
        Assert.Equal((UsageKind.Refused, RefusalReason.ServiceNotOpened, true), (retry.Kind, retry.Refusal, retry.Duplicate));
        Assert.Equal(RefusalReason.ServiceNotOpened, (await host.Metering.GetAsync(account, early.RequestId)).Refusal);
        Assert.Equal(events, (await host.OutboxAsync(account)).Count);
        Assert.Equal(1, await host.CounterAsync(account, early.OccurredAt!.Value, Label + "|U"));

        var reused = Assert.IsType<IdempotencyKeyReusedException>((await host.Metering.RecordAsync(early with { OccurredAt = opened.AddMinutes(1) })).Refusal);
        Assert.Equal([UsageFingerprint.OccurredAt], reused.DifferingFields);
        Assert.Equal(0, (await host.Reader.GetPackageAsync(account, package.Id))!.Used);
        Assert.Equal(0, await host.CounterAsync(account, opened, Label + "|P"));
    }

    /// <summary>
    /// R-BIL-4, R-MET-4: a call made while the service was suspended, retried after the resumption, is still refused (the
    /// kept refusal, a duplicate) and never charged; retried 20 times at once, its refusal is counted once ("label|S").
    /// </summary>
    [Fact]
    public async Task R_BIL_4_a_call_refused_while_suspended_retried_concurrently_and_after_the_resumption_is_one_refusal_never_charged()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account, Label, 1000);
        var suspendedAt = host.Time.GetUtcNow().AddMinutes(-30);
        await host.Ledger.SetSuspendedAsync(account, true, suspendedAt);
        var call = Call(TestIds.New("susp"), account, suspendedAt.AddMinutes(1));

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(async () => (await host.Metering.RecordAsync(call)).OrThrow())));
        Assert.All(results, r => Assert.Equal(RefusalReason.ServiceSuspended, r.Refusal));
        Assert.Single(results, r => !r.Duplicate);
        await host.Ledger.SetSuspendedAsync(account, false, host.Time.GetUtcNow());
        var after = (await host.Metering.RecordAsync(call)).OrThrow();
        Assert.Equal((RefusalReason.ServiceSuspended, true), (after.Refusal, after.Duplicate));

        Assert.Equal(1, await host.CounterAsync(account, call.OccurredAt!.Value, Label + "|S"));
        Assert.Equal(0, (await host.Reader.GetPackageAsync(account, package.Id))!.Used);
        var refused = (await host.OutboxAsync(account)).Where(e => e.Topic == "faceid.usage.charged.v1")
            .SelectMany(e => Google.Protobuf.JsonParser.Default.Parse<Contracts.Events.V1.UsageCharged>(e.Data).Refused).ToList();
        Assert.Equal([call.RequestId], refused.SelectMany(g => g.RequestIds)); // published once
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
