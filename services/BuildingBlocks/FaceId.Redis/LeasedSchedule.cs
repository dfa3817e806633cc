using StackExchange.Redis;

namespace FaceId.Redis;

/// <summary>
/// A sorted set of work items claimed with a lease: each member's score is the time it becomes
/// due; a worker claims due members by moving their score to the end of its lease (claim-due.lua),
/// and removes or reschedules a member once its work is done. A worker that dies leaves its claims
/// to come back when the lease ends. The owner of the key is the service that constructs it.
/// </summary>
public class LeasedSchedule(IDatabase redis, string key)
{
    public string Key { get; } = key;

    public Task AddAsync(string member, DateTimeOffset score) => redis.SortedSetAddAsync(Key, member, score.ToUnixTimeMilliseconds());

    public Task RemoveAsync(string member) => redis.SortedSetRemoveAsync(Key, member);

    public Task<double?> ScoreAsync(string member) => redis.SortedSetScoreAsync(Key, member);

    /// <summary>Claims up to <paramref name="max"/> members whose score is at or before <paramref name="dueBy"/>, until <paramref name="leaseUntil"/>.</summary>
    public Task<IReadOnlyList<string>> ClaimDueAsync(DateTimeOffset dueBy, DateTimeOffset leaseUntil, int max) =>
        ClaimDue.Instance.RunAsync(redis, new ClaimDue.Request(Key, dueBy, leaseUntil, max));
}
