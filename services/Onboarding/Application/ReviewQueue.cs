using StackExchange.Redis;

namespace FaceId.Onboarding.Application;

/// <summary>
/// A reviewers' queue: members <c>M|&lt;id&gt;</c> scored by submission time (ms), each written before the record
/// it points at, so a crash never hides a filed record. Reading drops an entry whose record is decided, or
/// missing for longer than a submission can take (a crash's orphan); a missing record younger than that is a
/// submission in flight, which is kept and not listed (dropping it would hide the record once it lands).
/// </summary>
public static class ReviewQueue
{
    /// <summary>How long a pointer may wait for its record before it counts as an orphan.</summary>
    public static readonly TimeSpan OrphanAfter = TimeSpan.FromMinutes(5);

    public static string Member(string accountId, string recordId) => accountId + "|" + recordId;

    /// <summary>The pending records at ranks skip … skip + take − 1, oldest first, and whether more entries follow.</summary>
    public static async Task<(IReadOnlyList<T> Pending, bool More)> ReadAsync<T>(IDatabase redis, string key, int skip, int take,
        DateTimeOffset now, Func<string, string, Task<T?>> load, Func<T, bool> isPending) where T : class
    {
        var entries = await redis.SortedSetRangeByRankWithScoresAsync(key, skip, skip + take - 1);
        var pending = new List<T>();
        foreach (var e in entries)
        {
            var member = (string)e.Element!;
            var bar = member.IndexOf('|');
            var record = await load(member[..bar], member[(bar + 1)..]);
            if (record is not null && isPending(record)) pending.Add(record);
            else if (record is not null || now.ToUnixTimeMilliseconds() - (long)e.Score > OrphanAfter.TotalMilliseconds)
                await redis.SortedSetRemoveAsync(key, e.Element);
        }
        return (pending, await redis.SortedSetLengthAsync(key) > skip + take);
    }
}
