using FaceId.Packages.Ledger;
using FaceId.Redis;
using StackExchange.Redis;

namespace FaceId.Refund.Application;

/// <summary>
/// A sorted set of work items claimed with a lease: each member's score is the time it becomes
/// due; a worker claims due members by moving their score to the end of its lease (the Packages
/// ledger's claim-due.lua, loaded from that assembly, unchanged), and removes a member once its
/// work is done. A worker that dies leaves its claims to come back when the lease ends.
/// </summary>
public class LeasedSchedule(IDatabase redis, string key)
{
    private static readonly RedisScript ClaimScript = RedisScript.FromResource(typeof(PackageSchedule).Assembly, "claim-due.lua");

    public string Key { get; } = key;

    public Task AddAsync(string member, DateTimeOffset score) => redis.SortedSetAddAsync(Key, member, score.ToUnixTimeMilliseconds());

    public Task RemoveAsync(string member) => redis.SortedSetRemoveAsync(Key, member);

    /// <summary>Claims up to <paramref name="max"/> members whose score is at or before <paramref name="dueBy"/>, until <paramref name="leaseUntil"/>.</summary>
    public async Task<IReadOnlyList<string>> ClaimDueAsync(DateTimeOffset dueBy, DateTimeOffset leaseUntil, int max)
    {
        // claim-due.lua leases until ARGV[1] + ARGV[2]; passing the cutoff as ARGV[1] needs the lease measured from it.
        var members = (RedisResult[])(await ClaimScript.RunAsync(redis, [Key],
            [dueBy.ToUnixTimeMilliseconds(), Math.Max(1, (leaseUntil - dueBy).Ticks / TimeSpan.TicksPerMillisecond), max]))!;
        return members.Select(m => (string)m!).ToList();
    }

    public Task<double?> ScoreAsync(string member) => redis.SortedSetScoreAsync(Key, member);
}

/// <summary>
/// <c>refund:pending</c>: every refund that may still need its credit, member <c>account|refund</c>,
/// score = request time (ms). Written BEFORE the freeze (pointer before data), removed once the
/// refund is credited, rejected or known never to have been frozen; the completion worker
/// finishes whatever a crash left behind (crash recovery: docs/api.md, Refund service).
/// </summary>
public sealed class PendingRefunds(IDatabase redis) : LeasedSchedule(redis, PendingKey)
{
    public const string PendingKey = "refund:pending";

    public static string Member(string accountId, string refundId) => accountId + "|" + refundId;

    /// <summary>Splits a member; false for a malformed one (account and refund ids never contain '|').</summary>
    public static bool TryParse(string member, out string accountId, out string refundId)
    {
        var parts = member.Split('|');
        (accountId, refundId) = parts.Length == 2 ? (parts[0], parts[1]) : ("", "");
        return parts.Length == 2 && parts[0].Length > 0 && parts[1].Length > 0;
    }

    public Task AddAsync(string accountId, string refundId, DateTimeOffset requestedAt) => AddAsync(Member(accountId, refundId), requestedAt);

    public Task RemoveAsync(string accountId, string refundId) => RemoveAsync(Member(accountId, refundId));
}
