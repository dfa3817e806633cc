using System.Globalization;
using System.Text.Json;
using FaceId.Billing.Domain;
using FaceId.Common;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus.Outbox;
using FaceId.Redis;
using StackExchange.Redis;

namespace FaceId.Billing.Infrastructure;

/// <summary>Billing's view of an account (<c>{acct:M}:bil:acct</c>).</summary>
public sealed record AccountState(
    string AccountId,
    DateTimeOffset ActivatedAt,
    string PriceBook,
    Settlement Cycle,
    long Seq,
    string? SettledThrough,
    long BalanceFen,
    long ArrearsFen,
    DateTimeOffset? ArrearsSince,
    bool Suspended)
{
    public BillingPeriod FirstPeriod => BillingPeriod.Containing(Cycle, ActivatedAt);

    /// <summary>The first period not settled yet.</summary>
    public BillingPeriod NextToSettle => SettledThrough is null
        ? FirstPeriod
        : ParsePeriod(SettledThrough).Next;

    public BillingPeriod ParsePeriod(string key) =>
        BillingPeriod.FromBillId(Cycle, "bill-" + key) ?? throw new InvalidOperationException($"'{key}' is not a {Cycle} period key");
}

/// <summary>A bill as stored: immutable once issued (its payment state lives in the due hash).</summary>
public sealed record BillRecord(
    string BillId,
    string AccountId,
    string Period,
    Settlement Cycle,
    string PriceBook,
    DateTimeOffset PeriodStart,
    DateTimeOffset PeriodEnd,
    DateTimeOffset IssuedAt,
    IReadOnlyList<BillLineItem> Lines,
    long TotalFen);

public sealed record IssuedBill(BillRecord Bill, long OutstandingFen);

public enum IssueStatus { Issued, Exists, Conflict }

public sealed record TopUpOutcome(bool Duplicate, long AmountFen, long BalanceFen, long ArrearsFen, bool Suspended, DateTimeOffset? ArrearsSince);

public enum SuspendStatus { Suspended, Later, Already, Clear }

/// <summary>
/// All of Billing's Redis access. Every multi-key change is one Lua script in the account's slot
/// (<c>{acct:M}:bil:*</c> and the account's outbox); the global scheduler indexes are updated by
/// separate single-key commands that are safe to repeat.
/// </summary>
public sealed class BillingStore(IDatabase redis, OutboxRelay outbox)
{
    private static readonly RedisScript ApplyUsageScript = Load("apply-usage.lua");
    private static readonly RedisScript ApplyBackdateScript = Load("apply-backdate.lua");
    private static readonly RedisScript ActivateScript = Load("activate.lua");
    private static readonly RedisScript AddPrepaidScript = Load("add-prepaid.lua");
    private static readonly OutboxScript IssueBillScript = LoadWithOutbox("issue-bill.lua");
    private static readonly OutboxScript TopUpScript = LoadWithOutbox("top-up.lua");
    private static readonly OutboxScript SuspendScript = LoadWithOutbox("suspend.lua");
    private static readonly RedisScript ReleaseClaimScript = Load("release-claim.lua");
    private static readonly RedisScript UnindexArrearsScript = Load("unindex-arrears.lua");
    private static readonly OutboxScript CreditRefundScript = LoadWithOutbox("credit-refund.lua");

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static RedisScript Load(string name) => RedisScript.FromResource(typeof(BillingStore).Assembly, name);
    private static OutboxScript LoadWithOutbox(string name) => OutboxScript.FromResource(typeof(BillingStore).Assembly, name);

    // ---- accounts ----------------------------------------------------------------------------

    public async Task<bool> ActivateAsync(string accountId, DateTimeOffset activatedAt, string priceBook, Settlement cycle) =>
        (long)await ActivateScript.RunAsync(redis, [BillingKeys.Account(accountId)],
            [activatedAt.ToUnixTimeMilliseconds(), priceBook, CycleName(cycle)]) == 1;

