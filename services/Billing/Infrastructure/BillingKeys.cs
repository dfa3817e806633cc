using FaceId.Redis;

namespace FaceId.Billing.Infrastructure;

/// <summary>
/// Billing's key schema (docs/redis-keys.md). Every key of an account is <c>{acct:M}:bil:*</c>, in
/// the account's slot, so each script touches one slot; the two scheduler indexes are global keys
/// of their own, written separately (never in a script with account keys).
/// </summary>
public static class BillingKeys
{
    /// <summary>Zset of activated accounts, score = when the next period becomes due for settlement (unix ms).</summary>
    public const string SettlementIndex = "bil:accounts";

    /// <summary>Zset of accounts that may be in arrears, score = when the suspension becomes due (unix ms).</summary>
    public const string ArrearsIndex = "bil:arrears";

    public static string Tag(string accountId) => RedisKeys.AccountTag(accountId);

    /// <summary>
    /// READ ONLY, owned by Packages (the ledger's LedgerKeys.DayCounters, written by deduct.lua): the
    /// metered side of reconciliation (R-BIL-3). Reconciliation compares Billing's counts with the
    /// ledger's own, so it reads them where they are instead of a copy Billing would make from the
    /// same events (docs/architecture.md, key ownership: a shared prefix).
    /// </summary>
    public static string LedgerDayCounters(string accountId, string yyyyMMdd) => RedisKeys.ForAccount(accountId, "ctr:" + yyyyMMdd);

    /// <summary>Hash: activated_at, price_book, cycle, seq, settled_through, balance_fen, arrears_fen, arrears_since, suspended…</summary>
    public static string Account(string accountId) => RedisKeys.ForAccount(accountId, "bil:acct");

    /// <summary>
    /// Length of a request-id generation: the applied request ids of an account are fields of one
    /// hash per generation (<see cref="RequestIds"/>), written to the current one.
    /// </summary>
    public static readonly TimeSpan RequestIdGeneration = TimeSpan.FromDays(4);

    /// <summary>
    /// How long an applied request id is kept at least (docs/redis-keys.md: why 8 days suffice). A
    /// generation's hash expires this long after the generation ends, so an id is kept 8 to 12 days.
    /// </summary>
    public static readonly TimeSpan RequestIdRetention = TimeSpan.FromDays(8);

    public static long RequestIdGenerationAt(DateTimeOffset at) => at.ToUnixTimeMilliseconds() / (long)RequestIdGeneration.TotalMilliseconds;

    /// <summary>The lifetime, from <paramref name="now"/>, of the current generation's hash: to the generation's end plus the retention.</summary>
    public static TimeSpan RequestIdLifetime(DateTimeOffset now) =>
        TimeSpan.FromMilliseconds((RequestIdGenerationAt(now) + 1) * (long)RequestIdGeneration.TotalMilliseconds - now.ToUnixTimeMilliseconds())
        + RequestIdRetention;

    /// <summary>
    /// Length of a request id's field in the generation hashes: the first 14 bytes (112 bits) of the id's SHA-256,
    /// so the field is one 16-byte allocation in Redis whatever the id's length (a 36-character UUID takes 48).
    /// The collision risk is in docs/redis-keys.md (Billing's request ids).
    /// </summary>
    public const int RequestIdFieldLength = 14;

    /// <summary>A request id's field in <see cref="RequestIds"/>: the fixed-length binary digest of the id's UTF-8 text.</summary>
    public static byte[] RequestIdField(string requestId)
    {
        Span<byte> digest = stackalloc byte[System.Security.Cryptography.SHA256.HashSizeInBytes];
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(requestId), digest);
        return digest[..RequestIdFieldLength].ToArray();
    }

    /// <summary>
    /// Hash per generation: request id's field (<see cref="RequestIdField"/>) → the applied record's kind (P package, N not billable, B backdated
    /// before its usage arrived) or, for a postpaid record, "O" + "yyyymmdd|label|mode|sub" (what a backdating moves).
    /// </summary>
    public static string RequestIds(string accountId, long generation) => RequestIdPrefix(accountId) + generation.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The generation hashes' common prefix (a script completes it with the generations of <see cref="RequestIdGenerations"/>).</summary>
    public static string RequestIdPrefix(string accountId) => RedisKeys.ForAccount(accountId, "bil:rid:g");

    /// <summary>Set of the generations whose request-id hash may still exist (scripts drop the expired ones).</summary>
    public static string RequestIdGenerations(string accountId) => RedisKeys.ForAccount(accountId, "bil:rgen");

    /// <summary>Hash per Shanghai day: "label|mode|sub|c|b|p|o" counters (calls, billable, package, postpaid).</summary>
    public static string DayStats(string accountId, string yyyyMMdd) => RedisKeys.ForAccount(accountId, "bil:st:" + yyyyMMdd);

    /// <summary>Hash: month (yyyymm) → version, bumped by every change of the month's counters.</summary>
    public static string MonthVersions(string accountId) => RedisKeys.ForAccount(accountId, "bil:mver");

    /// <summary>Hash per month: "label|calls", "label|fen" — postpaid calls and amount billed so far.</summary>
    public static string Billed(string accountId, string yyyyMM) => RedisKeys.ForAccount(accountId, "bil:billed:" + yyyyMM);

    /// <summary>String: the issued bill (JSON), per period key.</summary>
    public static string Bill(string accountId, string periodKey) => RedisKeys.ForAccount(accountId, "bil:bill:" + periodKey);

    /// <summary>Zset of period keys by period start (listing).</summary>
    public static string Bills(string accountId) => RedisKeys.ForAccount(accountId, "bil:bills");

    /// <summary>Zset of prepaid charges and refund credits not yet on a bill ("pkg:id" | "ref:id"), by time.</summary>
    public static string Unbilled(string accountId) => RedisKeys.ForAccount(accountId, "bil:unbilled");

    /// <summary>Hash of one prepaid charge or refund credit ("pkg:id" | "ref:id").</summary>
    public static string Item(string accountId, string member) => RedisKeys.ForAccount(accountId, "bil:item:" + member);

    /// <summary>Hash: period key → outstanding fen of each unpaid bill.</summary>
    public static string Due(string accountId) => RedisKeys.ForAccount(accountId, "bil:due");

    /// <summary>String: the outcome of a top-up, per idempotency key.</summary>
    public static string TopUp(string accountId, string key) => RedisKeys.ForAccount(accountId, "bil:topup:" + key);

    /// <summary>Zset: the account's top-up log, one entry per top-up applied (<c>TopUpLogPart</c>), score = when (unix ms); kept with the account.</summary>
    public static string TopUps(string accountId) => RedisKeys.ForAccount(accountId, "bil:topups");

    /// <summary>String: the period a SettlePeriod idempotency key was used for.</summary>
    public static string SettleKey(string accountId, string key) => RedisKeys.ForAccount(accountId, "bil:settle:" + key);

    /// <summary>String: the settlement claim of the account (one replica settles it at a time).</summary>
    public static string Claim(string accountId) => RedisKeys.ForAccount(accountId, "bil:claim");

    public static string Outbox(string accountId) => RedisKeys.Outbox(Tag(accountId));
}
