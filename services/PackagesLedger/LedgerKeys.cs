using FaceId.Redis;

namespace FaceId.Packages.Ledger;

/// <summary>
/// The ledger's key schema (docs/redis-keys.md). All keys of a main account share its hash tag,
/// so every script runs in one slot.
/// </summary>
public static class LedgerKeys
{
    public static string Tag(string accountId) => RedisKeys.AccountTag(accountId);

    /// <summary>Hash: kind (main|sub), main (for a sub-account), state (opened|suspended), activated_at, price_book, cycle.</summary>
    public static string Service(string accountId) => RedisKeys.ForAccount(accountId, "svc");

    /// <summary>Hash of one package (see create-packages.lua for the fields).</summary>
    public static string Package(string accountId, string packageId) => RedisKeys.ForAccount(accountId, "pkg:" + packageId);

    /// <summary>Sorted set of every package of the account by purchase time (listing).</summary>
    public static string Packages(string accountId) => RedisKeys.ForAccount(accountId, "pkgs");

    /// <summary>Sorted set (lex) of the usable packages of a label, in deduction order (deduct.lua).</summary>
    public static string Available(string accountId, string label) => RedisKeys.ForAccount(accountId, "avail:" + label);

    /// <summary>String: the outcome of a recorded request id (idempotency), expiring after the late window.</summary>
    public static string Request(string accountId, string requestId) => RedisKeys.ForAccount(accountId, "req:" + requestId);

    /// <summary>String: package ids created under a purchase order id or a grant (exactly once).</summary>
    public static string Guard(string accountId, string name) => RedisKeys.ForAccount(accountId, "guard:" + name);

    /// <summary>Hash per Shanghai day: "label|P" package-deducted, "label|O" postpaid, "label|N" not billable.</summary>
    public static string DayCounters(string accountId, string day) => RedisKeys.ForAccount(accountId, "ctr:" + day);

    public static string Outbox(string accountId) => RedisKeys.Outbox(Tag(accountId));
}