    public async Task<AccountState?> GetAccountAsync(string accountId)
    {
        var h = (await redis.HashGetAllAsync(BillingKeys.Account(accountId))).ToDictionary(e => (string)e.Name!, e => e.Value);
        if (!h.TryGetValue("activated_at", out var activated)) return null;
        long L(string f) => h.TryGetValue(f, out var v) && !v.IsNullOrEmpty ? (long)v : 0;
        return new AccountState(
            accountId,
            DateTimeOffset.FromUnixTimeMilliseconds((long)activated),
            h["price_book"]!,
            h["cycle"] == "daily" ? Settlement.Daily : Settlement.Monthly,
            L("seq"),
            h.TryGetValue("settled_through", out var st) ? (string)st! : null,
            L("balance_fen"),
            L("arrears_fen"),
            h.TryGetValue("arrears_since", out var since) && !since.IsNullOrEmpty ? DateTimeOffset.FromUnixTimeMilliseconds((long)since) : null,
            h.TryGetValue("suspended", out var s) && s == "1");
    }

    /// <summary>Adds the account to the settlement index unless it is there (the scheduler moves its score on).</summary>
    public Task IndexForSettlementAsync(string accountId, DateTimeOffset dueAt) =>
        redis.SortedSetAddAsync(BillingKeys.SettlementIndex, accountId, dueAt.ToUnixTimeMilliseconds(), SortedSetWhen.NotExists);

    public Task SetSettlementDueAsync(string accountId, DateTimeOffset dueAt) =>
        redis.SortedSetAddAsync(BillingKeys.SettlementIndex, accountId, dueAt.ToUnixTimeMilliseconds());

    public async Task<IReadOnlyList<string>> DueForSettlementAsync(DateTimeOffset now, int take) =>
        (await redis.SortedSetRangeByScoreAsync(BillingKeys.SettlementIndex, double.NegativeInfinity, now.ToUnixTimeMilliseconds(), take: take))
        .Select(v => (string)v!).ToList();

    public async IAsyncEnumerable<string> AllAccountsAsync()
    {
        await foreach (var e in redis.SortedSetScanAsync(BillingKeys.SettlementIndex, pageSize: 500))
            yield return (string)e.Element!;
    }

    // ---- usage -------------------------------------------------------------------------------

    public sealed record UsageRow(string RequestId, char Kind, string Day, string Label, int AccessMode, string SubAccountId);

    public async Task<(long Applied, long Duplicates)> ApplyUsageAsync(string accountId, IReadOnlyList<UsageRow> rows, TimeSpan requestRetention, TimeSpan statsRetention)
    {
        var args = new RedisValue[4 + rows.Count * 6];
        args[0] = BillingKeys.Tag(accountId);
        args[1] = (long)requestRetention.TotalSeconds;
        args[2] = (long)statsRetention.TotalSeconds;
        args[3] = rows.Count;
        var i = 4;
        foreach (var r in rows)
        {
            args[i++] = r.RequestId;
            args[i++] = r.Kind.ToString();
            args[i++] = r.Day;
            args[i++] = r.Label;
            args[i++] = r.AccessMode;
            args[i++] = r.SubAccountId;
        }
        var result = (RedisResult[])(await ApplyUsageScript.RunAsync(redis, [BillingKeys.MonthVersions(accountId)], args))!;
        return ((long)result[0], (long)result[1]);
    }

    public async Task<(long Moved, long Marked)> ApplyBackdateAsync(string accountId, string packageId, string label, IReadOnlyList<string> requestIds, TimeSpan requestRetention)
    {
        var args = new List<RedisValue> { BillingKeys.Tag(accountId), (long)requestRetention.TotalSeconds, packageId, label, requestIds.Count };
        args.AddRange(requestIds.Select(r => (RedisValue)r));
        var result = (RedisResult[])(await ApplyBackdateScript.RunAsync(redis, [BillingKeys.MonthVersions(accountId)], args.ToArray()))!;
        return ((long)result[0], (long)result[1]);
    }

