using FaceId.EventBus;
using StackExchange.Redis;

namespace FaceId.Billing.Tests.Support;

public static class Streams
{
    /// <summary>True when the consumer group has read every entry of the stream and acknowledged them all.</summary>
    public static async Task<bool> ConsumedAllAsync(IDatabase db, string topic, string group = "billing")
    {
        var last = await db.StreamRangeAsync(topic, count: 1, messageOrder: Order.Descending);
        if (last.Length == 0) return true;
        var info = (await db.StreamGroupInfoAsync(topic)).SingleOrDefault(g => g.Name == group);
        return info.Name is not null && info.LastDeliveredId == last[0].Id && info.PendingMessageCount == 0;
    }

    /// <summary>The CloudEvents of a topic whose data mentions <paramref name="needle"/>, distinct by event id.</summary>
    public static async Task<IReadOnlyList<CloudEvent>> EventsAsync(IDatabase db, string topic, string needle) =>
        (await db.StreamRangeAsync(topic))
        .Select(e => CloudEvent.Parse((byte[])e["data"]!))
        .Where(e => e.DataJson.Contains(needle, StringComparison.Ordinal))
        .DistinctBy(e => e.Id)
        .ToList();
}
