using FaceId.BuildingBlocks.Tests.Support;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.EventBus.Outbox;
using FaceId.Redis;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace FaceId.BuildingBlocks.Tests;

/// <summary>
/// Decision 7 (docs/architecture.md): a state change and its event are written in one MULTI/EXEC (an outbox stream
/// in the same slot), then relayed; at-least-once relay + idempotent consumers = exactly-once effect.
/// </summary>
public sealed class OutboxTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const string Topic = EventTopics.ServiceActivated;
    private IDatabase Db => redis.Database;

    [Fact]
    public async Task The_event_is_delivered_if_and_only_if_its_state_change_committed()
    {
        var probe = new HandlerProbe();
        // No periodic sweep during the test: only Notify can make the relay drain.
        var settings = new Dictionary<string, string?> { ["EventBus:OutboxSweepIntervalMs"] = "600000" };
        await using var host = await ConsumerHosts.StartConsumerAsync(redis.ConnectionString, TestIds.AppId("outbox"), probe, settings: settings, output: output);
        var relay = host.Get<OutboxRelay>();
        var accountId = TestIds.New("acct");
        var tag = RedisKeys.AccountTag(accountId);
        var stateKey = RedisKeys.ForAccount(accountId, "status");
        await relay.RegisterAsync(tag);
        Assert.True(await Db.SetContainsAsync(OutboxRelay.RegistryKey, RedisKeys.Outbox(tag)));

        // 1. Committed: state and outbox entry together; Notify drains at once.
        var committed = Entry(accountId, "first");
        Assert.True(await WriteAsync(stateKey, "active", committed, tag));
        Assert.Equal("active", await Db.StringGetAsync(stateKey));
        relay.Notify(tag);
        await Eventually.AssertAsync(() => probe.SuccessesFor(accountId).Count == 1, Timeout, "the committed change's event should be delivered");
        Assert.Equal(committed.Id, probe.SuccessesFor(accountId)[0].EventId);
        await Eventually.AssertAsync(async () => await Db.StreamLengthAsync(RedisKeys.Outbox(tag)) == 0, Timeout, "the outbox should be empty after relaying");

        // 2. Rejected: the condition fails, so neither the state nor the outbox entry is written.
        var rejected = Entry(accountId, "rejected");
        Assert.False(await WriteAsync(stateKey, "rejected", rejected, tag));
        Assert.Equal("active", await Db.StringGetAsync(stateKey));
        Assert.Equal(0, await Db.StreamLengthAsync(RedisKeys.Outbox(tag)));
        relay.Notify(tag);

        // 3. A later committed change in the same outbox: once its event is handled, an earlier one would have been too.
        var later = Entry(accountId, "later");
        Assert.True(await WriteAsync(RedisKeys.ForAccount(accountId, "other"), "x", later, tag));
        relay.Notify(tag);
        await Eventually.AssertAsync(() => probe.SuccessesFor(accountId).Any(d => d.EventId == later.Id), Timeout, "the later event should be delivered");
        Assert.DoesNotContain(probe.AttemptsFor(accountId), d => d.EventId == rejected.Id);
        Assert.Equal([committed.Id, later.Id], probe.SuccessesFor(accountId).Select(d => d.EventId));
        Assert.Equal(0, await Db.StreamLengthAsync(RedisKeys.Outbox(tag)));
    }

    [Fact]
    public async Task Entries_written_while_no_relay_runs_are_published_by_the_next_hosts_sweep()
    {
        var accountId = TestIds.New("acct");
        var tag = RedisKeys.AccountTag(accountId);
        var outbox = RedisKeys.Outbox(tag);
        // What OutboxRelay.RegisterAsync records, then a crash: no host runs while the entries are written.
        await Db.SetAddAsync(OutboxRelay.RegistryKey, outbox);
        var entries = new[] { Entry(accountId, "one"), Entry(accountId, "two") };
        foreach (var (entry, i) in entries.Select((e, i) => (e, i)))
            Assert.True(await WriteAsync(RedisKeys.ForAccount(accountId, "state" + i), "v", entry, tag));
        Assert.Equal(2, await Db.StreamLengthAsync(outbox));

        var probe = new HandlerProbe();
        await using var host = await ConsumerHosts.StartConsumerAsync(redis.ConnectionString, TestIds.AppId("sweeper"), probe, output: output);

        await Eventually.AssertAsync(() => probe.SuccessesFor(accountId).Count == 2, Timeout, "the sweep should relay what was left behind");
        Assert.Equal(entries.Select(e => e.Id), probe.SuccessesFor(accountId).Select(d => d.EventId));
        Assert.Equal(0, await Db.StreamLengthAsync(outbox));
        var delivered = probe.SuccessesFor(accountId)[0];
        Assert.Equal(host.AppId, delivered.Context.Source);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(entries[0].TimeUnixMs), delivered.Context.Time);
    }

    [Fact]
    public async Task A_relay_that_crashed_between_publish_and_delete_publishes_again_and_the_consumer_dedupes()
    {
        var probe = new HandlerProbe();
        await using var host = await ConsumerHosts.StartConsumerAsync(redis.ConnectionString, TestIds.AppId("crash"), probe, output: output);
        var accountId = TestIds.New("acct");
        var tag = RedisKeys.AccountTag(accountId);
        var outbox = RedisKeys.Outbox(tag);
        // Not registered and not notified: only the relay runs of this test touch this outbox.
        var entry = Entry(accountId, "once");
        Assert.True(await WriteAsync(RedisKeys.ForAccount(accountId, "state"), "v", entry, tag));

        // First relay run: the publish succeeds...
        await host.Get<IEventBus>().PublishAsync(new CloudEvent
        {
            Id = entry.Id,
            Source = host.AppId,
            Type = entry.Type,
            Topic = entry.Topic,
            Time = DateTimeOffset.FromUnixTimeMilliseconds(entry.TimeUnixMs),
            DataJson = entry.DataJson,
        });
        // ...and the process dies before XDEL: the entry is still in the outbox.
        Assert.Equal(1, await Db.StreamLengthAsync(outbox));

        // The next relay run publishes it again.
        Assert.Equal(1, await host.Get<OutboxRelay>().DrainAsync(outbox, CancellationToken.None));
        Assert.Equal(0, await Db.StreamLengthAsync(outbox));

        var onTheTopic = await Streams.EntriesForAccountAsync(Db, Topic, accountId);
        Assert.Equal(2, onTheTopic.Count); // a duplicate at the transport...
        Assert.All(onTheTopic, e => Assert.Contains(entry.Id, (string)e["data"]!));
        await Eventually.AssertAsync(() => Streams.GroupCaughtUpAsync(Db, Topic, host.AppId, onTheTopic[^1].Id), Timeout, "both copies should be consumed");
        var handled = Assert.Single(probe.SuccessesFor(accountId)); // ...handled once
        Assert.Equal(entry.Id, handled.EventId);
        Assert.Single(probe.AttemptsFor(accountId));
    }

    [Fact]
    public async Task A_relay_does_not_drain_an_outbox_another_relay_holds_the_lock_of()
    {
        await using var host = await BusHost.StartAsync(redis.ConnectionString, TestIds.AppId("locked"), output: output);
        var accountId = TestIds.New("acct");
        var tag = RedisKeys.AccountTag(accountId);
        var outbox = RedisKeys.Outbox(tag);
        Assert.True(await WriteAsync(RedisKeys.ForAccount(accountId, "state"), "v", Entry(accountId, "x"), tag));
        await Db.StringSetAsync(outbox + ":lock", "another-replica", TimeSpan.FromSeconds(30));

        Assert.Equal(0, await host.Get<OutboxRelay>().DrainAsync(outbox, CancellationToken.None));
        Assert.Equal(1, await Db.StreamLengthAsync(outbox));
        Assert.Equal("another-replica", await Db.StringGetAsync(outbox + ":lock")); // not released by a non-owner

        await Db.KeyDeleteAsync(outbox + ":lock");
        Assert.Equal(1, await host.Get<OutboxRelay>().DrainAsync(outbox, CancellationToken.None));
        Assert.False(await Db.KeyExistsAsync(outbox + ":lock"));
    }

    [Fact]
    public async Task A_page_of_entries_is_deleted_only_after_every_one_of_them_was_published()
    {
        var (outbox, entries) = await FillOutboxAsync(5);

        // The third publish of the page fails: nothing of the page leaves the outbox.
        var failing = new RecordingBus(failOn: 3);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Relay(failing).DrainAsync(outbox, CancellationToken.None));
        Assert.Equal(5, await Db.StreamLengthAsync(outbox));
        Assert.False(await Db.KeyExistsAsync(outbox + ":lock")); // released despite the failure

        // The next drain publishes the whole page again (same event ids: consumers drop the repeats) and deletes it.
        var bus = new RecordingBus();
        Assert.Equal(5, await Relay(bus).DrainAsync(outbox, CancellationToken.None));
        Assert.Equal(entries.Select(e => e.Id), bus.Published.Select(e => e.Id));
        Assert.Equal(0, await Db.StreamLengthAsync(outbox));
    }

    [Fact]
    public async Task An_outbox_longer_than_a_page_is_relayed_whole_and_in_order()
    {
        // 450 entries: two full pages of 200 and a last one of 50.
        var (outbox, entries) = await FillOutboxAsync(450);

        var bus = new RecordingBus();
        Assert.Equal(450, await Relay(bus).DrainAsync(outbox, CancellationToken.None));
        Assert.Equal(entries.Select(e => e.Id), bus.Published.Select(e => e.Id));
        Assert.Equal(0, await Db.StreamLengthAsync(outbox));
    }

    /// <summary>Appends <paramref name="count"/> entries to a new account's outbox (no state change: the relay is under test).</summary>
    private async Task<(string Outbox, List<OutboxEntry> Entries)> FillOutboxAsync(int count)
    {
        var accountId = TestIds.New("acct");
        var tag = RedisKeys.AccountTag(accountId);
        var entries = Enumerable.Range(0, count).Select(i => Entry(accountId, "p" + i)).ToList();
        var batch = Db.CreateBatch();
        var writes = entries.Select(e => e.AppendTo(batch, tag)).ToList();
        batch.Execute();
        await Task.WhenAll(writes);
        return (RedisKeys.Outbox(tag), entries);
    }

    /// <summary>A relay over the real Redis with <paramref name="bus"/> in place of the transport.</summary>
    private OutboxRelay Relay(IEventBus bus) => new(Db, bus, Microsoft.Extensions.Options.Options.Create(new EventBusOptions { AppId = "relay-test" }),
        Microsoft.Extensions.Logging.Abstractions.NullLogger<OutboxRelay>.Instance);

    /// <summary>Records what the relay publishes, in call order; the <paramref name="failOn"/>-th publish (1-based) fails.</summary>
    private sealed class RecordingBus(int failOn = 0) : IEventBus
    {
        private int _calls;
        public List<CloudEvent> Published { get; } = [];

        public Task PublishAsync<TEvent>(TEvent @event, CancellationToken cancellationToken = default) where TEvent : Google.Protobuf.IMessage<TEvent>, new() =>
            throw new NotSupportedException();

        public async Task PublishAsync(CloudEvent cloudEvent, CancellationToken cancellationToken = default)
        {
            var call = Interlocked.Increment(ref _calls);
            lock (Published) Published.Add(cloudEvent);
            await Task.Yield();
            if (call == failOn) throw new InvalidOperationException("transport down");
        }
    }

    private static OutboxEntry Entry(string accountId, string priceBook) =>
        OutboxEntry.For(new ServiceActivated { AccountId = accountId, PriceBook = priceBook, ActivatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) }, TimeProvider.System);

    /// <summary>A state change and its outbox entry in one MULTI/EXEC, conditional on the state key being new.</summary>
    private async Task<bool> WriteAsync(string stateKey, string value, OutboxEntry entry, string tag)
    {
        var tran = Db.CreateTransaction();
        tran.AddCondition(Condition.KeyNotExists(stateKey));
        var set = tran.StringSetAsync(stateKey, value);
        var append = entry.AppendTo(tran, tag);
        var committed = await tran.ExecuteAsync();
        if (committed) await Task.WhenAll(set, append);
        return committed;
    }
}
