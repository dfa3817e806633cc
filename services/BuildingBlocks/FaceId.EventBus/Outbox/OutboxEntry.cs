using FaceId.Contracts;
using Google.Protobuf;
using StackExchange.Redis;

namespace FaceId.EventBus.Outbox;

/// <summary>
/// An event waiting in an outbox stream (<c>{tag}:outbox</c>), written in the same atomic step as
/// the state change it reports — by a Lua script (<see cref="OutboxScript"/>, lib-outbox.lua) or a
/// MULTI/EXEC transaction (<see cref="AppendTo"/>) — and relayed to the bus afterwards by <see cref="OutboxRelay"/>.
/// Entry fields: topic, type, data (protobuf JSON), time (unix ms), traceparent, tracestate, id.
/// </summary>
public sealed record OutboxEntry(string Topic, string Type, string DataJson, long TimeUnixMs, string TraceParent, string TraceState, string Id)
{
    /// <summary>Builds an entry for <paramref name="event"/>. The id is chosen now, so a retried write keeps it.</summary>
    public static OutboxEntry For<TEvent>(TEvent @event, TimeProvider time, string? id = null) where TEvent : IMessage<TEvent>, new()
    {
        var (traceParent, traceState) = OutboxTrace.Current();
        return new(EventTopics.For(@event.Descriptor), @event.Descriptor.FullName, EventJson.Format(@event), time.GetUtcNow().ToUnixTimeMilliseconds(),
            traceParent, traceState, id ?? Guid.NewGuid().ToString("N"));
    }

    public NameValueEntry[] Fields() =>
    [
        new("topic", Topic), new("type", Type), new("data", DataJson), new("time", TimeUnixMs),
        new("traceparent", TraceParent), new("tracestate", TraceState), new("id", Id),
    ];

    /// <summary>Queues the XADD on a transaction or batch whose other commands touch the same slot.</summary>
    public Task AppendTo(IDatabaseAsync transaction, string hashTag) =>
        transaction.StreamAddAsync(FaceId.Redis.RedisKeys.Outbox(hashTag), Fields());

    internal static CloudEvent ToCloudEvent(string outboxKey, StreamEntry entry, string source, string pubSubName)
    {
        string Get(string name) => entry[name].IsNull ? "" : (string)entry[name]!;
        var id = Get("id");
        return new CloudEvent
        {
            // Entries written by scripts without an id get one from their outbox position: stable across relay retries.
            Id = id.Length > 0 ? id : outboxKey.Replace("{", "").Replace("}", "") + "/" + entry.Id,
            Source = source,
            Type = Get("type"),
            Topic = Get("topic"),
            Time = long.TryParse(Get("time"), out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : DateTimeOffset.UnixEpoch,
            DataJson = Get("data"),
            PubSubName = pubSubName,
            TraceParent = Get("traceparent") is { Length: > 0 } tp ? tp : null,
            TraceState = Get("tracestate") is { Length: > 0 } ts ? ts : null,
        };
    }
}