    /// <summary>Billing's day cells of the given Shanghai days (one HGETALL per day, pipelined).</summary>
    public async Task<IReadOnlyList<StatCell>> ReadCellsAsync(string accountId, IEnumerable<DateOnly> days)
    {
        var list = days.Distinct().ToList();
        var reads = list.Select(d => redis.HashGetAllAsync(BillingKeys.DayStats(accountId, Months.DayKey(d)))).ToArray();
        var hashes = await Task.WhenAll(reads);
        var cells = new List<StatCell>();
        for (var k = 0; k < list.Count; k++)
        {
            var byCell = new Dictionary<(string Label, int Mode, string Sub), long[]>();
            foreach (var e in hashes[k])
            {
                var parts = ((string)e.Name!).Split('|');
                if (parts.Length != 4 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var mode))
                    throw new InvalidOperationException($"statistics field '{e.Name}' of {accountId} is not label|mode|sub|counter");
                var slot = parts[3] switch
                {
                    "c" => 0, "b" => 1, "p" => 2, "o" => 3,
                    _ => throw new InvalidOperationException($"statistics field '{e.Name}' of {accountId} has an unknown counter"),
                };
                var key = (parts[0], mode, parts[2]);
                if (!byCell.TryGetValue(key, out var v)) byCell[key] = v = new long[4];
                v[slot] += (long)e.Value;
            }
            cells.AddRange(byCell.Select(c => new StatCell(list[k], c.Key.Label, c.Key.Mode, c.Key.Sub, c.Value[0], c.Value[1], c.Value[2], c.Value[3])));
        }
        return cells;
    }

    /// <summary>The ledger's day counters ("label|P|O|N"), read-only (R-BIL-3).</summary>
    public async Task<IReadOnlyDictionary<DateOnly, IReadOnlyDictionary<string, long>>> ReadLedgerDaysAsync(string accountId, IEnumerable<DateOnly> days)
    {
        var list = days.Distinct().ToList();
        var hashes = await Task.WhenAll(list.Select(d => redis.HashGetAllAsync(BillingKeys.LedgerDayCounters(accountId, Months.DayKey(d)))));
        var result = new Dictionary<DateOnly, IReadOnlyDictionary<string, long>>();
        for (var k = 0; k < list.Count; k++)
            result[list[k]] = hashes[k].ToDictionary(e => (string)e.Name!, e => (long)e.Value);
        return result;
    }

    public async Task<IReadOnlyDictionary<string, long>> ReadMonthVersionsAsync(string accountId) =>
        (await redis.HashGetAllAsync(BillingKeys.MonthVersions(accountId))).ToDictionary(e => (string)e.Name!, e => (long)e.Value);

    /// <summary>What was billed so far per label of a month.</summary>
    public async Task<IReadOnlyDictionary<string, BilledSoFar>> ReadBilledAsync(string accountId, string yyyyMM)
    {
        var calls = new Dictionary<string, long>();
        var fen = new Dictionary<string, long>();
        foreach (var e in await redis.HashGetAllAsync(BillingKeys.Billed(accountId, yyyyMM)))
        {
            var name = (string)e.Name!;
            var bar = name.LastIndexOf('|');
            if (bar <= 0) continue;
            var label = name[..bar];
            if (name.EndsWith("|calls", StringComparison.Ordinal)) calls[label] = (long)e.Value;
            else if (name.EndsWith("|fen", StringComparison.Ordinal)) fen[label] = (long)e.Value;
        }
        return calls.Keys.Union(fen.Keys).ToDictionary(l => l, l => new BilledSoFar(calls.GetValueOrDefault(l), fen.GetValueOrDefault(l)));
    }

    /// <summary>The counters' version each month had when a bill last brought it up to date (absent: never).</summary>
    public async Task<IReadOnlyDictionary<string, long>> ReadBilledVersionsAsync(string accountId, IEnumerable<string> months)
    {
        var list = months.ToList();
        var versions = await Task.WhenAll(list.Select(m => redis.HashGetAsync(BillingKeys.Billed(accountId, m), "ver")));
        return list.Select((m, i) => (m, v: versions[i])).Where(x => !x.v.IsNull).ToDictionary(x => x.m, x => (long)x.v);
    }

    // ---- prepaid charges and refund credits ---------------------------------------------------

    public async Task<bool> AddPrepaidAsync(string accountId, PrepaidCharge p, string priceBook)
    {
        var member = "pkg:" + p.PackageId;
        return (long)await AddPrepaidScript.RunAsync(redis, [BillingKeys.Item(accountId, member), BillingKeys.Unbilled(accountId)],
        [
            member, p.PurchasedAt.ToUnixTimeMilliseconds(),
            "label", p.Label, "size", p.Size, "price_fen", p.PriceFen, "purchased_at", p.PurchasedAt.ToUnixTimeMilliseconds(), "price_book", priceBook,
        ]) == 1;
    }

    /// <summary>Credits a completed refund to the balance now and queues it for the next bill, once per refund id (R-REF-3).</summary>
    public async Task<bool> CreditRefundAsync(string accountId, string refundId, string packageId, long amountFen, DateTimeOffset completedAt, DateTimeOffset now)
    {
        var tag = BillingKeys.Tag(accountId);
        await outbox.RegisterAsync(tag);
        var credited = (long)await CreditRefundScript.RunAsync(redis,
        [
            BillingKeys.Account(accountId), BillingKeys.Item(accountId, "ref:" + refundId), BillingKeys.Unbilled(accountId),
            BillingKeys.Due(accountId), BillingKeys.Outbox(accountId),
        ],
        [
            accountId, refundId, packageId, amountFen, completedAt.ToUnixTimeMilliseconds(), now.ToUnixTimeMilliseconds(), Iso(now),
            EventTopics.ServiceResumed, ServiceResumed.Descriptor.FullName,
        ]) == 1;
        if (credited) outbox.Notify(tag);
        return credited;
    }

    /// <summary>Prepaid charges and refund credits not yet on a bill, that happened before <paramref name="before"/>.</summary>
    public async Task<(IReadOnlyList<PrepaidCharge> Prepaid, IReadOnlyList<RefundCredit> Refunds)> ReadUnbilledAsync(string accountId, DateTimeOffset before)
    {
        var members = await redis.SortedSetRangeByScoreAsync(BillingKeys.Unbilled(accountId), double.NegativeInfinity,
            before.ToUnixTimeMilliseconds(), Exclude.Stop);
        var prepaid = new List<PrepaidCharge>();
        var refunds = new List<RefundCredit>();
        foreach (var m in members.Select(v => (string)v!))
        {
            var h = await ReadItemAsync(accountId, m);
            if (h is null) continue;
            var id = m[4..];
            if (m.StartsWith("pkg:", StringComparison.Ordinal))
            {
                prepaid.Add(new PrepaidCharge(id, h["label"], long.Parse(h["size"], CultureInfo.InvariantCulture),
                    long.Parse(h["price_fen"], CultureInfo.InvariantCulture), Ms(h["purchased_at"])));
            }
            else
            {
                var packageId = h["package_id"];
                var package = await ReadItemAsync(accountId, "pkg:" + packageId);
                refunds.Add(new RefundCredit(id, packageId, package?.GetValueOrDefault("label") ?? "",
                    package is null ? 0 : long.Parse(package["size"], CultureInfo.InvariantCulture),
                    long.Parse(h["amount_fen"], CultureInfo.InvariantCulture), Ms(h["completed_at"])));
            }
        }
        return (prepaid, refunds);
    }

    private async Task<Dictionary<string, string>?> ReadItemAsync(string accountId, string member)
    {
        var h = await redis.HashGetAllAsync(BillingKeys.Item(accountId, member));
        return h.Length == 0 ? null : h.ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
    }

    // ---- bills ---------------------------------------------------------------------------------

    public async Task<(IssueStatus Status, long OutstandingFen, long ArrearsFen, DateTimeOffset? ArrearsSince)> IssueBillAsync(
        AccountState account, BillDraft draft, IReadOnlyDictionary<string, long> monthVersions, BillRecord bill, DateTimeOffset now)
    {
        var tag = BillingKeys.Tag(account.AccountId);
        await outbox.RegisterAsync(tag);
        var args = new List<RedisValue>
        {
            tag, account.AccountId, account.Seq, bill.Period, bill.PeriodStart.ToUnixTimeMilliseconds(),
            JsonSerializer.Serialize(bill, Json), bill.TotalFen, draft.BalanceChargeFen,
            now.ToUnixTimeMilliseconds(), Iso(now),
            EventTopics.BillIssued, BillIssued.Descriptor.FullName, bill.BillId, Iso(bill.PeriodStart), Iso(bill.PeriodEnd),
            EventTopics.ServiceResumed, ServiceResumed.Descriptor.FullName,
        };
        var consumed = draft.PackagesCharged.Select(p => "pkg:" + p).Concat(draft.RefundsCredited.Select(r => "ref:" + r)).ToList();
        args.Add(consumed.Count);
        args.AddRange(consumed.Select(c => (RedisValue)c));
        var updates = draft.Billed.ToLookup(b => b.Month);
        args.Add(monthVersions.Count);
        foreach (var (month, version) in monthVersions)
        {
            args.Add(month);
            args.Add(version);
            args.Add(updates[month].Count());
            foreach (var b in updates[month])
            {
                args.Add(b.Label);
                args.Add(b.Calls);
                args.Add(b.Fen);
            }
        }
        var r = (RedisResult[])(await IssueBillScript.RunAsync(redis,
        [
            BillingKeys.Account(account.AccountId), BillingKeys.Bill(account.AccountId, bill.Period), BillingKeys.Bills(account.AccountId),
            BillingKeys.Unbilled(account.AccountId), BillingKeys.Due(account.AccountId), BillingKeys.Outbox(account.AccountId),
        ], args.ToArray()))!;
        switch ((string)r[0]!)
        {
            case "exists": return (IssueStatus.Exists, 0, 0, null);
            case "conflict": return (IssueStatus.Conflict, 0, 0, null);
        }
        outbox.Notify(tag);
        var since = (string)r[4]!;
        return (IssueStatus.Issued, (long)r[1], (long)r[3], since.Length > 0 ? Ms(since) : null);
    }

    public async Task<IssuedBill?> GetBillAsync(string accountId, string periodKey)
    {
        var json = await redis.StringGetAsync(BillingKeys.Bill(accountId, periodKey));
        if (json.IsNull) return null;
        var outstanding = await redis.HashGetAsync(BillingKeys.Due(accountId), periodKey);
        return new IssuedBill(JsonSerializer.Deserialize<BillRecord>((string)json!, Json)!, outstanding.IsNull ? 0 : (long)outstanding);
    }

    /// <summary>Period keys of the account's bills, newest first.</summary>
    public async Task<IReadOnlyList<string>> ListBillPeriodsAsync(string accountId) =>
        (await redis.SortedSetRangeByRankAsync(BillingKeys.Bills(accountId), order: Order.Descending)).Select(v => (string)v!).ToList();

    /// <summary>Period keys of the bills whose period starts in [<paramref name="from"/>, <paramref name="to"/>), oldest first, one page.</summary>
    public async Task<IReadOnlyList<string>> ListBillPeriodsAsync(string accountId, DateTimeOffset from, DateTimeOffset to, int skip, int take) =>
        (await redis.SortedSetRangeByScoreAsync(BillingKeys.Bills(accountId), from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds(),
            Exclude.Stop, Order.Ascending, skip, take)).Select(v => (string)v!).ToList();

    /// <summary>Remembers which period a SettlePeriod idempotency key was used for; returns the period of its first use.</summary>
    public async Task<string> RememberSettleKeyAsync(string accountId, string key, string periodKey, TimeSpan retention)
    {
        var k = BillingKeys.SettleKey(accountId, key);
        if (await redis.StringSetAsync(k, periodKey, retention, When.NotExists)) return periodKey;
        return (string?)await redis.StringGetAsync(k) ?? periodKey;
    }

    // ---- settlement claim ------------------------------------------------------------------------

    /// <summary>Claims the account's settlement for this replica; null when another holds it.</summary>
    public async Task<string?> TryClaimAsync(string accountId, TimeSpan lease)
    {
        var token = Guid.NewGuid().ToString("N");
        return await redis.StringSetAsync(BillingKeys.Claim(accountId), token, lease, When.NotExists) ? token : null;
    }

    public Task ReleaseClaimAsync(string accountId, string token) =>
        ReleaseClaimScript.RunAsync(redis, [BillingKeys.Claim(accountId)], [token]);

    // ---- balance and arrears ---------------------------------------------------------------------

    public async Task<TopUpOutcome?> TopUpAsync(string accountId, string idempotencyKey, long amountFen, DateTimeOffset now, TimeSpan keyRetention)
    {
        var tag = BillingKeys.Tag(accountId);
        await outbox.RegisterAsync(tag);
        var r = (RedisResult[])(await TopUpScript.RunAsync(redis,
            [BillingKeys.Account(accountId), BillingKeys.TopUp(accountId, idempotencyKey), BillingKeys.Due(accountId), BillingKeys.Outbox(accountId)],
            [
                accountId, amountFen, now.ToUnixTimeMilliseconds(), Iso(now), EventTopics.ServiceResumed, ServiceResumed.Descriptor.FullName,
                (long)keyRetention.TotalSeconds,
            ]))!;
        var status = (string)r[0]!;
        if (status == "unknown") return null;
        if (status == "ok") outbox.Notify(tag);
        var p = ((string)r[1]!).Split('|');
        return new TopUpOutcome(status == "dup", long.Parse(p[0], CultureInfo.InvariantCulture), long.Parse(p[1], CultureInfo.InvariantCulture),
            long.Parse(p[2], CultureInfo.InvariantCulture), p[3] == "1", p[4].Length > 0 ? Ms(p[4]) : null);
    }

    /// <summary>
    /// Puts the account on the arrears index (the earliest due time wins): before a bill that may not
    /// be covered (so a crash after it can't hide the arrears), and after it with the exact time.
    /// </summary>
    public Task IndexForArrearsAsync(string accountId, DateTimeOffset suspendAt) =>
        redis.SortedSetAddAsync(BillingKeys.ArrearsIndex, accountId, suspendAt.ToUnixTimeMilliseconds(), SortedSetWhen.LessThan);

    public Task SetArrearsDueAsync(string accountId, DateTimeOffset suspendAt) =>
        redis.SortedSetAddAsync(BillingKeys.ArrearsIndex, accountId, suspendAt.ToUnixTimeMilliseconds());

    /// <summary>Drops the account's arrears index entry if it still has <paramref name="seenScore"/> (compare and delete).</summary>
    public Task UnindexArrearsAsync(string accountId, double seenScore) =>
        UnindexArrearsScript.RunAsync(redis, [BillingKeys.ArrearsIndex], [accountId, seenScore]);

    public async Task<IReadOnlyList<(string AccountId, double Score)>> DueForSuspensionAsync(DateTimeOffset now, int take) =>
        (await redis.SortedSetRangeByScoreWithScoresAsync(BillingKeys.ArrearsIndex, double.NegativeInfinity, now.ToUnixTimeMilliseconds(), take: take))
        .Select(e => ((string)e.Element!, e.Score)).ToList();

    public async Task<(SuspendStatus Status, DateTimeOffset? DueAt)> SuspendIfDueAsync(string accountId, DateTimeOffset now, TimeSpan after)
    {
        var tag = BillingKeys.Tag(accountId);
        await outbox.RegisterAsync(tag);
        var r = (RedisResult[])(await SuspendScript.RunAsync(redis,
            [BillingKeys.Account(accountId), BillingKeys.Due(accountId), BillingKeys.Outbox(accountId)],
            [
                accountId, now.ToUnixTimeMilliseconds(), Iso(now), (long)after.TotalMilliseconds,
                EventTopics.ServiceSuspended, ServiceSuspended.Descriptor.FullName,
            ]))!;
        switch (SuspendStatusOf((string)r[0]!))
        {
            case SuspendStatus.Suspended:
                outbox.Notify(tag);
                return (SuspendStatus.Suspended, null);
            case SuspendStatus.Later:
                return (SuspendStatus.Later, Ms((string)r[1]!));
            case var status:
                return (status, null);
        }
    }

    /// <summary>suspend.lua's answer; an unknown one is a fault, never "clear".</summary>
    public static SuspendStatus SuspendStatusOf(string answer) => answer switch
    {
        "suspended" => SuspendStatus.Suspended,
        "later" => SuspendStatus.Later,
        "already" => SuspendStatus.Already,
        "clear" => SuspendStatus.Clear,
        _ => throw new InvalidOperationException($"suspend.lua answered unknown status '{answer}'"),
    };

    // ---- helpers -------------------------------------------------------------------------------

    public static string CycleName(Settlement cycle) => cycle == Settlement.Daily ? "daily" : "monthly";

    private static DateTimeOffset Ms(string ms) => DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(ms, CultureInfo.InvariantCulture));

    public static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}
