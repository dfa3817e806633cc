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

    /// <summary>String per applied usage record: "kind|yyyymmdd|label|mode|sub", or "B|package" (backdated first).</summary>
    public static string Request(string accountId, string requestId) => RedisKeys.ForAccount(accountId, "bil:req:" + requestId);

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

    /// <summary>String: the period a SettlePeriod idempotency key was used for.</summary>
    public static string SettleKey(string accountId, string key) => RedisKeys.ForAccount(accountId, "bil:settle:" + key);

    /// <summary>String: the settlement claim of the account (one replica settles it at a time).</summary>
    public static string Claim(string accountId) => RedisKeys.ForAccount(accountId, "bil:claim");

    public static string Outbox(string accountId) => RedisKeys.Outbox(Tag(accountId));
}
