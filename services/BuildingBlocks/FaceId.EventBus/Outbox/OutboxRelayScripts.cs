using FaceId.Redis;
using StackExchange.Redis;

namespace FaceId.EventBus.Outbox;

/// <summary>outbox-claim.lua: the relay's lock on one outbox and its first page, in one round trip.</summary>
public sealed class ClaimOutboxScript() : ScriptContract<ClaimOutboxScript.Request, StreamEntry[]?>(Loaded)
{
    private static readonly RedisScript Loaded = RedisScript.FromResource(typeof(ClaimOutboxScript).Assembly, "outbox-claim.lua");

    public static readonly ClaimOutboxScript Instance = new();

    public readonly record struct Request(RedisKey Outbox, RedisKey Lock, string Token, TimeSpan LockFor, int PageSize);

    public override ScriptCall Bind(Request r) => new([r.Outbox, r.Lock], [r.Token, (long)r.LockFor.TotalMilliseconds, r.PageSize]);

    /// <summary>Null when another relay holds the lock; otherwise the first page (empty: nothing to relay, no lock taken).</summary>
    public override StreamEntry[]? Parse(RedisResult reply) => reply.Resp2Type switch
    {
        ResultType.Integer when (long)reply == 0 => null,
        ResultType.Array => OutboxPage.Parse(reply),
        _ => throw Unexpected($"'{reply}'"),
    };
}

/// <summary>
/// outbox-next.lua: deletes a published page, reads the next one and, when none is left, releases the lock
/// (compare-and-delete on the relay's token), in one round trip.
/// </summary>
public sealed class NextOutboxPageScript() : ScriptContract<NextOutboxPageScript.Request, StreamEntry[]>(Loaded)
{
    private static readonly RedisScript Loaded = RedisScript.FromResource(typeof(NextOutboxPageScript).Assembly, "outbox-next.lua");

    public static readonly NextOutboxPageScript Instance = new();

    public readonly record struct Request(RedisKey Outbox, RedisKey Lock, string Token, int PageSize, IReadOnlyList<RedisValue> Published);

    public override ScriptCall Bind(Request r)
    {
        var args = new RedisValue[2 + r.Published.Count];
        args[0] = r.Token;
        args[1] = r.PageSize;
        for (var i = 0; i < r.Published.Count; i++) args[2 + i] = r.Published[i];
        return new([r.Outbox, r.Lock], args);
    }

    /// <summary>The next page; empty when the outbox is drained (and the lock released, if still the relay's).</summary>
    public override StreamEntry[] Parse(RedisResult reply) => OutboxPage.Parse(reply);
}

/// <summary>An XRANGE reply returned by a script, as the stream entries StreamRangeAsync would give.</summary>
internal static class OutboxPage
{
    public static StreamEntry[] Parse(RedisResult reply) => Array.ConvertAll((RedisResult[])reply!, entry =>
    {
        var parts = (RedisResult[])entry!;
        var flat = (RedisResult[])parts[1]!;
        var fields = new NameValueEntry[flat.Length / 2];
        for (var i = 0; i < fields.Length; i++) fields[i] = new NameValueEntry((RedisValue)flat[2 * i], (RedisValue)flat[2 * i + 1]);
        return new StreamEntry((RedisValue)parts[0], fields);
    });
}
