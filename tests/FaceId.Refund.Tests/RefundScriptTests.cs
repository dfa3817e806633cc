using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.Packages.Ledger;
using FaceId.Redis;
using FaceId.Refund.Application;
using FaceId.TestKit;
using StackExchange.Redis;
using Xunit;

namespace FaceId.Refund.Tests;

/// <summary>
/// Each Refund script through its typed contract on real Redis: Bind → run → Parse, the typed
/// result and the state written (events parsed strictly: a field the proto does not know fails);
/// an answer the contract does not know is an error naming the script.
/// </summary>
public sealed class RefundScriptTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static FreezeForRefundScript.Request Freeze(string account, string refundId, PackageRecord package, string key, DateTimeOffset now) =>
        new(account, refundId, package.Id, key, now, RefundLedger.RefundDeadline(package.PurchasedAt),
            new RefundTransition(RefundState.Requested, now, "requested"), new RefundTransition(RefundState.Approved, now, "approved"));

    [Fact]
    public async Task R_REF_2_freeze_accepts_once_per_key_freezes_the_package_and_refuses_a_second_refund_naming_the_first()
    {
        await using var host = new RefundTestHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account);
        var now = host.Time.GetUtcNow();

        var first = await FreezeForRefundScript.Instance.RoundTripAsync(host.Redis, Freeze(account, "ref_a1", package, "k1", now));
        Assert.Equal(new FreezeResult(true, false, "ref_a1", null), first);
        var stored = await host.Refunds.GetRefundAsync(account, "ref_a1");
        Assert.Equal((RefundState.Approved, package.Id, package.Label, package.PriceFen, now), (stored.State, stored.PackageId, stored.Label, stored.AmountFen, stored.RequestedAt));
        Assert.Equal([RefundState.Requested, RefundState.Approved], stored.History.Select(h => h.State));
        Assert.Equal(PackageState.Refunding, (await host.PackageAsync(account, package.Id)).StateAt(now));

        Assert.Equal(new FreezeResult(true, true, "ref_a1", null),
            await FreezeForRefundScript.Instance.RoundTripAsync(host.Redis, Freeze(account, "ref_a2", package, "k1", now)));
        Assert.Equal(new FreezeResult(false, false, "ref_a1", RefundApplication.ReasonAlreadyRequested),
            await FreezeForRefundScript.Instance.RoundTripAsync(host.Redis, Freeze(account, "ref_a3", package, "k2", now)));
        Assert.False(await host.Redis.KeyExistsAsync(RefundKeys.Idempotency(account, "k2")));
    }

    [Fact]
    public async Task R_REF_1_freeze_after_the_window_names_the_reason_and_writes_nothing()
    {
        await using var host = new RefundTestHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account);
        var late = RefundLedger.RefundDeadline(package.PurchasedAt);

        Assert.Equal(new FreezeResult(false, false, "", RefundApplication.ReasonWindowClosed),
            await FreezeForRefundScript.Instance.RoundTripAsync(host.Redis, Freeze(account, "ref_b1", package, "k1", late)));
        Assert.False(await host.Redis.KeyExistsAsync(RefundKeys.Refund(account, "ref_b1")));
        Assert.Equal(PackageState.Active, (await host.PackageAsync(account, package.Id)).StateAt(host.Time.GetUtcNow()));
    }

    [Fact]
    public async Task R_REF_3_complete_credits_once_with_one_RefundCompleted_and_knows_a_missing_refund()
    {
        await using var host = new RefundTestHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account);
        var now = host.Time.GetUtcNow();
        await FreezeForRefundScript.Instance.RunAsync(host.Redis, Freeze(account, "ref_c1", package, "k1", now));
        var request = new CompleteRefundScript.Request(account, "ref_c1", package.Id, package.PriceFen, now, "credited");

        Assert.Equal(CompletionOutcome.Credited, await CompleteRefundScript.Instance.RoundTripAsync(host.Redis, request));
        Assert.Equal(CompletionOutcome.AlreadyCredited, await CompleteRefundScript.Instance.RoundTripAsync(host.Redis, request));
        Assert.Equal(CompletionOutcome.Missing,
            await CompleteRefundScript.Instance.RoundTripAsync(host.Redis, request with { RefundId = "ref_none" }));

        Assert.Equal(RefundState.Credited, (await host.Refunds.GetRefundAsync(account, "ref_c1")).State);
        Assert.Equal(PackageState.Refunded, (await host.PackageAsync(account, package.Id)).StateAt(now));
        var (topic, id, data) = Assert.Single(await host.OutboxAsync(account), e => e.Topic == EventTopics.RefundCompleted);
        Assert.Equal(CompleteRefundScript.EventId("ref_c1"), id);
        var completed = ScriptRoundTrip.StrictEvent<RefundCompleted>(data);
        Assert.Equal(("ref_c1", account, package.Id, package.PriceFen, now),
            (completed.RefundId, completed.AccountId, completed.PackageId, completed.AmountFen, completed.CompletedAt.ToDateTimeOffset()));
    }

    [Fact]
    public async Task R_REF_1_record_rejection_records_once_per_key_with_one_RefundRejected()
    {
        await using var host = new RefundTestHost(redis.ConnectionString);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account);
        var now = host.Time.GetUtcNow();
        var request = new RecordRejectionScript.Request(account, "k1", "ref_d1", package, now, RefundApplication.ReasonUsed,
            new RefundTransition(RefundState.Requested, now, "requested"), new RefundTransition(RefundState.Rejected, now, "used"));

        Assert.Equal("ref_d1", await RecordRejectionScript.Instance.RoundTripAsync(host.Redis, request));
        Assert.Equal("ref_d1", await RecordRejectionScript.Instance.RoundTripAsync(host.Redis, request with { RefundId = "ref_d2" }));

        var stored = await host.Refunds.GetRefundAsync(account, "ref_d1");
        Assert.Equal((RefundState.Rejected, RefundApplication.ReasonUsed, package.PriceFen), (stored.State, stored.RejectionReason, stored.AmountFen));
        Assert.False(await host.Redis.KeyExistsAsync(RefundKeys.Refund(account, "ref_d2")));
        var (_, id, data) = Assert.Single(await host.OutboxAsync(account), e => e.Topic == EventTopics.RefundRejected);
        Assert.Equal(RecordRejectionScript.EventId("ref_d1"), id);
        var rejected = ScriptRoundTrip.StrictEvent<RefundRejected>(data);
        Assert.Equal(("ref_d1", account, package.Id, package.Label, package.PriceFen, RefundApplication.ReasonUsed, now),
            (rejected.RefundId, rejected.AccountId, rejected.PackageId, rejected.Label, rejected.AmountFen, rejected.Reason, rejected.RejectedAt.ToDateTimeOffset()));
    }

    [Fact]
    public void Unknown_answers_are_errors_naming_the_script()
    {
        var freeze = Assert.Throws<UnexpectedScriptReplyException>(() =>
            FreezeForRefundScript.Instance.Parse(RedisResult.Create([RedisResult.Create((RedisValue)"REFUND_MAYBE"), RedisResult.Create((RedisValue)"")])));
        Assert.Equal("freeze-for-refund.lua", freeze.ScriptName);
        Assert.Contains("REFUND_MAYBE", freeze.Message);
        // 'requested' is a refund state, but not one a credit can start from: a fault, never an outcome.
        var complete = Assert.Throws<UnexpectedScriptReplyException>(() => CompleteRefundScript.Instance.Parse(RedisResult.Create((RedisValue)"requested")));
        Assert.Equal("complete-refund.lua", complete.ScriptName);
        var record = Assert.Throws<UnexpectedScriptReplyException>(() => RecordRejectionScript.Instance.Parse(RedisResult.Create(1)));
        Assert.Equal("record-rejection.lua", record.ScriptName);
    }
}
