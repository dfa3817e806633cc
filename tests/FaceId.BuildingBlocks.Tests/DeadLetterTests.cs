using FaceId.BuildingBlocks.Tests.Support;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.EventBus.Transports;
using FaceId.TestKit;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace FaceId.BuildingBlocks.Tests;

/// <summary>Poison messages: after MaxDeliveryAttempts (3 here) or at once when malformed, to &lt;topic&gt;.deadletter; re-drivable.</summary>
public sealed class DeadLetterTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const string Topic = EventTopics.ServiceActivated;
    private static readonly string DeadLetterStream = Topic + ".deadletter";

    [Fact]
    public async Task An_event_whose_handler_always_fails_is_dead_lettered_after_max_attempts_and_can_be_redriven()
    {
        var probe = new HandlerProbe();
        var accountId = TestIds.New("acct");
        var broken = true;
        probe.Behavior = (d, _) => d.AccountId == accountId && Volatile.Read(ref broken)
            ? throw new InvalidOperationException("handler bug")
            : Task.CompletedTask;
        var appId = TestIds.AppId("dlq");
        await using var host = await ConsumerHosts.StartConsumerAsync(redis.ConnectionString, appId, probe, output: output);

        await host.Get<IEventBus>().PublishAsync(new ServiceActivated { AccountId = accountId });

        var letter = (await Eventually.GetAsync(
            () => Streams.DeadLettersAsync(redis.Database, Topic, appId),
            l => l.Any(e => Streams.AccountOf(e) == accountId), Timeout, "the event should reach the dead-letter stream"))
            .Single(e => Streams.AccountOf(e) == accountId);
        var original = Assert.Single(await Streams.EntriesForAccountAsync(redis.Database, Topic, accountId));
        Assert.Equal(original["data"], letter["data"]);
        Assert.Equal(Topic, (string)letter["topic"]!);
        Assert.Equal(appId, (string)letter["group"]!);
        Assert.Equal((string)original.Id!, (string)letter["original_id"]!);
        Assert.False(letter["error"].IsNullOrEmpty);
        Assert.Equal(3, (int)letter["attempts"]);
        Assert.Equal(3, probe.AttemptsFor(accountId).Count);
        Assert.Empty(probe.SuccessesFor(accountId));
        await Eventually.AssertAsync(() => Streams.GroupCaughtUpAsync(redis.Database, Topic, appId, original.Id), Timeout,
            "a dead-lettered entry is acknowledged in the group");
        var listed = await host.Get<DeadLetters>().ListAsync(Topic, 1000);
        Assert.Contains(listed, l => l.EntryId == letter.Id && l.ConsumerGroup == appId && l.Attempts == 3);

        Volatile.Write(ref broken, false); // the handler is fixed
        var redriven = await host.Get<DeadLetters>().RedriveAsync(Topic, 1000);

        Assert.True(redriven >= 1);
        await Eventually.AssertAsync(() => probe.SuccessesFor(accountId).Count == 1, Timeout, "the redriven event should be handled");
        Assert.Empty(await Streams.DeadLettersAsync(redis.Database, Topic, appId).ContinueWith(t => t.Result.Where(e => Streams.AccountOf(e) == accountId)));
        var redrivenEntry = (await Streams.EntriesForAccountAsync(redis.Database, Topic, accountId)).Last();
        await Eventually.AssertAsync(() => Streams.GroupCaughtUpAsync(redis.Database, Topic, appId, redrivenEntry.Id), Timeout, "the redriven entry is acknowledged");
        Assert.Single(probe.SuccessesFor(accountId));
        Assert.Single(probe.Attempts.Where(a => a.AccountId == accountId).Select(a => a.EventId).Distinct());
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"specversion\":\"1.0\",\"type\":\"faceid.events.v1.ServiceActivated\"}")] // no id, no data
    [InlineData("[1,2,3]")]
    public async Task A_malformed_entry_is_dead_lettered_at_once(string data)
    {
        var probe = new HandlerProbe();
        var appId = TestIds.AppId("malformed");
        await using var host = await ConsumerHosts.StartConsumerAsync(redis.ConnectionString, appId, probe, output: output);

        var entryId = Streams.AddRaw(redis.Database, Topic, data);

        var letter = await WaitForDeadLetterAsync(appId, entryId);
        Assert.Equal(data, (string)letter["data"]!);
        Assert.Equal(1, (int)letter["attempts"]);
        Assert.False(letter["error"].IsNullOrEmpty);
        await Eventually.AssertAsync(() => Streams.GroupCaughtUpAsync(redis.Database, Topic, appId, entryId), Timeout, "acknowledged in the group");
    }

    [Fact]
    public async Task An_entry_without_a_data_field_is_dead_lettered_and_the_consumer_keeps_running()
    {
        var probe = new HandlerProbe();
        var appId = TestIds.AppId("nodata");
        await using var host = await ConsumerHosts.StartConsumerAsync(redis.ConnectionString, appId, probe, output: output);

        var entryId = (string)(await redis.Database.StreamAddAsync(Topic, [new NameValueEntry("payload", "{}")]))!;

        var letter = await WaitForDeadLetterAsync(appId, entryId);
        Assert.Equal(1, (int)letter["attempts"]);
        Assert.Contains("data", (string)letter["error"]!);
        await Eventually.AssertAsync(() => Streams.GroupCaughtUpAsync(redis.Database, Topic, appId, entryId), Timeout, "acknowledged in the group");
    }

    [Fact]
    public async Task An_event_of_the_wrong_type_for_its_topic_is_dead_lettered_at_once_without_calling_the_handler()
    {
        var probe = new HandlerProbe();
        var appId = TestIds.AppId("wrongtype");
        await using var host = await ConsumerHosts.StartConsumerAsync(redis.ConnectionString, appId, probe, output: output);
        var accountId = TestIds.New("acct");
        var wrong = Events.CloudEventFor(new AccountCreated { AccountId = accountId }) with { Topic = Topic };

        var entryId = Streams.AddRaw(redis.Database, Topic, wrong.ToJsonBytes());

        var letter = await WaitForDeadLetterAsync(appId, entryId);
        Assert.Contains("faceid.events.v1.AccountCreated", (string)letter["error"]!);
        Assert.Equal(1, (int)letter["attempts"]);
        await Eventually.AssertAsync(() => Streams.GroupCaughtUpAsync(redis.Database, Topic, appId, entryId), Timeout, "acknowledged in the group");
        Assert.DoesNotContain(probe.Attempts, a => a.EventId == wrong.Id);
    }

    [Fact]
    public async Task An_event_whose_data_is_not_the_declared_message_is_dead_lettered_at_once()
    {
        var probe = new HandlerProbe();
        var appId = TestIds.AppId("baddata");
        await using var host = await ConsumerHosts.StartConsumerAsync(redis.ConnectionString, appId, probe, output: output);
        var garbage = Events.CloudEventFor(new ServiceActivated()) with { DataJson = "{\"activatedAt\":\"not a timestamp\"}" };

        var entryId = Streams.AddRaw(redis.Database, Topic, garbage.ToJsonBytes());

        var letter = await WaitForDeadLetterAsync(appId, entryId);
        Assert.Contains("ServiceActivated", (string)letter["error"]!);
        Assert.Equal(1, (int)letter["attempts"]);
        Assert.DoesNotContain(probe.Attempts, a => a.EventId == garbage.Id);
    }

    private async Task<StreamEntry> WaitForDeadLetterAsync(string group, RedisValue originalEntryId) =>
        (await Eventually.GetAsync(
            () => Streams.DeadLettersAsync(redis.Database, Topic, group),
            l => l.Any(e => e["original_id"] == originalEntryId), Timeout,
            $"entry {originalEntryId} should be in {DeadLetterStream} for group {group}"))
        .Single(e => e["original_id"] == originalEntryId);
}
