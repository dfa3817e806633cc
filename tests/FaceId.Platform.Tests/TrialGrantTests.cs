using FaceId.Contracts;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.Packages.Grpc;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit;

namespace FaceId.Platform.Tests;

/// <summary>R-ONB-3: the free trial is granted exactly once per account, whatever is redelivered or replayed.</summary>
public sealed class TrialGrantTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static ServiceActivated Activation(string accountId) => new()
    {
        AccountId = accountId,
        ApplicationId = TestIds.New("app"),
        ActivatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        PriceBook = "2021-06",
        SettlementCycle = SettlementCycle.Daily,
    };

    [Fact]
    public async Task R_ONB_3_the_activation_event_delivered_twice_grants_the_trial_once()
    {
        await using var packages = Hosts.InProcess<PackagesGrpcService>(redis.ConnectionString);
        var bus = packages.Services.GetRequiredService<IEventBus>();
        var accountId = TestIds.New("acct");
        var activation = Activation(accountId);

        await bus.PublishAsync(activation);
        await Scenario.WaitForPackagesAsync(packages.Channel, accountId, 6);
        // Redeliver the very same CloudEvent (same id) at the transport, and replay it under a new id.
        var published = (await redis.Database.StreamRangeAsync(EventTopics.ServiceActivated))
            .Single(e => ((string)e["data"]!).Contains(accountId));
        await redis.Database.StreamAddAsync(EventTopics.ServiceActivated, [new NameValueEntry("data", published["data"])]);
        await bus.PublishAsync(activation);

        await Eventually.AssertAsync(() => Streams.ConsumedAllAsync(redis.Database, EventTopics.ServiceActivated, "packages"), Scenario.Timeout, "all three deliveries consumed");
        await AssertGrantedOnceAsync(packages, accountId);
    }

    [Fact]
    public async Task R_ONB_3_concurrent_replays_of_the_activation_grant_the_trial_once()
    {
        await using var packages = Hosts.InProcess<PackagesGrpcService>(redis.ConnectionString);
        await using var second = Hosts.InProcess<PackagesGrpcService>(redis.ConnectionString);
        var bus = packages.Services.GetRequiredService<IEventBus>();
        var accountId = TestIds.New("acct");
        var activation = Activation(accountId);

        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => bus.PublishAsync(activation)));

        await Eventually.AssertAsync(() => Streams.ConsumedAllAsync(redis.Database, EventTopics.ServiceActivated, "packages"), Scenario.Timeout, "all replays consumed");
        await AssertGrantedOnceAsync(packages, accountId);
    }

    private async Task AssertGrantedOnceAsync(InProcessService<PackagesGrpcService> packages, string accountId)
    {
        var list = await Scenario.WaitForPackagesAsync(packages.Channel, accountId, 6);
        Assert.Equal(6, list.Count);
        Assert.Equal(6, list.Select(p => p.Label).Distinct().Count());
        // Exactly six delivery events were published for the account, not one set per delivery.
        await Eventually.AssertAsync(async () => await DeliveredEventsAsync(accountId) == 6, Scenario.Timeout, "six PackageDelivered events");
        Assert.Equal(6, await DeliveredEventsAsync(accountId));
    }

    private async Task<int> DeliveredEventsAsync(string accountId) =>
        (await redis.Database.StreamRangeAsync(EventTopics.PackageDelivered))
        .Select(e => CloudEvent.Parse((byte[])e["data"]!))
        .Where(e => e.DataJson.Contains(accountId))
        .Select(e => e.Id)
        .Distinct()
        .Count();
}
