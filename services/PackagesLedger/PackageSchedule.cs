using FaceId.Redis;
using StackExchange.Redis;

namespace FaceId.Packages.Ledger;

/// <summary>
/// The time-based steps of packages (R-PKG-6 expiring/expired alerts, index pruning after the
/// late window) in one sorted set <c>ledger:schedule</c>, member <c>account|package|step</c>,
/// score = due time. Workers claim due members with a lease (claim-due.lua), so replicas never
/// run a step twice at once and a worker that dies leaves its claims to be retried.
/// </summary>
public sealed class PackageSchedule(IDatabase redis)
{
    public const string Key = "ledger:schedule";
    public static readonly TimeSpan ClaimLease = TimeSpan.FromMinutes(2);
    /// <summary>After expiry, the index keeps the package while late records may still use it (R-MET-4).</summary>
    public static readonly TimeSpan PruneAfterExpiry = TimeSpan.FromDays(8);

    public static readonly IReadOnlyList<(string Step, TimeSpan BeforeExpiry)> Steps =
    [
        ("EXPIRING_7D", TimeSpan.FromDays(7)),
        ("EXPIRING_1D", TimeSpan.FromDays(1)),
        ("EXPIRED", TimeSpan.Zero),
        ("PRUNE", -PruneAfterExpiry),
    ];

    private static readonly RedisScript ClaimScript = RedisScript.FromResource(typeof(PackageSchedule).Assembly, "claim-due.lua");

    public Task AddAsync(string accountId, IEnumerable<string> packageIds, DateTimeOffset expiresAt) =>
        redis.SortedSetAddAsync(Key, packageIds
            .SelectMany(id => Steps.Select(s => new SortedSetEntry(Member(accountId, id, s.Step), (expiresAt - s.BeforeExpiry).ToUnixTimeMilliseconds())))
            .ToArray());

    public Task RemoveAsync(string accountId, IEnumerable<string> packageIds) =>
        redis.SortedSetRemoveAsync(Key, packageIds.SelectMany(id => Steps.Select(s => (RedisValue)Member(accountId, id, s.Step))).ToArray());

    /// <summary>Claims up to <paramref name="max"/> due steps for this worker.</summary>
    public async Task<IReadOnlyList<(string AccountId, string PackageId, string Step, string Member)>> ClaimDueAsync(DateTimeOffset now, int max)
    {
        var members = (RedisResult[])(await ClaimScript.RunAsync(redis, [Key], [now.ToUnixTimeMilliseconds(), (long)ClaimLease.TotalMilliseconds, max]))!;
        return members.Select(m => (string)m!).Select(m =>
        {
            var p = m.Split('|');
            return (p[0], p[1], p[2], m);
        }).ToList();
    }

    public Task CompleteAsync(string member) => redis.SortedSetRemoveAsync(Key, member);

    private static string Member(string accountId, string packageId, string step) => $"{accountId}|{packageId}|{step}";
}
