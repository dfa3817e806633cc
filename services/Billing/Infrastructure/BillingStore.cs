using System.Globalization;
using System.Text.Json;
using FaceId.Billing.Domain;
using FaceId.Common;
using FaceId.Billing.Infrastructure.Scripts;
using FaceId.EventBus.Outbox;
using FaceId.Redis;
using StackExchange.Redis;
using Fields = FaceId.Billing.Infrastructure.Scripts.BillingFormats.Account;
using Items = FaceId.Billing.Infrastructure.Scripts.BillingFormats.Items;

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
        BillingPeriod.FromBillId(Cycle, BillingPeriod.BillIdPrefix + key) ?? throw new InvalidOperationException($"'{key}' is not a {Cycle} period key");
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

/// <summary>One top-up as applied, from the account's top-up log.</summary>
public sealed record TopUpEntry(string IdempotencyKey, DateTimeOffset At, long AmountFen, long BalanceAfterFen, long ArrearsAfterFen);

/// <summary>
/// All of Billing's Redis access. Every multi-key change is one Lua script in the account's slot
/// (<c>{acct:M}:bil:*</c> and the account's outbox); the global scheduler indexes are updated by
/// separate single-key commands that are safe to repeat.
/// </summary>
public sealed class BillingStore(IDatabase redis, OutboxRelay outbox)
{
    // ---- accounts ----------------------------------------------------------------------------

    public Task<bool> ActivateAsync(string accountId, DateTimeOffset activatedAt, string priceBook, Settlement cycle) =>
        ActivateScript.Instance.RunAsync(redis, new(accountId, activatedAt, priceBook, cycle));

