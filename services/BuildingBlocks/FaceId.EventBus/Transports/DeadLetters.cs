using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FaceId.EventBus.Transports;

/// <summary>A dead-lettered event: visible, with why and how often it failed, and re-drivable.</summary>
public sealed record DeadLetter(string EntryId, string Topic, string ConsumerGroup, string OriginalEntryId, string Error, long Attempts, string CloudEventJson);

/// <summary>
/// Dead-letter streams: <c>&lt;topic&gt;.deadletter</c>, one entry per event a consumer group gave up
/// on. Re-driving puts the CloudEvent back on its topic with the same id; groups that had already
/// handled it skip it (idempotent consumers), the failing group handles it again.
/// </summary>
public sealed class DeadLetters(IDatabase redis, IOptions<EventBusOptions> options)
{
    public static string StreamOf(string topic) => topic + ".deadletter";

    public Task AddAsync(string topic, string group, string originalEntryId, RedisValue data, string error, long attempts) =>
        redis.StreamAddAsync(StreamOf(topic),
        [
            new NameValueEntry("data", data.IsNull ? RedisValue.EmptyString : data),
            new NameValueEntry("topic", topic),
            new NameValueEntry("group", group),
            new NameValueEntry("original_id", originalEntryId),
            new NameValueEntry("error", error.Length > 2000 ? error[..2000] : error),
            new NameValueEntry("attempts", attempts),
        ]);

    public async Task<IReadOnlyList<DeadLetter>> ListAsync(string topic, int count = 100)
    {
        var entries = await redis.StreamRangeAsync(StreamOf(topic), count: count);
        return entries.Select(e => new DeadLetter(e.Id!, topic, e["group"]!, e["original_id"]!, e["error"]!, (long)e["attempts"], e["data"]!)).ToList();
    }

    /// <summary>Publishes the dead letters back to their topic and removes them; returns how many.</summary>
    public async Task<int> RedriveAsync(string topic, int count = 100)
    {
        var letters = await ListAsync(topic, count);
        foreach (var letter in letters)
        {
            await redis.StreamAddAsync(topic, [new NameValueEntry(RedisStreamsTransport.DataField, letter.CloudEventJson)],
                maxLength: (int)Math.Min(int.MaxValue, options.Value.StreamMaxLength), useApproximateMaxLength: true);
            await redis.StreamDeleteAsync(StreamOf(topic), [letter.EntryId]);
        }
        return letters.Count;
    }
}
