using System.Globalization;
using FaceId.Common;
using FaceId.Packages.Catalog;

namespace FaceId.Billing.Domain;

/// <summary>
/// The counters of one (Shanghai day, label, access mode, sub-account) cell, as Billing recorded them, and the calls the
/// ledger refused in it (never in Calls), per reason.
/// </summary>
public sealed record StatCell(DateOnly Day, string Label, int AccessMode, string SubAccountId, long Calls, long Billable, long Package, long Postpaid,
    RefusedCalls Refused = default);

/// <summary>Refused calls per reason (R-BIL-1): while suspended (R-BIL-4), before the service opened (R-ACC-2), E证通 before the verification (R-ONB-4).</summary>
public readonly record struct RefusedCalls(long Suspended, long NotOpened, long NotVerified)
{
    public long Total => Suspended + NotOpened + NotVerified;

    public static RefusedCalls operator +(RefusedCalls a, RefusedCalls b) =>
        new(a.Suspended + b.Suspended, a.NotOpened + b.NotOpened, a.NotVerified + b.NotVerified);
}

public enum StatGranularity { Day, Month }

/// <summary>One row of GetStatistics (R-BIL-1). AccessMode 0 / SubAccountId "" when not broken down.</summary>
public sealed record StatRow(string Period, string Label, int AccessMode, string SubAccountId, long Calls, long Billable, long Package, long Postpaid, long PostpaidAmountFen,
    RefusedCalls Refused = default);