    public async Task<AccountState?> GetAccountAsync(string accountId)
    {
        var h = (await redis.HashGetAllAsync(BillingKeys.Account(accountId))).ToDictionary(e => (string)e.Name!, e => e.Value);
        if (!h.TryGetValue(Fields.ActivatedAt, out var activated)) return null;
        long L(string f) => h.TryGetValue(f, out var v) && !v.IsNullOrEmpty ? (long)v : 0;
        return new AccountState(
            accountId,
            DateTimeOffset.FromUnixTimeMilliseconds((long)activated),
            h[Fields.PriceBook]!,
            Fields.CycleOf(h[Fields.Cycle]!),
            L(Fields.Seq),
            h.TryGetValue(Fields.SettledThrough, out var st) ? (string)st! : null,
            L(Fields.BalanceFen),
            L(Fields.ArrearsFen),
            h.TryGetValue(Fields.ArrearsSince, out var since) && !since.IsNullOrEmpty ? DateTimeOffset.FromUnixTimeMilliseconds((long)since) : null,
            h.TryGetValue(Fields.Suspended, out var s) && s == BillingFormats.Yes);
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

    public Task<ApplyUsageScript.Result> ApplyUsageAsync(string accountId, IReadOnlyList<ApplyUsageScript.Record> records, DateTimeOffset now, TimeSpan statsRetention) =>
        ApplyUsageScript.Instance.RunAsync(redis, new(accountId, records, now, statsRetention));

    public Task<ApplyBackdateScript.Result> ApplyBackdateAsync(string accountId, string label, IReadOnlyList<string> requestIds, DateTimeOffset now) =>
        ApplyBackdateScript.Instance.RunAsync(redis, new(accountId, label, requestIds, now));

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
                var parts = ((string)e.Name!).Split(BillingFormats.Separator);
                if (parts.Length != BillingFormats.StatCounters.Parts || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var mode))
                    throw new InvalidOperationException($"statistics field '{e.Name}' of {accountId} is not label|mode|sub|counter");
                var slot = parts[3] switch
                {
                    BillingFormats.StatCounters.Calls => 0, BillingFormats.StatCounters.Billable => 1,
                    BillingFormats.StatCounters.Package => 2, BillingFormats.StatCounters.Postpaid => 3,
                    BillingFormats.StatCounters.RefusedSuspended => 4, BillingFormats.StatCounters.RefusedNotOpened => 5,
                    BillingFormats.StatCounters.RefusedNotVerified => 6,
                    _ => throw new InvalidOperationException($"statistics field '{e.Name}' of {accountId} has an unknown counter"),
                };
                var key = (parts[0], mode, parts[2]);
                if (!byCell.TryGetValue(key, out var v)) byCell[key] = v = new long[7];
                v[slot] += (long)e.Value;
            }
            cells.AddRange(byCell.Select(c => new StatCell(list[k], c.Key.Label, c.Key.Mode, c.Key.Sub, c.Value[0], c.Value[1], c.Value[2], c.Value[3],
                new RefusedCalls(c.Value[4], c.Value[5], c.Value[6]))));
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
            var bar = name.LastIndexOf(BillingFormats.Separator);
            if (bar <= 0) continue; // the month version
            var label = name[..bar];
            switch (name[(bar + 1)..])
            {
                case BillingFormats.Billed.Calls: calls[label] = (long)e.Value; break;
                case BillingFormats.Billed.Fen: fen[label] = (long)e.Value; break;
                default: throw new InvalidOperationException($"billed field '{name}' of {accountId} is not label|calls or label|fen");
            }
        }
        return calls.Keys.Union(fen.Keys).ToDictionary(l => l, l => new BilledSoFar(calls.GetValueOrDefault(l), fen.GetValueOrDefault(l)));
    }

    /// <summary>The counters' version each month had when a bill last brought it up to date (absent: never).</summary>
    public async Task<IReadOnlyDictionary<string, long>> ReadBilledVersionsAsync(string accountId, IEnumerable<string> months)
    {
        var list = months.ToList();
        var versions = await Task.WhenAll(list.Select(m => redis.HashGetAsync(BillingKeys.Billed(accountId, m), BillingFormats.Billed.Version)));
        return list.Select((m, i) => (m, v: versions[i])).Where(x => !x.v.IsNull).ToDictionary(x => x.m, x => (long)x.v);
    }

    // ---- prepaid charges and refund credits ---------------------------------------------------

    public Task<bool> AddPrepaidAsync(string accountId, PrepaidCharge p, string priceBook) =>
        AddPrepaidScript.Instance.RunAsync(redis, new(accountId, p, priceBook));

    /// <summary>Credits a completed refund to the balance now and queues it for the next bill, once per refund id (R-REF-3).</summary>
    public async Task<bool> CreditRefundAsync(string accountId, string refundId, string packageId, long amountFen, DateTimeOffset completedAt, DateTimeOffset now)
    {
        var tag = BillingKeys.Tag(accountId);
        await outbox.RegisterAsync(tag);
        var credited = await CreditRefundScript.Instance.RunAsync(redis, new(accountId, refundId, packageId, amountFen, completedAt, now));
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
            if (m.StartsWith(Items.PackagePrefix, StringComparison.Ordinal))
            {
                prepaid.Add(new PrepaidCharge(m[Items.PackagePrefix.Length..], h[Items.Label], long.Parse(h[Items.Size], CultureInfo.InvariantCulture),
                    long.Parse(h[Items.PriceFen], CultureInfo.InvariantCulture), Ms(h[Items.PurchasedAt])));
            }
            else if (m.StartsWith(Items.RefundPrefix, StringComparison.Ordinal))
            {
                var packageId = h[Items.PackageId];
                var package = await ReadItemAsync(accountId, Items.Package(packageId));
                refunds.Add(new RefundCredit(m[Items.RefundPrefix.Length..], packageId, package?.GetValueOrDefault(Items.Label) ?? "",
                    package is null ? 0 : long.Parse(package[Items.Size], CultureInfo.InvariantCulture),
                    long.Parse(h[Items.AmountFen], CultureInfo.InvariantCulture), Ms(h[Items.CompletedAt])));
            }
            else
            {
                throw new InvalidOperationException($"unbilled member '{m}' of {accountId} is neither a package nor a refund");
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

    public async Task<IssueBillScript.Result> IssueBillAsync(
        AccountState account, BillDraft draft, IReadOnlyDictionary<string, long> monthVersions, BillRecord bill, DateTimeOffset now)
    {
        var tag = BillingKeys.Tag(account.AccountId);
        await outbox.RegisterAsync(tag);
        var issued = await IssueBillScript.Instance.RunAsync(redis, new(account, draft, monthVersions, bill, now));
        if (issued.Status == IssueStatus.Issued) outbox.Notify(tag);
        return issued;
    }

    public async Task<IssuedBill?> GetBillAsync(string accountId, string periodKey)
    {
        var json = await redis.StringGetAsync(BillingKeys.Bill(accountId, periodKey));
        if (json.IsNull) return null;
        var outstanding = await redis.HashGetAsync(BillingKeys.Due(accountId), periodKey);
        return new IssuedBill(JsonSerializer.Deserialize<BillRecord>((string)json!, IssueBillScript.BillJson)!, outstanding.IsNull ? 0 : (long)outstanding);
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

    /// <summary>Releases the claim only while this replica still holds it (compare and delete).</summary>
    public Task<bool> ReleaseClaimAsync(string accountId, string token) =>
        CompareAndDelete.Instance.RunAsync(redis, new(BillingKeys.Claim(accountId), token));

    // ---- balance and arrears ---------------------------------------------------------------------

    /// <summary>The top-up's outcome (the first one's for a known key); null when the account is not activated.</summary>
    public async Task<TopUpOutcome?> TopUpAsync(string accountId, string idempotencyKey, long amountFen, DateTimeOffset now, TimeSpan keyRetention)
    {
        var tag = BillingKeys.Tag(accountId);
        await outbox.RegisterAsync(tag);
        var outcome = await TopUpScript.Instance.RunAsync(redis, new(accountId, idempotencyKey, amountFen, now, keyRetention));
        if (outcome is { Duplicate: false }) outbox.Notify(tag);
        return outcome;
    }

    /// <summary>One page of the account's top-ups, newest first, and whether more follow.</summary>
    public async Task<(IReadOnlyList<TopUpEntry> Page, bool More)> ListTopUpsAsync(string accountId, int skip, int take)
    {
        var key = BillingKeys.TopUps(accountId);
        var entries = await redis.SortedSetRangeByRankAsync(key, skip, skip + take, Order.Descending); // one more than the page: is there a next one?
        return (entries.Take(take).Select(e => ParseTopUpEntry(key, (string)e!)).ToList(), entries.Length > take);
    }

    private static TopUpEntry ParseTopUpEntry(string key, string entry)
    {
        var parts = entry.Split(BillingFormats.Separator);
        if (parts.Length != Enum.GetValues<TopUpLogPart>().Length) throw new InvalidOperationException($"{key} holds a malformed entry '{entry}'");
        long Part(TopUpLogPart p) => long.Parse(parts[(int)p], CultureInfo.InvariantCulture);
        return new TopUpEntry(parts[(int)TopUpLogPart.IdempotencyKey], DateTimeOffset.FromUnixTimeMilliseconds(Part(TopUpLogPart.At)),
            Part(TopUpLogPart.Amount), Part(TopUpLogPart.BalanceAfter), Part(TopUpLogPart.ArrearsAfter));
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
    public Task<bool> UnindexArrearsAsync(string accountId, double seenScore) =>
        UnindexArrearsScript.Instance.RunAsync(redis, new(accountId, seenScore));

    public async Task<IReadOnlyList<(string AccountId, double Score)>> DueForSuspensionAsync(DateTimeOffset now, int take) =>
        (await redis.SortedSetRangeByScoreWithScoresAsync(BillingKeys.ArrearsIndex, double.NegativeInfinity, now.ToUnixTimeMilliseconds(), take: take))
        .Select(e => ((string)e.Element!, e.Score)).ToList();

    public async Task<SuspendScript.Result> SuspendIfDueAsync(string accountId, DateTimeOffset now, TimeSpan after)
    {
        var tag = BillingKeys.Tag(accountId);
        await outbox.RegisterAsync(tag);
        var result = await SuspendScript.Instance.RunAsync(redis, new(accountId, now, after));
        if (result.Status == SuspendStatus.Suspended) outbox.Notify(tag);
        return result;
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static DateTimeOffset Ms(string ms) => DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(ms, CultureInfo.InvariantCulture));
}
