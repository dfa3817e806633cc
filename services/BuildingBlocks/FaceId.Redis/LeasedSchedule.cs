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
    private static readonly RedisScript ClaimScript = RedisScript.FromResource(typeof(LeasedSchedule).Assembly, "claim-due.lua");

    public string Key { get; } = key;

    public Task AddAsync(string member, DateTimeOffset score) => redis.SortedSetAddAsync(Key, member, score.ToUnixTimeMilliseconds());

    public Task RemoveAsync(string member) => redis.SortedSetRemoveAsync(Key, member);

    public Task<double?> ScoreAsync(string member) => redis.SortedSetScoreAsync(Key, member);

    /// <summary>Claims up to <paramref name="max"/> members whose score is at or before <paramref name="dueBy"/>, until <paramref name="leaseUntil"/>.</summary>
    public async Task<IReadOnlyList<string>> ClaimDueAsync(DateTimeOffset dueBy, DateTimeOffset leaseUntil, int max)
    {
        var members = (RedisResult[])(await ClaimScript.RunAsync(redis, [Key],
            [dueBy.ToUnixTimeMilliseconds(), leaseUntil.ToUnixTimeMilliseconds(), max]))!;
        return members.Select(m => (string)m!).ToList();
    }
}
