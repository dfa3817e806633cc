using FaceId.Contracts;
using FaceId.EventBus;
using Google.Protobuf;
using StackExchange.Redis;

namespace FaceId.Onboarding.Tests.Support;

public static class Streams
{
    /// <summary>True when the consumer group has read every entry of the stream and acknowledged them all.</summary>
    public static async Task<bool> ConsumedAllAsync(IDatabase db, string topic, string group)
    {
        var last = await db.StreamRangeAsync(topic, count: 1, messageOrder: Order.Descending);
        if (last.Length == 0) return true;
        var info = (await db.StreamGroupInfoAsync(topic)).SingleOrDefault(g => g.Name == group);
        return info.Name is not null && info.LastDeliveredId == last[0].Id && info.PendingMessageCount == 0;
    }

    /// <summary>The CloudEvents on a topic whose data mentions <paramref name="text"/>.</summary>
    public static async Task<IReadOnlyList<CloudEvent>> EventsAsync(IDatabase db, string topic, string text) =>
        (await db.StreamRangeAsync(topic))
        .Select(e => CloudEvent.Parse((byte[])e["data"]!))
        .Where(e => e.DataJson.Contains(text, StringComparison.Ordinal))
        .ToList();

    /// <summary>A CloudEvent with a chosen id, as a publisher's relay would produce it.</summary>
    public static CloudEvent Event<T>(T message, string id) where T : IMessage<T>, new() => new()
    {
        Id = id,
        Source = "test",
        Type = message.Descriptor.FullName,
        Topic = EventTopics.For(message.Descriptor),
        Time = DateTimeOffset.UtcNow,
        DataJson = EventJson.Format(message),
        PubSubName = "pubsub",
    };

    /// <summary>Adds the very same CloudEvent to its topic again: a redelivery at the transport.</summary>
    public static Task RedeliverAsync(IDatabase db, CloudEvent e) =>
        db.StreamAddAsync(e.Topic, [new NameValueEntry("data", e.ToJsonBytes())]);
}
