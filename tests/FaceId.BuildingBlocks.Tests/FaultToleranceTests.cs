using FaceId.BuildingBlocks.Tests.Support;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.EventBus.Outbox;
using FaceId.Redis;
using FaceId.TestKit;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace FaceId.BuildingBlocks.Tests;

/// <summary>The bus on a Redis Cluster (decision 6, docs/architecture.md) and across a Redis crash.</summary>
public sealed class FaultToleranceTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task On_a_Redis_Cluster_the_outbox_transaction_relay_and_consumer_work_unchanged()
    {
        await using var cluster = await RedisCluster.StartAsync();
        var probe = new HandlerProbe();
        await using var host = await ConsumerHosts.StartConsumerAsync(cluster.ConnectionString, TestIds.AppId("cluster"), probe, output: output);
        var relay = host.Get<OutboxRelay>();
        var db = host.Get<IDatabase>();
        var accounts = Enumerable.Range(0, 6).Select(_ => TestIds.New("acct")).ToList(); // tags spread over the masters

        foreach (var accountId in accounts)
        {
            var tag = RedisKeys.AccountTag(accountId);
            await relay.RegisterAsync(tag);
            var entry = OutboxEntry.For(new ServiceActivated { AccountId = accountId }, TimeProvider.System);
            var tran = db.CreateTransaction();
            tran.AddCondition(Condition.KeyNotExists(RedisKeys.ForAccount(accountId, "status")));
            _ = tran.StringSetAsync(RedisKeys.ForAccount(accountId, "status"), "active");
            _ = entry.AppendTo(tran, tag);
            Assert.True(await tran.ExecuteAsync());
            relay.Notify(tag);
        }

        await Eventually.AssertAsync(() => accounts.All(a => probe.SuccessesFor(a).Count == 1), Timeout, "every account's event should be delivered once");
        foreach (var accountId in accounts)
            Assert.Equal(0, await db.StreamLengthAsync(RedisKeys.Outbox(RedisKeys.AccountTag(accountId))));
    }

    [Fact]
    public async Task After_Redis_is_killed_and_restarted_the_consumer_resumes_and_nothing_acked_is_redone()
    {
        await using var server = await RedisServer.StartAsync("--appendonly", "yes", "--appendfsync", "always");
        var probe = new HandlerProbe();
        await using var host = await ConsumerHosts.StartConsumerAsync(server.ConnectionString, TestIds.AppId("crash"), probe, output: output);
        var before = TestIds.New("acct");
        await host.Get<IEventBus>().PublishAsync(new ServiceActivated { AccountId = before });
        await Eventually.AssertAsync(() => probe.SuccessesFor(before).Count == 1, Timeout, "delivered before the crash");
        using (var admin = server.Connect())
        {
            await Eventually.AssertAsync(async () => (await admin.GetDatabase().StreamPendingAsync(FaceId.Contracts.EventTopics.ServiceActivated, host.AppId)).PendingMessageCount == 0,
                Timeout, "acked before the crash");
        }

        await server.KillAsync();
        await server.RestartAsync();

        var after = Events.CloudEventFor(new ServiceActivated { AccountId = TestIds.New("acct") });
        // The multiplexer reconnects on its own; publishing the same CloudEvent again until it goes through is safe (same id).
        await Eventually.AssertAsync(async () =>
        {
            await host.Get<IEventBus>().PublishAsync(after);
            return true;
        }, Timeout, "publishing should work again after the restart");
        var accountAfter = JsonAccount(after);
        await Eventually.AssertAsync(() => probe.SuccessesFor(accountAfter).Count == 1, Timeout, "the consumer should resume after the restart");
        Assert.Single(probe.SuccessesFor(before));
    }

    private static string JsonAccount(CloudEvent e) =>
        Google.Protobuf.JsonParser.Default.Parse<ServiceActivated>(e.DataJson).AccountId;
}
