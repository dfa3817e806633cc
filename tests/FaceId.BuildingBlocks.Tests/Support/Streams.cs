using System.Text.Json;
using FaceId.EventBus;
using StackExchange.Redis;

namespace FaceId.BuildingBlocks.Tests.Support;

/// <summary>Reads the Redis side of the bus, as an operator would with redis-cli.</summary>
public static class Streams
{
    /// <summary>Entries of a topic stream whose CloudEvent data has the given accountId.</summary>
    public static async Task<IReadOnlyList<StreamEntry>> EntriesForAccountAsync(IDatabase db, string topic, string accountId)
    {
        var entries = await db.StreamRangeAsync(topic);
        return entries.Where(e => AccountOf(e) == accountId).ToList();
    }

    public static string? AccountOf(StreamEntry entry)
    {
        try
        {
            using var doc = JsonDocument.Parse((string)entry["data"]!);
            return doc.RootElement.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object &&
                   data.TryGetProperty("accountId", out var a) ? a.GetString() : null;
        }
        catch (Exception e) when (e is JsonException or ArgumentNullException or InvalidOperationException)
        {
            return null;
        }
    }

    public static async Task<long> PendingAsync(IDatabase db, string topic, string group) =>
        (await db.StreamPendingAsync(topic, group)).PendingMessageCount;

    /// <summary>True once the group has read up to <paramref name="entryId"/> and acknowledged everything it read.</summary>
    public static async Task<bool> GroupCaughtUpAsync(IDatabase db, string topic, string group, RedisValue entryId)
    {
        var groups = await db.StreamGroupInfoAsync(topic);
        var info = groups.SingleOrDefault(g => g.Name == group);
        if (info.Name is null || info.LastDeliveredId is null) return false;
        return CompareIds(info.LastDeliveredId, entryId!) >= 0 && info.PendingMessageCount == 0;
    }

    public static int CompareIds(string a, string b)
    {
        static (long, long) Parse(string id)
        {
            var parts = id.Split('-');
            return (long.Parse(parts[0]), parts.Length > 1 ? long.Parse(parts[1]) : 0);
        }
        return Parse(a).CompareTo(Parse(b));
    }

    public static async Task<IReadOnlyList<StreamEntry>> DeadLettersAsync(IDatabase db, string topic, string group) =>
        (await db.StreamRangeAsync(FaceId.EventBus.Transports.DeadLetters.StreamOf(topic))).Where(e => e["group"] == group).ToList();

    public static RedisValue AddRaw(IDatabase db, string topic, RedisValue data) =>
        db.StreamAdd(topic, [new NameValueEntry("data", data)]);

    public static byte[] Json(CloudEvent e) => e.ToJsonBytes();
}
