namespace FaceId.Redis;

/// <summary>
/// Key naming. Every key of one account carries the hash tag <c>{acct:ID}</c> so each Lua
/// script touches a single slot and the platform runs unchanged on Redis Cluster.
/// The full schema is in docs/redis-keys.md.
/// </summary>
public static class RedisKeys
{
    /// <summary>The hash tag of an account: <c>{acct:ID}</c>.</summary>
    public static string AccountTag(string accountId) => "{acct:" + accountId + "}";

    /// <summary>A key in the account's slot: <c>{acct:ID}:suffix</c>.</summary>
    public static string ForAccount(string accountId, string suffix) => AccountTag(accountId) + ":" + suffix;

    /// <summary>The outbox stream of a slot: <c>{tag}:outbox</c> (decision 7, docs/architecture.md).</summary>
    public static string Outbox(string hashTag) => hashTag + ":outbox";
}
