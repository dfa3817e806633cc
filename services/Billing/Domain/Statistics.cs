using System.Globalization;
using FaceId.Common;
using FaceId.Packages.Catalog;

namespace FaceId.Billing.Domain;

/// <summary>The counters of one (Shanghai day, label, access mode, sub-account) cell, as Billing recorded them.</summary>
public sealed record StatCell(DateOnly Day, string Label, int AccessMode, string SubAccountId, long Calls, long Billable, long Package, long Postpaid);

public enum StatGranularity { Day, Month }

/// <summary>One row of GetStatistics (R-BIL-1). AccessMode 0 / SubAccountId "" when not broken down.</summary>
public sealed record StatRow(string Period, string Label, int AccessMode, string SubAccountId, long Calls, long Billable, long Package, long Postpaid, long PostpaidAmountFen);

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
            foreach (var c in g)
            {
                calls += c.Calls;
                billable += c.Billable;
                package += c.Package;
                postpaid += c.Postpaid;
            }
            if (calls == 0 && billable == 0 && package == 0 && postpaid == 0) continue;
            rows.Add(new StatRow(g.Key.Period, g.Key.Label, g.Key.Mode, g.Key.Sub, calls, billable, package, postpaid, checked(postpaid * unit)));
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

/// <summary>One (label, day) of reconciliation: the ledger's metered billable calls vs Billing's package + postpaid.</summary>
public sealed record ReconciliationLine(string Label, DateOnly Day, long MeteredPackage, long MeteredPostpaid, long BilledPackage, long BilledPostpaid)
{
    public long MeteredBillable => MeteredPackage + MeteredPostpaid;

    /// <summary>R-BIL-3: metered billable = package-deducted + postpaid as Billing recorded them.</summary>
    public bool Balanced => MeteredBillable == BilledPackage + BilledPostpaid;
}

public static class Reconciler
{
    /// <summary>
    /// Compares, per label and day, the ledger's counters ("label|P", "label|O" per day) with
    /// Billing's day cells. Rows where both sides are zero are left out.
    /// </summary>
    public static IReadOnlyList<ReconciliationLine> Compare(
        IReadOnlyDictionary<DateOnly, IReadOnlyDictionary<string, long>> ledgerDays,
        IEnumerable<StatCell> billingCells)
    {
        var billed = billingCells.GroupBy(c => (c.Day, c.Label))
            .ToDictionary(g => g.Key, g => (Package: g.Sum(c => c.Package), Postpaid: g.Sum(c => c.Postpaid)));
        var metered = new Dictionary<(DateOnly Day, string Label), (long Package, long Postpaid)>();
        foreach (var (day, fields) in ledgerDays)
        {
            foreach (var (field, count) in fields)
            {
                var bar = field.LastIndexOf(LedgerDayCounterFormat.Separator);
                if (bar <= 0) continue;
                var label = field[..bar];
                var cur = metered.GetValueOrDefault((day, label));
                metered[(day, label)] = (bar == field.Length - 2 ? field[^1] : '\0') switch
                {
                    LedgerDayCounterFormat.Package => (cur.Package + count, cur.Postpaid),
                    LedgerDayCounterFormat.Postpaid => (cur.Package, cur.Postpaid + count),
                    LedgerDayCounterFormat.NotBillable => cur, // not billable: not part of the reconciliation
                    _ => throw new InvalidOperationException($"ledger day counter '{field}' has an unknown kind"),
                };
            }
        }
        return metered.Keys.Union(billed.Keys)
            .Select(k =>
            {
                var m = metered.GetValueOrDefault(k);
                var b = billed.GetValueOrDefault(k);
                return new ReconciliationLine(k.Label, k.Day, m.Package, m.Postpaid, b.Package, b.Postpaid);
            })
            .Where(l => l.MeteredBillable != 0 || l.BilledPackage != 0 || l.BilledPostpaid != 0)
            .OrderBy(l => l.Day).ThenBy(l => l.Label, StringComparer.Ordinal)
            .ToList();
    }
}
