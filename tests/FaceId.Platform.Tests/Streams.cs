using StackExchange.Redis;

namespace FaceId.Platform.Tests;

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
}
