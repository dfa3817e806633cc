using StackExchange.Redis;

namespace FaceId.Redis;

/// <summary>compare-and-delete.lua: releases a lock, lease or claim only while it still holds the caller's token.</summary>
public sealed class CompareAndDelete() : ScriptContract<CompareAndDelete.Request, bool>(Loaded)
{
    private static readonly RedisScript Loaded = RedisScript.FromResource(typeof(CompareAndDelete).Assembly, "compare-and-delete.lua");

    public static readonly CompareAndDelete Instance = new();

    public readonly record struct Request(RedisKey Key, string Token);

    public override ScriptCall Bind(Request request) => new([request.Key], [request.Token]);

    /// <summary>True when the key held the token and is now deleted.</summary>
    public override bool Parse(RedisResult reply) => (long)reply switch
    {
        1 => true,
        0 => false,
        var n => throw Unexpected($"{n}"),
    };
}

/// <summary>claim-due.lua: claims the due members of a <see cref="LeasedSchedule"/> until the lease's end.</summary>
public sealed class ClaimDue() : ScriptContract<ClaimDue.Request, IReadOnlyList<string>>(Loaded)
{
    private static readonly RedisScript Loaded = RedisScript.FromResource(typeof(ClaimDue).Assembly, "claim-due.lua");

    public static readonly ClaimDue Instance = new();

    public readonly record struct Request(RedisKey Schedule, DateTimeOffset DueBy, DateTimeOffset LeaseUntil, int Max);

    public override ScriptCall Bind(Request request) =>
        new([request.Schedule], [request.DueBy.ToUnixTimeMilliseconds(), request.LeaseUntil.ToUnixTimeMilliseconds(), request.Max]);

    public override IReadOnlyList<string> Parse(RedisResult reply) => System.Array.ConvertAll(Array(reply), m => (string)m!);
}
