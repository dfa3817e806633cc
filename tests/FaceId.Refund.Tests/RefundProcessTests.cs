using System.Diagnostics;
using FaceId.Contracts;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Metering.V1;
using FaceId.Contracts.Refund.V1;

using FaceId.Refund.Application;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Xunit;
using Xunit.Abstractions;
using RefundState = FaceId.Contracts.Refund.V1.RefundState;

namespace FaceId.Refund.Tests;

/// <summary>The Refund service as a real process: the race over gRPC against a Metering process, a crash between freeze and credit, error mapping.</summary>
public sealed class RefundProcessTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private const int Rounds = 1_000;
    private const string Label = "basic_self_photo";

    private Dictionary<string, string?> Env(params (string Key, string Value)[] extra)
    {
        var env = new Dictionary<string, string?> { ["Redis__ConnectionString"] = redis.ConnectionString };
        foreach (var (k, v) in extra) env[k] = v;
        return env;
    }

    [Fact]
    public async Task R_REF_2_1000_rounds_over_grpc_refund_process_and_metering_process_exactly_one_wins_and_money_and_quota_reconcile()
    {
        await using var host = new RefundTestHost(redis.ConnectionString, DateTimeOffset.UtcNow);
        var rounds = await RefundRaceTests.PrepareAsync(host, Rounds);
        // Relays off: every RefundCompleted stays in its account's outbox, where the test counts it.
        var env = Env(("EventBus__OutboxRelayEnabled", "false"));
        await using var refundProcess = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Refund"), env);
        await using var meteringProcess = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), env);
        var refundClient = new RefundService.RefundServiceClient(refundProcess.Channel);
        var meteringClient = new MeteringService.MeteringServiceClient(meteringProcess.Channel);
        // Warm both channels (connection, JIT) so round 0 races like the others.
        await refundClient.ListRefundsAsync(new ListRefundsRequest { AccountId = rounds[0].Account });
        await meteringClient.GetUsageRecordAsync(new GetUsageRecordRequest { AccountId = rounds[0].Account, RequestId = "warm-up" })
            .ResponseAsync.ContinueWith(_ => { });

        var refunds = new Contracts.Refund.V1.Refund?[Rounds];
        var refusals = new RpcException?[Rounds];
        var calls = new UsageOutcome?[Rounds];
        var clock = Stopwatch.StartNew();
        var errors = RefundRace.Run(Rounds,
            i =>
            {
                try
                {
                    refunds[i] = refundClient.RequestRefund(new RequestRefundRequest { IdempotencyKey = "race-" + i, AccountId = rounds[i].Account, PackageId = rounds[i].Package.Id },
                        deadline: DateTime.UtcNow.AddSeconds(30));
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
                {
                    refusals[i] = e;
                }
            },
            i => calls[i] = meteringClient.RecordUsage(new RecordUsageRequest
            {
                Record = new UsageRecord
                {
                    RequestId = "call-" + i, AccountId = rounds[i].Account, Label = Label, AccessMode = AccessMode.Saas, ReturnCode = "0",
                    OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
                },
            }, deadline: DateTime.UtcNow.AddSeconds(30)).Outcome,
            TimeSpan.FromSeconds(150));
        output.WriteLine($"{Rounds} rounds over gRPC in {clock.ElapsedMilliseconds} ms");

        var refundWins = 0;
        var callWins = 0;
        for (var i = 0; i < Rounds; i++)
        {
            Assert.True(errors[i] == default, $"round {i}: {errors[i].Refund ?? errors[i].Call}");
            var (account, package) = rounds[i];
            var call = calls[i]!;
            var stored = await host.PackageAsync(account, package.Id);
            if (refunds[i] is { } refund)
            {
                refundWins++;
                Assert.Equal(RefundState.Credited, refund.State);
                Assert.Equal(package.PriceFen, refund.AmountFen);
                Assert.Equal(ChargeKind.Postpaid, call.Kind);
                Assert.Equal(0, stored.Used);
                Assert.Equal("refunded", stored.StoredStatus);
            }
            else
            {
                callWins++;
                // The loser's clear answer: FAILED_PRECONDITION, ErrorInfo reason REFUND_PACKAGE_USED.
                var status = refusals[i]!.GetRpcStatus()!;
                Assert.Equal("REFUND_PACKAGE_USED", status.GetDetail<ErrorInfo>()!.Reason);
                Assert.Equal("package_id", status.GetDetail<PreconditionFailure>()!.Violations.Single().Subject);
                Assert.Equal(ChargeKind.Package, call.Kind);
                Assert.Equal(package.Id, call.PackageId);
                Assert.Equal(1, stored.Used);
                Assert.Equal("active", stored.StoredStatus);
            }
        }
        output.WriteLine($"refund won {refundWins}, call won {callWins}");
        // Both sides must have won some rounds, or the race was never contested and proves nothing.
        Assert.True(refundWins > 0 && callWins > 0, $"the race was one-sided: refund won {refundWins}, call won {callWins}");

        var credited = 0L;
        var events = 0;
        var used = 0L;
        foreach (var (account, package) in rounds)
        {
            var completed = await host.RefundEventsAsync(account);
            events += completed.Count;
            credited += completed.Sum(e => e.AmountFen);
            used += (await host.PackageAsync(account, package.Id)).Used;
        }
        Assert.Equal(Rounds, refundWins + callWins);
        Assert.Equal(refundWins, events);
        Assert.Equal(rounds[0].Package.PriceFen * refundWins, credited);
        Assert.Equal(callWins, used);
    }

    [Fact]
    public async Task R_REF_3_a_refund_process_killed_between_freeze_and_credit_is_credited_exactly_once_after_restart()
    {
        await using var host = new RefundTestHost(redis.ConnectionString, DateTimeOffset.UtcNow);
        var account = await host.OpenedAccountAsync();
        var package = await host.BuyAsync(account, "basic_authoritative", 1000);
        var dll = ServiceProcess.FindServiceDll("FaceId.Refund");

        // First process: freezes only (no inline credit, no worker), then dies.
        await using var first = await ServiceProcess.StartAsync(dll, Env(("Refund__CompleteInline", "false"), ("Refund__CompletionWorkerEnabled", "false")));
        var request = new RequestRefundRequest { IdempotencyKey = "crash-1", AccountId = account, PackageId = package.Id };
        var approved = await new RefundService.RefundServiceClient(first.Channel).RequestRefundAsync(request);
        Assert.Equal(RefundState.Approved, approved.State);
        Assert.Equal("refunding", (await host.PackageAsync(account, package.Id)).StoredStatus);
        Assert.NotNull(await host.Pending.ScoreAsync(PendingRefunds.Member(account, approved.RefundId)));
        Assert.Empty(await host.RefundEventsAsync(account));
        first.Kill();

        // A normal process: its worker finds the pending refund and credits it.
        await using var second = await ServiceProcess.StartAsync(dll, Env(("Refund__CompletionIntervalMs", "100"), ("Refund__CompletionGraceMs", "200")));
        var client = new RefundService.RefundServiceClient(second.Channel);
        var credited = await Eventually.GetAsync(
            async () => await client.GetRefundAsync(new GetRefundRequest { AccountId = account, RefundId = approved.RefundId }),
            r => r.State == RefundState.Credited, TimeSpan.FromSeconds(30), "the restarted service should credit the approved refund");
        Assert.Equal([RefundState.Requested, RefundState.Approved, RefundState.Credited], credited.History.Select(h => h.State));
        Assert.Equal(93000, credited.AmountFen);
        Assert.Equal("refunded", (await host.PackageAsync(account, package.Id)).StoredStatus);

        // A client retry after the crash answers the same refund and credits nothing more.
        var retried = await client.RequestRefundAsync(request);
        Assert.Equal((approved.RefundId, RefundState.Credited), (retried.RefundId, retried.State));

        // Exactly one RefundCompleted reached the topic stream, and nothing is left to relay or to complete.
        await Eventually.AssertAsync(async () => (await host.OutboxAsync(account)).Count == 0, TimeSpan.FromSeconds(30), "the outbox should be relayed");
        var published = (await host.Redis.StreamRangeAsync(EventTopics.RefundCompleted))
            .Count(e => ((string)e["data"]!).Contains(approved.RefundId, StringComparison.Ordinal));
        Assert.Equal(1, published);
        Assert.Null(await host.Pending.ScoreAsync(PendingRefunds.Member(account, approved.RefundId)));
    }

    [Fact]
    public async Task Refund_errors_over_grpc_carry_field_violations_and_reasons_never_internal()
    {
        await using var host = new RefundTestHost(redis.ConnectionString, DateTimeOffset.UtcNow);
        var account = await host.OpenedAccountAsync();
        await host.Grants.GrantTrialAsync(account, DateTimeOffset.UtcNow);
        var trial = (await host.Packages.ListAsync(account, Label, null)).Single();
        await using var service = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Refund"), Env());
        var client = new RefundService.RefundServiceClient(service.Channel);

        var invalid = await Assert.ThrowsAsync<RpcException>(() => client.RequestRefundAsync(new RequestRefundRequest { AccountId = "bad id" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.Equal(["idempotency_key", "account_id", "package_id"],
            invalid.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations.Select(v => v.Field));

        var free = await Assert.ThrowsAsync<RpcException>(() =>
            client.RequestRefundAsync(new RequestRefundRequest { IdempotencyKey = "k", AccountId = account, PackageId = trial.Id }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, free.StatusCode);
        Assert.Equal("REFUND_PACKAGE_FREE", free.GetRpcStatus()!.GetDetail<ErrorInfo>()!.Reason);

        var missing = await Assert.ThrowsAsync<RpcException>(() =>
            client.GetRefundAsync(new GetRefundRequest { AccountId = account, RefundId = "ref_nope" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);

        var page = await client.ListRefundsAsync(new ListRefundsRequest { AccountId = account });
        var rejected = Assert.Single(page.Refunds);
        Assert.Equal((RefundState.Rejected, "REFUND_PACKAGE_FREE", trial.Id), (rejected.State, rejected.RejectionReason, rejected.PackageId));
        var badPage = await Assert.ThrowsAsync<RpcException>(() =>
            client.ListRefundsAsync(new ListRefundsRequest { AccountId = account, Page = new PageRequest { PageSize = 501 } }).ResponseAsync);
        Assert.Equal("page.page_size", badPage.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations.Single().Field);
    }
}
