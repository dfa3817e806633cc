using FaceId.Redis;

namespace FaceId.Refund.Application;

/// <summary>
/// The Refund service's key schema (docs/redis-keys.md): its records live in the account's slot so
/// that they change in one script with the package they refund.
/// </summary>
public static class RefundKeys
{
    public static string Tag(string accountId) => RedisKeys.AccountTag(accountId);
    public static string Outbox(string accountId) => RedisKeys.Outbox(Tag(accountId));

    public static string Refund(string accountId, string refundId) => RedisKeys.ForAccount(accountId, "ref:" + refundId);
    public static string History(string accountId, string refundId) => Refund(accountId, refundId) + ":history";
    public static string Idempotency(string accountId, string key) => RedisKeys.ForAccount(accountId, "ref:idem:" + key);
    /// <summary>Sorted set of the account's refund ids by request time.</summary>
    public static string List(string accountId) => RedisKeys.ForAccount(accountId, "refs");
}
