using FaceId.BuildingBlocks.Tests.Support;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace FaceId.BuildingBlocks.Tests;

/// <summary>Consumption from Redis Streams: typed delivery, XACK only after success, redelivery, idempotency on the CloudEvent id.</summary>
public sealed class RedisStreamsDeliveryTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const string Topic = EventTopics.ServiceActivated;

    [Fact]
    public async Task A_subscribed_handler_receives_the_typed_event_and_the_entry_is_acknowledged()
    {
        var probe = new HandlerProbe();
        var appId = TestIds.AppId("deliver");
        await using var host = await ConsumerHosts.StartConsumerAsync(redis.ConnectionString, appId, probe, output: output);
        var accountId = TestIds.New("acct");
        var sent = new ServiceActivated { AccountId = accountId, ApplicationId = "app-7", PriceBook = "legacy" };

        await host.Get<IEventBus>().PublishAsync(sent);

        await Eventually.AssertAsync(() => probe.SuccessesFor(accountId).Count == 1, Timeout, "the handler should receive the event");
        var delivery = probe.SuccessesFor(accountId)[0];
        Assert.Equal(sent, delivery.Event);
        Assert.Equal(Topic, delivery.Context.Topic);
        Assert.Equal(appId, delivery.Context.Source);
        var entry = Assert.Single(await Streams.EntriesForAccountAsync(redis.Database, Topic, accountId));
        await Eventually.AssertAsync(() => Streams.GroupCaughtUpAsync(redis.Database, Topic, appId, entry.Id), Timeout,
            "XPENDING of the consumer group (= app id) should be 0 once the handler succeeded");
        Assert.Equal(0, await Streams.PendingAsync(redis.Database, Topic, appId));
        Assert.Single(probe.AttemptsFor(accountId));
    }

    [Fact]
    public async Task A_handler_that_fails_once_gets_the_event_again_and_it_is_handled_exactly_once()
    {
        var probe = new HandlerProbe();
        var accountId = TestIds.New("acct");
        probe.Behavior = (d, _) => d.AccountId == accountId && d.Attempt == 1
            ? throw new InvalidOperationException("transient failure")
            : Task.CompletedTask;
        var appId = TestIds.AppId("redeliver");
        await using var host = await ConsumerHosts.StartConsumerAsync(redis.ConnectionString, appId, probe, output: output);

        await host.Get<IEventBus>().PublishAsync(new ServiceActivated { AccountId = accountId });

        await Eventually.AssertAsync(() => probe.SuccessesFor(accountId).Count == 1, Timeout, "the second attempt should succeed");
        var entry = Assert.Single(await Streams.EntriesForAccountAsync(redis.Database, Topic, accountId));
        await Eventually.AssertAsync(() => Streams.GroupCaughtUpAsync(redis.Database, Topic, appId, entry.Id), Timeout, "the entry should be acknowledged");
        var attempts = probe.AttemptsFor(accountId);
        Assert.Equal([1, 2], attempts.Select(a => a.Attempt));
        Assert.Single(attempts.Select(a => a.EventId).Distinct());
        Assert.Single(probe.SuccessesFor(accountId));
        Assert.Empty(await Streams.DeadLettersAsync(redis.Database, Topic, appId));
    }

    [Fact]
    public async Task The_same_CloudEvent_added_twice_is_handled_once()
    {
        var probe = new HandlerProbe();
        var appId = TestIds.AppId("dedupe");
        await using var host = await ConsumerHosts.StartConsumerAsync(redis.ConnectionString, appId, probe, output: output);
        var accountId = TestIds.New("acct");
        var cloudEvent = Events.CloudEventFor(new ServiceActivated { AccountId = accountId });

        Streams.AddRaw(redis.Database, Topic, cloudEvent.ToJsonBytes());
        var second = Streams.AddRaw(redis.Database, Topic, cloudEvent.ToJsonBytes());

        await Eventually.AssertAsync(() => Streams.GroupCaughtUpAsync(redis.Database, Topic, appId, second), Timeout,
            "both entries should be read and acknowledged");
        Assert.Equal(2, (await Streams.EntriesForAccountAsync(redis.Database, Topic, accountId)).Count);
        var handled = Assert.Single(probe.SuccessesFor(accountId));
        Assert.Equal(cloudEvent.Id, handled.EventId);
        Assert.Single(probe.AttemptsFor(accountId));
        Assert.True(await redis.Database.KeyExistsAsync(host.Get<EventDispatcher>().ProcessedKey(cloudEvent.Id)),
            "the consumed id is remembered per app id");
    }
}
