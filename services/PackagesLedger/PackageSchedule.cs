using FaceId.Redis;
using StackExchange.Redis;

namespace FaceId.Packages.Ledger;

/// <summary>
/// The time-based steps of packages (R-PKG-6 expiring/expired alerts, index pruning after the
/// late window) in one sorted set <c>ledger:schedule</c>: ONE member <c>account|package</c> per
/// package, score = when its next step is due (memory: one member instead of one per step). Workers
/// claim due members with a lease (claim-due.lua), run every step due by then and move the member to
/// the next step's time, or remove it after the last; so replicas never run a package's steps at
/// the same time and a worker that dies leaves its claims to be retried (steps are idempotent).
/// </summary>
public sealed class PackageSchedule(IDatabase redis)
{
    public const string Key = "ledger:schedule";
    public static readonly TimeSpan ClaimLease = TimeSpan.FromMinutes(2);
    /// <summary>After expiry, the index keeps the package while late records may still use it (R-MET-4).</summary>
    public static readonly TimeSpan PruneAfterExpiry = TimeSpan.FromDays(8);

    /// <summary>The steps in due order.</summary>
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
            .Select(id => new SortedSetEntry(Member(accountId, id), (expiresAt - Steps[0].BeforeExpiry).ToUnixTimeMilliseconds()))
            .ToArray(), SortedSetWhen.NotExists);

    /// <summary>Claims up to <paramref name="max"/> due packages for this worker.</summary>
    public async Task<IReadOnlyList<(string AccountId, string PackageId, string? Step, string Member)>> ClaimDueAsync(DateTimeOffset now, int max)
    {
        var members = (RedisResult[])(await ClaimScript.RunAsync(redis, [Key], [now.ToUnixTimeMilliseconds(), (long)ClaimLease.TotalMilliseconds, max]))!;
        return members.Select(m => (string)m!).Select(m =>
        {
            var p = m.Split('|');
            // "account|package|step": a member written before one member per package (one step only).
            return (p[0], p[1], p.Length > 2 ? p[2] : null, m);
        }).ToList();
    }

    /// <summary>The steps of a package expiring at <paramref name="expiresAt"/> due at <paramref name="now"/>, and when the next one is due (null: none left).</summary>
    public static (IReadOnlyList<string> Due, DateTimeOffset? Next) StepsAt(DateTimeOffset expiresAt, DateTimeOffset now)
    {
        var due = Steps.Where(s => expiresAt - s.BeforeExpiry <= now).Select(s => s.Step).ToList();
        var next = Steps.Select(s => expiresAt - s.BeforeExpiry).Where(t => t > now).Cast<DateTimeOffset?>().FirstOrDefault();
        return (due, next);
    }

    /// <summary>Moves a claimed member to its next step's time.</summary>
    public Task RescheduleAsync(string member, DateTimeOffset next) => redis.SortedSetAddAsync(Key, member, next.ToUnixTimeMilliseconds());

    public Task CompleteAsync(string member) => redis.SortedSetRemoveAsync(Key, member);

    private static string Member(string accountId, string packageId) => $"{accountId}|{packageId}";
}
