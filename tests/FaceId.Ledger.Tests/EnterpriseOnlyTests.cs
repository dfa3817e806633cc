using FaceId.Common;
using FaceId.Contracts.Common.V1;
using FaceId.Metering.Application;
using FaceId.Packages.Ledger;
using FaceId.TestKit;
using Xunit;

namespace FaceId.Ledger.Tests;

/// <summary>
/// R-ONB-4 in the ledger: only an account enterprise-verified (EnterpriseVerified, stored in its service hash) buys E证通
/// packages and has E证通 calls charged; for a call, verified by the call's own time, decided inside deduct.lua's one step.
/// </summary>
public sealed class EnterpriseOnlyTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private const string Eid = "eid_authoritative";

    private static UsageInput EidCall(string account, DateTimeOffset at, string? requestId = null) =>
        new(requestId ?? TestIds.New("req"), account, "", "eid", ComparisonLibrary.Unspecified, AccessMode.Saas, "0", at);

    [Fact]
    public async Task R_ONB_4_an_account_not_enterprise_verified_cannot_buy_E证通_packages_and_nothing_is_created()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();

        var e = await Assert.ThrowsAsync<PreconditionFailedException>(() => host.BuyAsync(account, Eid, 1000));

        Assert.Equal((EnterpriseOnly.NotVerifiedReason, account), (e.Reason, e.Subject));
        Assert.Empty(await host.Reader.ListPackagesAsync(account));
        Assert.Equal("basic_authoritative", (await host.BuyAsync(account, "basic_authoritative", 1000)).Label); // other labels: as before
        await host.Ledger.SetEnterpriseVerifiedAsync(account, host.Time.GetUtcNow());
        await host.Ledger.SetEnterpriseVerifiedAsync(account, host.Time.GetUtcNow().AddDays(1)); // a repeat changes nothing
        Assert.Equal(host.Time.GetUtcNow(), (await host.Reader.GetServiceAsync(account))!.EnterpriseVerifiedAt);
        Assert.Equal(Eid, (await host.BuyAsync(account, Eid, 1000)).Label);
    }

    [Fact]
    public async Task R_ONB_4_a_single_E证通_call_of_an_unverified_account_is_a_failed_precondition_that_charges_nothing_and_keeps_its_refusal()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var sub = await host.SubAccountAsync(account);
        var now = host.Time.GetUtcNow();
        var call = EidCall(sub, now);

        var refused = await host.Metering.RecordAsync(call);

        var e = Assert.IsType<PreconditionFailedException>(refused.Refusal);
        Assert.Equal((EnterpriseOnly.NotVerifiedReason, account), (e.Reason, e.Subject)); // the main account pays, and is checked
        // The refusal is kept under its request id and counted once as refused (not verified): its retry is the same
        // FAILED_PRECONDITION, published and counted no more.
        Assert.Equal(ChargeStatus.EnterpriseNotVerified, (await host.Charges.GetChargeAsync(account, call.RequestId))!.Status);
        var again = Assert.IsType<PreconditionFailedException>((await host.Metering.RecordAsync(call)).Refusal);
        Assert.Equal((EnterpriseOnly.NotVerifiedReason, account), (again.Reason, again.Subject));
        Assert.Equal(1, await host.CounterAsync(account, now, $"{Eid}|{sub}|E"));
        Assert.Equal(0, await host.LabelCountAsync(account, now, Eid, ChargeKind.Postpaid));
        // Published as refused only (statistics count it as refused, R-BIL-1), never as a charged record.
        var usage = Google.Protobuf.JsonParser.Default.Parse<Contracts.Events.V1.UsageCharged>(Assert.Single(await host.OutboxAsync(account), x => x.Topic == "faceid.usage.charged.v1").Data);
        Assert.Empty(usage.AllRecords());
        var refusal = Assert.Single(usage.Refused);
        Assert.Equal((Contracts.Events.V1.UsageRefusal.EnterpriseNotVerified, sub, call.RequestId), (refusal.Reason, refusal.SubAccountId, Assert.Single(refusal.RequestIds)));
    }

    [Fact]
    public async Task R_ONB_4_in_a_batch_only_the_E证通_records_are_refused_and_the_rest_is_charged()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var now = host.Time.GetUtcNow();
        var basic = new UsageInput(TestIds.New("req"), account, "basic_authoritative", "", ComparisonLibrary.Unspecified, AccessMode.Saas, "0", now);

        var results = await host.Metering.RecordBatchAsync([EidCall(account, now), basic, EidCall(account, now)]);

        Assert.Equal(
            [(UsageKind.Refused, RefusalReason.EnterpriseNotVerified), (UsageKind.Postpaid, RefusalReason.None), (UsageKind.Refused, RefusalReason.EnterpriseNotVerified)],
            results.Select(r => (r.Kind, r.Refusal)));
        Assert.Equal(0, await host.CounterAsync(account, now, Eid + "|O"));
        Assert.Equal(1, await host.CounterAsync(account, now, "basic_authoritative|O"));
    }

    [Fact]
    public async Task R_ONB_4_an_E证通_call_is_judged_by_the_verification_at_its_own_time_to_the_millisecond()
    {
        await using var host = new LedgerHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var verifiedAt = host.Time.GetUtcNow().AddHours(-1);
        await host.Ledger.SetEnterpriseVerifiedAsync(account, verifiedAt);
        var tick = TimeSpan.FromMilliseconds(1);

        var before = await host.Metering.RecordAsync(EidCall(account, verifiedAt - tick));
        var at = await host.Metering.RecordAsync(EidCall(account, verifiedAt));
        var batch = await host.Metering.RecordBatchAsync([EidCall(account, verifiedAt - tick), EidCall(account, verifiedAt + tick)]);

        Assert.Equal(EnterpriseOnly.NotVerifiedReason, Assert.IsType<PreconditionFailedException>(before.Refusal).Reason);
        Assert.Equal((UsageKind.Postpaid, Eid), (at.Value!.Kind, at.Value.Label));
        Assert.Equal([UsageKind.Refused, UsageKind.Postpaid], batch.Select(r => r.Kind));
        Assert.Equal(RefusalReason.EnterpriseNotVerified, batch[0].Refusal);
        Assert.Equal(2, await host.CounterAsync(account, verifiedAt, Eid + "|O"));
    }
}