/// <summary>
/// Statistics rows from day cells (R-BIL-1). The postpaid amount of a row is its postpaid calls
/// × the unit price of the tier reached by the label's billable calls in the whole month as
/// recorded so far (flat labels: the flat price) — the same rule as settlement, so a month's rows
/// add up to what its bills charge (a monthly bill; or the daily bills of the month, whose
/// adjustments re-price earlier days).
/// </summary>
public static class StatisticsAggregator
{
    public static IReadOnlyList<StatRow> Rows(
        IEnumerable<StatCell> cells,
        StatGranularity granularity,
        bool byAccessMode,
        bool bySubAccount,
        IReadOnlyDictionary<(string Month, string Label), long> monthVolumes,
        ProductCatalog catalog,
        string priceBook)
    {
        var groups = cells.GroupBy(c => (
            Period: granularity == StatGranularity.Day ? c.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : c.Day.ToString("yyyy-MM", CultureInfo.InvariantCulture),
            Month: Months.Of(c.Day),
            c.Label,
            Mode: byAccessMode ? c.AccessMode : 0,
            Sub: bySubAccount ? c.SubAccountId : ""));
        // A group lies inside one month (day or month rows), so it has one unit price.
        var rows = new List<StatRow>();
        foreach (var g in groups)
        {
            var volume = monthVolumes.GetValueOrDefault((g.Key.Month, g.Key.Label));
            var unit = PostpaidPricing.For(PostpaidPricing.Find(catalog, priceBook, g.Key.Label), volume).Fen;
            long calls = 0, billable = 0, package = 0, postpaid = 0;
            RefusedCalls refused = default;
            foreach (var c in g)
            {
                calls += c.Calls;
                billable += c.Billable;
                package += c.Package;
                postpaid += c.Postpaid;
                refused += c.Refused;
            }
            if (calls == 0 && billable == 0 && package == 0 && postpaid == 0 && refused.Total == 0) continue;
            rows.Add(new StatRow(g.Key.Period, g.Key.Label, g.Key.Mode, g.Key.Sub, calls, billable, package, postpaid, checked(postpaid * unit), refused));
        }
        return rows
            .OrderBy(r => r.Period, StringComparer.Ordinal)
            .ThenBy(r => r.Label, StringComparer.Ordinal)
            .ThenBy(r => r.AccessMode)
            .ThenBy(r => r.SubAccountId, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Billable calls per (month "yyyyMM", label) over the given cells (the tier volume).</summary>
    public static Dictionary<(string Month, string Label), long> MonthVolumes(IEnumerable<StatCell> cells) =>
        cells.GroupBy(c => (Months.Of(c.Day), c.Label)).ToDictionary(g => g.Key, g => g.Sum(c => c.Billable));
}

/// <summary>
/// What a reconciliation cell counts (R-BIL-3): the ledger's day counter kinds, compared one by one: the charge kinds, and
/// the refused calls per reason (each refused request id once on both sides: the ledger keeps the id, Billing counts it once).
/// </summary>
public enum CounterKind { Package, Postpaid, NotBillable, RefusedSuspended, RefusedNotOpened, RefusedNotVerified }

/// <summary>One (day, label, sub-account, kind) of reconciliation whose two sides differ: the ledger's count and Billing's.</summary>
public sealed record UnbalancedCell(DateOnly Day, string Label, string SubAccountId, CounterKind Kind, long Metered, long Billed);

/// <summary>
/// One (label, day) of reconciliation: the ledger's metered billable calls vs Billing's package + postpaid, and the
/// cells (sub-account × kind) of the day and label whose counts differ.
/// </summary>
public sealed record ReconciliationLine(string Label, DateOnly Day, long MeteredPackage, long MeteredPostpaid, long BilledPackage, long BilledPostpaid,
    IReadOnlyList<UnbalancedCell> UnbalancedCells)
{
    public long MeteredBillable => MeteredPackage + MeteredPostpaid;

    /// <summary>
    /// R-BIL-3: every cell agrees (so metered billable = package-deducted + postpaid as Billing recorded them, and
    /// neither a package/postpaid nor a sub-account mix-up hides in equal totals).
    /// </summary>
    public bool Balanced => UnbalancedCells.Count == 0;
}

public static class Reconciler
{
    /// <summary>
    /// Compares, per day, label, sub-account and kind, the ledger's counters (per day "label|K" for the main
    /// account's calls, "label|sub|K" for a sub-account's; K = P, O, N, and S, U, E for the refused calls per reason:
    /// LedgerDayCounterFormat) with Billing's day cells (summed over access modes). A line per (label, day) with calls on either side, carrying its unbalanced cells.
    /// </summary>
    public static IReadOnlyList<ReconciliationLine> Compare(
        IReadOnlyDictionary<DateOnly, IReadOnlyDictionary<string, long>> ledgerDays,
        IEnumerable<StatCell> billingCells)
    {
        var billed = new Dictionary<(DateOnly Day, string Label, string Sub, CounterKind Kind), long>();
        foreach (var c in billingCells)
        {
            Add(billed, (c.Day, c.Label, c.SubAccountId, CounterKind.Package), c.Package);
            Add(billed, (c.Day, c.Label, c.SubAccountId, CounterKind.Postpaid), c.Postpaid);
            Add(billed, (c.Day, c.Label, c.SubAccountId, CounterKind.NotBillable), c.Calls - c.Billable);
            Add(billed, (c.Day, c.Label, c.SubAccountId, CounterKind.RefusedSuspended), c.Refused.Suspended);
            Add(billed, (c.Day, c.Label, c.SubAccountId, CounterKind.RefusedNotOpened), c.Refused.NotOpened);
            Add(billed, (c.Day, c.Label, c.SubAccountId, CounterKind.RefusedNotVerified), c.Refused.NotVerified);
        }
        var metered = new Dictionary<(DateOnly Day, string Label, string Sub, CounterKind Kind), long>();
        foreach (var (day, fields) in ledgerDays)
        {
            foreach (var (field, count) in fields)
            {
                var (label, sub, kind) = LedgerField(field);
                Add(metered, (day, label, sub, kind), count);
            }
        }
        return metered.Keys.Union(billed.Keys)
            .GroupBy(k => (k.Day, k.Label))
            .Select(g =>
            {
                long Sum(Dictionary<(DateOnly, string, string, CounterKind), long> side, CounterKind kind) =>
                    g.Where(k => k.Kind == kind).Sum(k => side.GetValueOrDefault(k));
                var unbalanced = g.Where(k => metered.GetValueOrDefault(k) != billed.GetValueOrDefault(k))
                    .OrderBy(k => k.Sub, StringComparer.Ordinal).ThenBy(k => k.Kind)
                    .Select(k => new UnbalancedCell(k.Day, k.Label, k.Sub, k.Kind, metered.GetValueOrDefault(k), billed.GetValueOrDefault(k)))
                    .ToList();
                return new ReconciliationLine(g.Key.Label, g.Key.Day, Sum(metered, CounterKind.Package), Sum(metered, CounterKind.Postpaid),
                    Sum(billed, CounterKind.Package), Sum(billed, CounterKind.Postpaid), unbalanced);
            })
            .Where(l => l.MeteredBillable != 0 || l.BilledPackage != 0 || l.BilledPostpaid != 0 || !l.Balanced)
            .OrderBy(l => l.Day).ThenBy(l => l.Label, StringComparer.Ordinal)
            .ToList();
    }

    private static void Add<TKey>(Dictionary<TKey, long> counts, TKey key, long n) where TKey : notnull
    {
        if (n != 0) counts[key] = counts.GetValueOrDefault(key) + n;
    }

    /// <summary>A ledger day counter's field: "label|K" (the main account's calls) or "label|sub|K" (a sub-account's).</summary>
    private static (string Label, string Sub, CounterKind Kind) LedgerField(string field)
    {
        var first = field.IndexOf(LedgerDayCounterFormat.Separator);
        var last = field.LastIndexOf(LedgerDayCounterFormat.Separator);
        if (first <= 0 || last != field.Length - 2)
            throw new InvalidOperationException($"ledger day counter '{field}' is not label|kind or label|sub-account|kind");
        var kind = field[^1] switch
        {
            LedgerDayCounterFormat.Package => CounterKind.Package,
            LedgerDayCounterFormat.Postpaid => CounterKind.Postpaid,
            LedgerDayCounterFormat.NotBillable => CounterKind.NotBillable,
            LedgerDayCounterFormat.RefusedSuspended => CounterKind.RefusedSuspended,
            LedgerDayCounterFormat.RefusedNotOpened => CounterKind.RefusedNotOpened,
            LedgerDayCounterFormat.RefusedNotVerified => CounterKind.RefusedNotVerified,
            _ => throw new InvalidOperationException($"ledger day counter '{field}' has an unknown kind"),
        };
        return (field[..first], first == last ? "" : field[(first + 1)..last], kind);
    }
}
