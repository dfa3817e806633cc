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

    /// <summary>Buckets of an account's package records: enough that 10,000s of packages stay in small, listpack-encoded hashes.</summary>
    public const int PackageBuckets = 1024;

    /// <summary>
    /// Hash holding the records of the account's packages whose id falls in one bucket: field = package
    /// id, value = the record (PackageRecordFormat). The bucket is the id's first 3 hex digits modulo
    /// 1,024, computed alike by lib-package.lua's pkg_bucket (given PKG_BUCKETS by PackageScriptLibrary.Preamble); an id not of the form pkg_&lt;hex&gt; maps to
    /// bucket 0, where it is no field (so it is simply not found).
    /// </summary>
    public static string PackageBucket(string accountId, string packageId)
    {
        var bucket = packageId.Length >= PackageLedger.PackageIdPrefix.Length + 3 && packageId.StartsWith(PackageLedger.PackageIdPrefix, StringComparison.Ordinal)
            && int.TryParse(packageId.AsSpan(PackageLedger.PackageIdPrefix.Length, 3), System.Globalization.NumberStyles.AllowHexSpecifier, null, out var hex) ? hex % PackageBuckets : 0;
        return RedisKeys.ForAccount(accountId, "pk:" + bucket);
    }

    /// <summary>Sorted set of the (Shanghai) days the account bought packages on, yyyyMMdd, score = the day's start (listing).</summary>
    public static string PurchaseDays(string accountId) => RedisKeys.ForAccount(accountId, "days");

    /// <summary>List of the ids of the packages bought on one day (yyyyMMdd), in creation order: listing and the expiry steps.</summary>
    public static string PurchasedOn(string accountId, string day) => RedisKeys.ForAccount(accountId, "day:" + day);

    /// <summary>Sorted set (lex) of the groups of usable packages of a label, in deduction order (each with its list of ids: lib-package.lua).</summary>
    public static string Available(string accountId, string label) => RedisKeys.ForAccount(accountId, "avail:" + label);

    /// <summary>
    /// Request ids are kept by the time they were charged, in generations of this length (the same
    /// constant the scripts get as RID_GENERATION_MS from PackageScriptLibrary.Preamble): a generation's keys are read while it or the next
    /// one is current and expire at the end of the next, so an id is found for at least 8 days after
    /// its charge — longer than any retry can come (the 7-day late window, R-MET-4) — whatever
    /// occurred time the retry carries.
    /// </summary>
    public static readonly TimeSpan RequestIdGeneration = TimeSpan.FromDays(8);

    /// <summary>The generation current at <paramref name="at"/>.</summary>
    public static long GenerationAt(DateTimeOffset at) => at.ToUnixTimeMilliseconds() / (long)RequestIdGeneration.TotalMilliseconds;

    /// <summary>
    /// Hash: request id → outcome (lib-usage.lua's rid_value form) of every record of the account charged
    /// during one generation (idempotency). One hash, so a batch reads and writes its ids in one command each.
    /// </summary>
    public static string RequestIds(string accountId, long generation) => RedisKeys.ForAccount(accountId, $"rid:g{generation}");

    /// <summary>
    /// Hash per Shanghai day, field <see cref="DayCounterField"/>: "label|P" package-deducted, "label|O" postpaid, "label|N" not billable
    /// for the main account's own calls; "label|sub|P" … for a sub-account's; and the refused calls per reason, each refused request
    /// id once ("label|S", "label|U", "label|E": <see cref="RefusedKinds"/>). R-BIL-3 compares them cell by cell.
    /// </summary>
    public static string DayCounters(string accountId, string day) => RedisKeys.ForAccount(accountId, "ctr:" + day);

    /// <summary>Between label and kind letter in a day counter's field (CTR_SEP in Lua).</summary>
    public const char DayCounterSeparator = FaceId.Common.LedgerDayCounterFormat.Separator;

    public static string DayCounterField(string label, ChargeKind kind, string subAccountId = "") =>
        (subAccountId.Length == 0 ? label : label + DayCounterSeparator + subAccountId) + DayCounterSeparator + ChargeKinds.Letter(kind);

    /// <summary>A day's counters are kept this long after the day's first charge (reconciliation; CTR_RETENTION_MS in deduct.lua).</summary>
    public static readonly TimeSpan DayCounterRetention = TimeSpan.FromDays(400);

    /// <summary>
    /// {acct:M}:postq:&lt;label&gt;:&lt;yyyymmdd&gt;, a day's postpaid request ids by time for same-day backdating (R-PKG-4), built by
    /// deduct.lua and create-packages.lua from the label and day: kept this long after its first call (POSTQ_RETENTION_MS), past the day's end.
    /// </summary>
    public static readonly TimeSpan PostpaidQueueRetention = TimeSpan.FromDays(3);

    public static string Outbox(string accountId) => RedisKeys.Outbox(Tag(accountId));
}
