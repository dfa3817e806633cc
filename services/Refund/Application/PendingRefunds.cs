using FaceId.Redis;
using StackExchange.Redis;

namespace FaceId.Refund.Application;

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
