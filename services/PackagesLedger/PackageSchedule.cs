using System.Globalization;
using FaceId.Common;
using FaceId.Redis;
using StackExchange.Redis;

namespace FaceId.Packages.Ledger;

/// <summary>
/// The time-based steps of packages (R-PKG-6 expiring/expired alerts, index pruning after the
/// late window) in one sorted set <c>ledger:schedule</c>. A package expires at 00:00 of its purchase
/// day a year later (R-PKG-2), so the packages an account bought on one day share every step time:
/// ONE member <c>account|day:yyyyMMdd</c> per account and purchase day, score = when its next step is
/// due (memory: one member for all of that day's packages). Workers claim due members with a lease
/// (LeasedSchedule, claim-due.lua of FaceId.Redis), run every step due by then on each package bought that day and move the member
/// to the next step's time, or remove it after the last (reschedule.lua: only if nobody moved it
/// meanwhile); so replicas never run a day's steps at the same time and a worker that dies leaves its
/// claims to be retried (steps are idempotent).
/// </summary>
public sealed class PackageSchedule(IDatabase redis)
{
    private readonly LeasedSchedule _claims = new(redis, Key);

    public const string Key = "ledger:schedule";
    public static readonly TimeSpan ClaimLease = TimeSpan.FromMinutes(2);
    /// <summary>After expiry, the index keeps the package while late records may still use it (R-MET-4).</summary>
    public static readonly TimeSpan PruneAfterExpiry = TimeSpan.FromDays(8);

    /// <summary>The steps in due order.</summary>
    public static readonly IReadOnlyList<(PackageStep Step, TimeSpan BeforeExpiry)> Steps =
    [
        (PackageStep.Expiring7D, TimeSpan.FromDays(7)),
        (PackageStep.Expiring1D, TimeSpan.FromDays(1)),
        (PackageStep.Expired, TimeSpan.Zero),
        (PackageStep.Prune, -PruneAfterExpiry),
    ];

    private const string DayPrefix = "day:";

    /// <summary>
    /// Schedules the steps of the packages <paramref name="accountId"/> buys at <paramref name="purchasedAt"/>.
    /// ZADD LT: a day already scheduled keeps its time unless this one is earlier (a package created
    /// with a purchase time so far back that a step of its day is already past runs it again, idempotently).
    /// </summary>
    public Task AddAsync(string accountId, DateTimeOffset purchasedAt) =>
        redis.SortedSetAddAsync(Key, Member(accountId, ChinaCalendar.DateOf(purchasedAt)),
            (ChinaCalendar.AnniversaryOf(purchasedAt) - Steps[0].BeforeExpiry).ToUnixTimeMilliseconds(), SortedSetWhen.LessThan);

    /// <summary>A claimed member: a purchase day of an account.</summary>
    public sealed record Due(string AccountId, DateOnly Day, string Member, DateTimeOffset ClaimedUntil);

    /// <summary>Claims up to <paramref name="max"/> due members for this worker.</summary>
    public async Task<IReadOnlyList<Due>> ClaimDueAsync(DateTimeOffset now, int max)
    {
        var until = now + ClaimLease;
        var members = await _claims.ClaimDueAsync(now, until, max);
        return members.Select(m =>
        {
            var p = m.Split('|');
            return new Due(p[0], DateOnly.ParseExact(p[1][DayPrefix.Length..], "yyyyMMdd", CultureInfo.InvariantCulture), m, until);
        }).ToList();
    }

    /// <summary>The steps of packages expiring at <paramref name="expiresAt"/> due at <paramref name="now"/>, and when the next one is due (null: none left).</summary>
    public static (IReadOnlyList<PackageStep> Due, DateTimeOffset? Next) StepsAt(DateTimeOffset expiresAt, DateTimeOffset now)
    {
        var due = Steps.Where(s => expiresAt - s.BeforeExpiry <= now).Select(s => s.Step).ToList();
        var next = Steps.Select(s => expiresAt - s.BeforeExpiry).Where(t => t > now).Cast<DateTimeOffset?>().FirstOrDefault();
        return (due, next);
    }

    /// <summary>Moves a claimed member to its next step's time (null: removes it), unless it was moved since the claim.</summary>
    public Task RescheduleAsync(Due claimed, DateTimeOffset? next) =>
        RescheduleScript.Instance.RunAsync(redis, new(Key, claimed.Member, claimed.ClaimedUntil, next));

    private static string Member(string accountId, DateOnly day) => $"{accountId}|{DayPrefix}{day.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}";
}
