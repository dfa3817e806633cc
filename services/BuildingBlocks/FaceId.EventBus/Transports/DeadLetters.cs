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
        return entries.Select(e => ToDeadLetter(topic, e)).ToList();
    }

    private static DeadLetter ToDeadLetter(string topic, StreamEntry e) =>
        new(e.Id!, topic, e["group"]!, e["original_id"]!, e["error"]!, (long)e["attempts"], e["data"]!);

    /// <summary>Publishes the topic's oldest <paramref name="count"/> dead letters back to it and removes them; returns how many.</summary>
    public async Task<int> RedriveAsync(string topic, int count = 100)
    {
        var letters = await ListAsync(topic, count);
        foreach (var letter in letters) await RedriveAsync(letter);
        return letters.Count;
    }

    /// <summary>
    /// Re-drives the named dead letters; an id no longer in the dead-letter stream (already
    /// re-driven) is skipped. Returns how many were put back. Two concurrent calls may both publish
    /// an entry: same event id, so consumers handle it once.
    /// </summary>
    public async Task<int> RedriveAsync(string topic, IEnumerable<string> entryIds)
    {
        var redriven = 0;
        foreach (var id in entryIds.Distinct(StringComparer.Ordinal))
        {
            var entries = await redis.StreamRangeAsync(StreamOf(topic), id, id, count: 1);
            if (entries.Length == 0) continue;
            await RedriveAsync(ToDeadLetter(topic, entries[0]));
            redriven++;
        }
        return redriven;
    }

    private async Task RedriveAsync(DeadLetter letter)
    {
        // Publish first, then delete: a crash in between leaves the letter to re-drive again (same event id).
        await redis.StreamAddAsync(letter.Topic, [new NameValueEntry(RedisStreamsTransport.DataField, letter.CloudEventJson)],
            maxLength: (int)Math.Min(int.MaxValue, options.Value.StreamMaxLength), useApproximateMaxLength: true);
        await redis.StreamDeleteAsync(StreamOf(letter.Topic), [letter.EntryId]);
    }
}
