using System.Diagnostics;
using FaceId.BuildingBlocks.Tests.Support;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.TestKit;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace FaceId.BuildingBlocks.Tests;

/// <summary>Replicas of one service share a consumer group: work is split, and a dead replica's pending entries are reclaimed.</summary>
public sealed class ConsumerGroupTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const string Topic = EventTopics.ServiceActivated;

    [Fact]
    public async Task Two_hosts_in_one_group_share_the_events_and_each_event_is_handled_once_overall()
    {
        var probe = new HandlerProbe();
        var prefix = TestIds.New("shared");
        var started = new Dictionary<string, TaskCompletionSource>
        {
            ["a"] = new(TaskCreationOptions.RunContinuationsAsynchronously),
            ["b"] = new(TaskCreationOptions.RunContinuationsAsynchronously),
        };
        // Each host, on its first event of this test, waits (bounded) until the other host has one too:
        // with one entry read at a time, neither host can take all the work.
        probe.Behavior = async (d, ct) =>
        {
            if (!d.AccountId.StartsWith(prefix, StringComparison.Ordinal)) return;
            started[d.Host].TrySetResult();
            try { await Task.WhenAll(started.Values.Select(s => s.Task)).WaitAsync(TimeSpan.FromSeconds(5), ct); }
            catch (TimeoutException) { /* asserted below */ }
        };
        var appId = TestIds.AppId("replicas");
        // Reclaim only after 10 s here: a handler parked at the barrier must not be taken over meanwhile.
        var settings = new Dictionary<string, string?> { ["EventBus:ReadBatchSize"] = "1", ["EventBus:ProcessingTimeoutMs"] = "10000" };
        await using var a = await ConsumerHosts.StartConsumerAsync(redis.ConnectionString, appId, probe, "a", settings, output);
        await using var b = await ConsumerHosts.StartConsumerAsync(redis.ConnectionString, appId, probe, "b", settings, output);

        var accounts = Enumerable.Range(0, 12).Select(i => $"{prefix}-{i}").ToList();
        foreach (var account in accounts)
            await a.Get<IEventBus>().PublishAsync(new ServiceActivated { AccountId = account });

        bool Ours(Delivery d) => d.AccountId.StartsWith(prefix, StringComparison.Ordinal);
        await Eventually.AssertAsync(() => probe.Successes.Count(Ours) >= accounts.Count, Timeout, "every event should be handled");
        var last = (await redis.Database.StreamRangeAsync(Topic, messageOrder: Order.Descending, count: 1)).Single();
        await Eventually.AssertAsync(() => Streams.GroupCaughtUpAsync(redis.Database, Topic, appId, last.Id), Timeout, "the group should ack everything");

        var successes = probe.Successes.Where(Ours).ToList();
        Assert.Equal(accounts.Order(), successes.Select(s => s.AccountId).Order());
        Assert.Equal(accounts.Count, successes.Select(s => s.EventId).Distinct().Count());
        Assert.Equal(accounts.Count, probe.Attempts.Count(Ours)); // no event was delivered twice
        Assert.Contains(successes, s => s.Host == "a");
        Assert.Contains(successes, s => s.Host == "b");
        output.WriteLine($"a handled {successes.Count(s => s.Host == "a")}, b handled {successes.Count(s => s.Host == "b")}");
    }

    [Fact]
    public async Task Each_service_gets_its_own_copy_of_an_event()
    {
        var probe = new HandlerProbe();
        await using var billing = await ConsumerHosts.StartConsumerAsync(redis.ConnectionString, TestIds.AppId("billing"), probe, "billing", output: output);
        await using var refund = await ConsumerHosts.StartConsumerAsync(redis.ConnectionString, TestIds.AppId("refund"), probe, "refund", output: output);
        var accountId = TestIds.New("acct");

        await billing.Get<IEventBus>().PublishAsync(new ServiceActivated { AccountId = accountId });

        await Eventually.AssertAsync(() => probe.SuccessesFor(accountId).Count == 2, Timeout, "both groups should handle the event");
        Assert.Equal(["billing", "refund"], probe.SuccessesFor(accountId).Select(d => d.Host).Order());
        Assert.Single(probe.SuccessesFor(accountId).Select(d => d.EventId).Distinct());
    }

    [Fact]
    public async Task An_entry_left_pending_by_a_host_stopped_mid_handler_is_handled_by_a_live_host_after_the_processing_timeout()
    {
        var probe = new HandlerProbe();
        var accountId = TestIds.New("acct");
        var parked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        probe.Behavior = async (d, ct) =>
        {
            if (d.AccountId != accountId || d.Host != "dying") return;
            parked.TrySetResult();
            await new TaskCompletionSource().Task.WaitAsync(ct); // never finishes: the host is stopped under it
        };
        var appId = TestIds.AppId("takeover");
        await using var dying = await ConsumerHosts.StartConsumerAsync(redis.ConnectionString, appId, probe, "dying", output: output);
        await dying.Get<IEventBus>().PublishAsync(new ServiceActivated { AccountId = accountId });
        await parked.Task.WaitAsync(Timeout);

        await dying.DisposeAsync(); // the handler is cancelled: no ack

        var entry = Assert.Single(await Streams.EntriesForAccountAsync(redis.Database, Topic, accountId));
        var pending = await redis.Database.StreamPendingMessagesAsync(Topic, appId, 10, RedisValue.Null);
        var stuck = Assert.Single(pending, p => p.MessageId == entry.Id);
        Assert.StartsWith(appId + "-", (string)stuck.ConsumerName!);

        await using var live = await ConsumerHosts.StartConsumerAsync(redis.ConnectionString, appId, probe, "live", output: output);

        await Eventually.AssertAsync(() => probe.SuccessesFor(accountId).Count == 1, Timeout, "the live host should reclaim and handle the entry");
        await Eventually.AssertAsync(() => Streams.GroupCaughtUpAsync(redis.Database, Topic, appId, entry.Id), Timeout, "and acknowledge it");
        Assert.Equal("live", probe.SuccessesFor(accountId).Single().Host);
        Assert.Equal(["dying", "live"], probe.AttemptsFor(accountId).Select(a => a.Host));
    }

    [Fact]
    public async Task An_entry_read_by_a_consumer_that_never_acks_is_reclaimed_only_after_the_processing_timeout()
    {
        var probe = new HandlerProbe();
        var appId = TestIds.AppId("ghost");
        var accountId = TestIds.New("acct");
        var db = redis.Database;
        await db.StreamCreateConsumerGroupAsync(Topic, appId, StreamPosition.NewMessages, createStream: true);
        var published = Events.CloudEventFor(new ServiceActivated { AccountId = accountId });
        var entryId = Streams.AddRaw(db, Topic, published.ToJsonBytes());

        // A consumer of the group (another replica) reads the entry, then dies without XACK.
        var read = await db.StreamReadGroupAsync(Topic, appId, "ghost-consumer", StreamPosition.NewMessages, count: 1);
        Assert.Equal(entryId, Assert.Single(read).Id);
        var clock = Stopwatch.StartNew();

        await using var host = await ConsumerHosts.StartConsumerAsync(redis.ConnectionString, appId, probe, "live", output: output);

        await Eventually.AssertAsync(() => probe.SuccessesFor(accountId).Count == 1, Timeout, "the entry should be reclaimed");
        var reclaimedAfter = clock.Elapsed;
        await Eventually.AssertAsync(() => Streams.GroupCaughtUpAsync(db, Topic, appId, entryId), Timeout, "and acknowledged");
        // Redis measures idle time from its own (coarsely cached) clock, which starts at the XREADGROUP
        // above, a little before this stopwatch; a reclaim that ignored the timeout would come at once.
        Assert.True(reclaimedAfter >= TimeSpan.FromMilliseconds(120), $"reclaimed after {reclaimedAfter.TotalMilliseconds} ms, well before ProcessingTimeoutMs (200)");
        var attempt = Assert.Single(probe.AttemptsFor(accountId));
        Assert.Equal(published.Id, attempt.EventId);
    }
}
