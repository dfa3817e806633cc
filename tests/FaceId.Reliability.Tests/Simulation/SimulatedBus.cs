using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.Redis;
using StackExchange.Redis;

namespace FaceId.Reliability.Tests.Simulation;

/// <summary>One event an account's outbox holds, as the relay would read it.</summary>
public sealed record OutboxEvent(string StreamId, string Topic, string Type, string Id, string Data);

/// <summary>
/// The simulation's network: it reads what the platform wrote to the account's outbox (no relay
/// runs), keeps the events Billing subscribes to "in flight", and hands them to Billing's real
/// <see cref="EventDispatcher"/> when the seeded schedule says so: out of order, late, and more
/// than once (again under the same event id, which the dispatcher de-duplicates, or under a new
/// one, as a replay, which Billing's handlers must absorb themselves).
/// </summary>
public sealed class SimulatedBus(string accountId)
{
    /// <summary>The topics Billing subscribes to that its account's outbox carries.</summary>
    private static readonly HashSet<string> BillingTopics =
        [EventTopics.UsageCharged, EventTopics.For<UsageBackdated>(), EventTopics.PackageDelivered, EventTopics.For<RefundCompleted>()];

    private readonly List<OutboxEvent> _inFlight = [];
    private readonly List<OutboxEvent> _delivered = [];
    private RedisValue _cursor = "0-0";
    private int _replays;

    /// <summary>Every event the outbox ever held, in outbox order (alerts, bills, …).</summary>
    public List<OutboxEvent> All { get; } = [];

    public int InFlight => _inFlight.Count;
    public int Deliveries { get; private set; }
    public int Duplicates { get; private set; }

    /// <summary>Reads the outbox entries written since the last poll; returns them.</summary>
    public async Task<IReadOnlyList<OutboxEvent>> PollAsync(IDatabase redis)
    {
        var outbox = RedisKeys.Outbox(RedisKeys.AccountTag(accountId));
        var entries = await redis.StreamRangeAsync(outbox, _cursor, "+");
        var fresh = new List<OutboxEvent>();
        foreach (var e in entries)
        {
            if (e.Id == _cursor) continue; // the range is inclusive
            string Get(string name) => e[name].IsNull ? "" : (string)e[name]!;
            var id = Get("id");
            // As OutboxEntry.ToCloudEvent names entries that carry no id.
            var ev = new OutboxEvent(e.Id!, Get("topic"), Get("type"), id.Length > 0 ? id : outbox.Replace("{", "").Replace("}", "") + "/" + e.Id, Get("data"));
            fresh.Add(ev);
            All.Add(ev);
            if (BillingTopics.Contains(ev.Topic)) _inFlight.Add(ev);
            _cursor = e.Id;
        }
        return fresh;
    }

    /// <summary>
    /// Delivers up to <paramref name="count"/> in-flight events, each picked at random; an event
    /// stays in flight with probability <paramref name="duplicateChance"/> (it will arrive again).
    /// </summary>
    public async Task<IReadOnlyList<OutboxEvent>> DeliverAsync(EventDispatcher billing, Random random, int count, double duplicateChance, DateTimeOffset now)
    {
        var done = new List<OutboxEvent>();
        for (var k = 0; k < count && _inFlight.Count > 0; k++)
        {
            var i = random.Next(_inFlight.Count);
            var e = _inFlight[i];
            if (random.NextDouble() >= duplicateChance) _inFlight.RemoveAt(i);
            else Duplicates++;
            await DispatchAsync(billing, e, e.Id, now);
            done.Add(e);
        }
        return done;
    }

    /// <summary>Delivers everything in flight (duplicates included) until nothing is left.</summary>
    public async Task<IReadOnlyList<OutboxEvent>> DrainAsync(EventDispatcher billing, Random random, DateTimeOffset now)
    {
        var done = new List<OutboxEvent>();
        while (_inFlight.Count > 0) done.AddRange(await DeliverAsync(billing, random, _inFlight.Count, 0.1, now));
        return done;
    }

    /// <summary>Delivers an already delivered event again: under its own id, or as a replay under a new id.</summary>
    public async Task<OutboxEvent?> RedeliverAsync(EventDispatcher billing, Random random, DateTimeOffset now)
    {
        if (_delivered.Count == 0) return null;
        var e = _delivered[random.Next(_delivered.Count)];
        Duplicates++;
        await DispatchAsync(billing, e, random.Next(2) == 0 ? e.Id : $"{e.Id}:replay-{++_replays}", now);
        return e;
    }

    private async Task DispatchAsync(EventDispatcher billing, OutboxEvent e, string id, DateTimeOffset now)
    {
        var cloudEvent = new CloudEvent { Id = id, Source = "simulation", Type = e.Type, Topic = e.Topic, Time = now, DataJson = e.Data };
        var (result, error) = await billing.DispatchAsync(e.Topic, cloudEvent, CancellationToken.None);
        if (result != DispatchResult.Handled)
            throw new InvalidOperationException($"Billing did not handle {e.Topic} {id}: {result} {error}");
        Deliveries++;
        _delivered.Add(e);
    }
}
