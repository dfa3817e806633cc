using FaceId.Billing.Application;
using FaceId.Billing.Tests.Support;
using FaceId.Contracts;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FaceId.Billing.Tests;

/// <summary>
/// Every Billing script on a 3-master Redis Cluster: each touches only its account's slot
/// ({acct:M}:bil:* and the account's outbox), the global indexes are separate single-key commands.
/// </summary>
public sealed class ClusterTests
{
    [Fact]
    public async Task Billing_runs_unchanged_on_Redis_Cluster()
    {
        await using var cluster = await RedisCluster.StartAsync();
        var clock = Hosts.Clock("2099-01-01T00:00");
        await using var host = Hosts.Billing(cluster.ConnectionString, clock);
        var client = new BillingService.BillingServiceClient(host.Channel);
        var bus = host.Services.GetRequiredService<IEventBus>();
        var account = TestIds.New("acct");
        var day = Hosts.At("2030-03-10T10:00");

        await bus.PublishAsync(new ServiceActivated
        {
            AccountId = account, ActivatedAt = Timestamp.FromDateTimeOffset(Hosts.At("2030-03-10T09:00")), PriceBook = "2021-06", SettlementCycle = SettlementCycle.Daily,
        });
        var records = Usage.Many(10, account, "basic_authoritative", day).ToList();
        await bus.PublishAsync(new UsageCharged { Records = { records } });
        await bus.PublishAsync(new UsageBackdated { AccountId = account, PackageId = "pkg-1", Label = "basic_authoritative", RequestIds = { records[0].RequestId } });
        await bus.PublishAsync(new PackageDelivered
        {
            AccountId = account, PackageId = "pkg-1", Label = "basic_authoritative", Size = 1_000, PriceFen = 93_000, PurchasedAt = Timestamp.FromDateTimeOffset(day),
        });
        await bus.PublishAsync(new RefundCompleted { RefundId = "ref-1", AccountId = account, PackageId = "pkg-x", AmountFen = 500, CompletedAt = Timestamp.FromDateTimeOffset(day) });

        var stats = await Eventually.GetAsync(async () =>
        {
            try
            {
                return (await client.GetStatisticsAsync(new GetStatisticsRequest
                {
                    AccountId = account, From = Timestamp.FromDateTimeOffset(day.AddHours(-10)), To = Timestamp.FromDateTimeOffset(day.AddHours(14)), Granularity = Granularity.Day,
                })).Rows.SingleOrDefault();
            }
            catch (global::Grpc.Core.RpcException)
            {
                return null;
            }
        }, r => r is { Calls: 10, PackageCalls: 1 }, BillingFixture.Timeout, "statistics on the cluster");
        Assert.Equal(9, stats!.PostpaidCalls);
        await Eventually.AssertAsync(async () => (await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account })).BalanceFen == 500,
            BillingFixture.Timeout, "the refund credited");

        var bill = await client.SettlePeriodAsync(new SettlePeriodRequest { IdempotencyKey = "k1", AccountId = account, PeriodInstant = Timestamp.FromDateTimeOffset(day) });
        Assert.Equal((900L + 93_000 - 500, BillStatus.InArrears, 93_400L), (bill.TotalFen, bill.Status, bill.OutstandingFen));

        var balances = host.Services.GetRequiredService<BalanceService>();
        Assert.Equal(1, await balances.SuspendDueAsync(clock.GetUtcNow().AddHours(25), CancellationToken.None));
        Assert.True((await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account })).Suspended);
        var paid = await client.TopUpAsync(new TopUpRequest { IdempotencyKey = "t1", AccountId = account, AmountFen = 100_000 });
        Assert.Equal((6_600L, 0L, false), (paid.BalanceFen, paid.ArrearsFen, paid.Suspended));
        var reconciliation = await client.GetReconciliationAsync(new GetReconciliationRequest
        {
            AccountId = account, From = Timestamp.FromDateTimeOffset(day.AddHours(-10)), To = Timestamp.FromDateTimeOffset(day.AddHours(14)),
        });
        Assert.False(reconciliation.Balanced); // nothing metered this account on the ledger side: reported, not hidden
        using var redis = cluster.Connect();
        await Eventually.AssertAsync(async () => (await Streams.EventsAsync(redis.GetDatabase(), EventTopics.ServiceResumed, account)).Count == 1,
            BillingFixture.Timeout, "ServiceResumed relayed from the account's outbox");
    }
}
