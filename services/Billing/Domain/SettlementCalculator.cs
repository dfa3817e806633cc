using FaceId.Common;
using FaceId.Packages.Catalog;

namespace FaceId.Billing.Domain;

public enum LineKind { Postpaid = 1, PrepaidPackage = 2, RefundCredit = 3, Adjustment = 4 }

/// <summary>One line of a bill. Amounts are integer fen; credits are negative.</summary>
public sealed record BillLineItem(LineKind Kind, string Label, long Calls, long UnitPriceFen, long AmountFen, string Reference, string Description);

/// <summary>
/// A label's usage in one month as Billing recorded it, counted up to the end of the period being
/// settled (the whole month for earlier months): billable calls (package + postpaid, the tier
/// volume), postpaid calls, and the postpaid calls that occurred inside the period itself.
/// </summary>
public sealed record LabelMonthUsage(string Label, long BillableToDate, long PostpaidToDate, long PostpaidInPeriod);

/// <summary>What earlier bills already charged for a label's postpaid calls of a month.</summary>
public sealed record BilledSoFar(long Calls, long Fen)
{
    public static readonly BilledSoFar None = new(0, 0);
}

/// <summary>One month to bring up to date: the period's own month, or an earlier month with late records.</summary>
public sealed record MonthInput(string Month, bool IsPeriodMonth, IReadOnlyList<LabelMonthUsage> Usage, IReadOnlyDictionary<string, BilledSoFar> Billed);

/// <summary>A package bought (not free) that no bill has charged yet (R-BIL-2 prepaid charge).</summary>
public sealed record PrepaidCharge(string PackageId, string Label, long Size, long PriceFen, DateTimeOffset PurchasedAt);

/// <summary>A completed refund that no bill has credited yet (R-REF-3).</summary>
public sealed record RefundCredit(string RefundId, string PackageId, string Label, long Size, long AmountFen, DateTimeOffset CompletedAt);

public sealed record SettlementInput(
    BillingPeriod Period,
    string PriceBook,
    IReadOnlyList<MonthInput> Months,
    IReadOnlyList<PrepaidCharge> Prepaid,
    IReadOnlyList<RefundCredit> Refunds);

/// <summary>The new "billed so far" of a (month, label) once the bill is issued.</summary>
public sealed record BilledUpdate(string Month, string Label, long Calls, long Fen);

public sealed record BillDraft(
    BillingPeriod Period,
    IReadOnlyList<BillLineItem> Lines,
    long TotalFen,
    IReadOnlyList<BilledUpdate> Billed,
    IReadOnlyList<string> PackagesCharged,
    IReadOnlyList<string> RefundsCredited)
{
    /// <summary>
    /// What the balance is charged when the bill is issued: the total less its refund lines, which
    /// were credited to the balance when the refunds completed (R-REF-3) and are listed, not paid twice.
    /// </summary>
    public long BalanceChargeFen => Lines.Where(l => l.Kind != LineKind.RefundCredit).Aggregate(0L, (sum, l) => checked(sum + l.AmountFen));
}

/// <summary>
/// Prices one period of one account (R-BIL-2), without a host: exact integer fen, whole-volume
/// monthly tiers, prepaid charges, refund credits and adjustments.
///
/// The rule is cumulative per month and label: after a bill is issued, everything billed for the
/// month's postpaid calls so far equals <c>postpaid calls to date × unit price of the tier reached by
/// the month's billable calls to date</c>. So:
/// <list type="bullet">
/// <item>a monthly account's bill prices the whole month at the tier its volume reached (docs/rules.md §5.1);</item>
/// <item>a daily account's bill prices the day's postpaid calls at the tier reached by the month's volume
/// up to the end of that day; when the volume crosses into a cheaper tier, the earlier days of the
/// month are re-priced on that day's bill (an ADJUSTMENT line, a credit). The month's daily bills
/// therefore add up to exactly what a monthly bill would charge;</item>
/// <item>records that reach Billing after their period was settled (late records, moves of backdated
/// calls) change the month's totals; the next bill charges the difference as an ADJUSTMENT line
/// (reference = the month), so nothing is lost and nothing is charged twice.</item>
/// </list>
/// </summary>
public static class SettlementCalculator
{
    public static BillDraft Compute(SettlementInput input, ProductCatalog catalog)
    {
        var postpaid = new List<BillLineItem>();
        var adjustments = new List<BillLineItem>();
        var billed = new List<BilledUpdate>();

        foreach (var month in input.Months.OrderBy(m => m.Month, StringComparer.Ordinal))
        {
            var labels = month.Usage.Select(u => u.Label).Union(month.Billed.Keys).Order(StringComparer.Ordinal);
            foreach (var label in labels)
            {
                var usage = month.Usage.FirstOrDefault(u => u.Label == label) ?? new LabelMonthUsage(label, 0, 0, 0);
                var before = month.Billed.GetValueOrDefault(label) ?? BilledSoFar.None;
                var price = PostpaidPricing.For(PostpaidPricing.Find(catalog, input.PriceBook, label), usage.BillableToDate);
                var target = checked(usage.PostpaidToDate * price.Fen);

                long inPeriodCalls = 0, inPeriodFen = 0;
                if (month.IsPeriodMonth && usage.PostpaidInPeriod != 0)
                {
                    inPeriodCalls = usage.PostpaidInPeriod;
                    inPeriodFen = checked(inPeriodCalls * price.Fen);
                    postpaid.Add(new BillLineItem(LineKind.Postpaid, label, inPeriodCalls, price.Fen, inPeriodFen, input.Period.Key,
                        $"{PostpaidPricing.Calls(inPeriodCalls)} postpaid calls × {PostpaidPricing.Yuan(price.Fen)} CNY ({price.Basis})"));
                }

                var restCalls = usage.PostpaidToDate - before.Calls - inPeriodCalls;
                var restFen = checked(target - before.Fen - inPeriodFen);
                if (restCalls != 0 || restFen != 0)
                    adjustments.Add(new BillLineItem(LineKind.Adjustment, label, restCalls, price.Fen, restFen, Months.Display(month.Month),
                        AdjustmentText(month, input.Period, restCalls, usage, price)));

                if (usage.PostpaidToDate != before.Calls || target != before.Fen)
                    billed.Add(new BilledUpdate(month.Month, label, usage.PostpaidToDate, target));
            }
        }

        var prepaid = input.Prepaid
            .OrderBy(p => p.PurchasedAt).ThenBy(p => p.PackageId, StringComparer.Ordinal)
            .Select(p => new BillLineItem(LineKind.PrepaidPackage, p.Label, p.Size, p.PriceFen, p.PriceFen, p.PackageId,
                input.Period.Contains(p.PurchasedAt)
                    ? $"package of {PostpaidPricing.Calls(p.Size)} calls bought {Day(p.PurchasedAt)}"
                    : $"package of {PostpaidPricing.Calls(p.Size)} calls bought {Day(p.PurchasedAt)} (reached billing after its period was settled)"))
            .ToList();
        var refunds = input.Refunds
            .OrderBy(r => r.CompletedAt).ThenBy(r => r.RefundId, StringComparer.Ordinal)
            .Select(r => new BillLineItem(LineKind.RefundCredit, r.Label, r.Size, 0, checked(-r.AmountFen), r.RefundId,
                $"refund of package {r.PackageId} completed {Day(r.CompletedAt)}"))
            .ToList();

        var lines = postpaid.Concat(adjustments).Concat(prepaid).Concat(refunds).ToList();
        var total = lines.Aggregate(0L, (sum, l) => checked(sum + l.AmountFen));
        return new BillDraft(input.Period, lines, total, billed,
            input.Prepaid.Select(p => p.PackageId).ToList(), input.Refunds.Select(r => r.RefundId).ToList());
    }

    private static string AdjustmentText(MonthInput month, BillingPeriod period, long calls, LabelMonthUsage usage, UnitPrice price)
    {
        var what = month.IsPeriodMonth && period.Cycle == Settlement.Daily
            ? $"{Months.Display(month.Month)} to date"
            : Months.Display(month.Month);
        var late = calls switch
        {
            > 0 => $"{PostpaidPricing.Calls(calls)} postpaid calls recorded after their period was settled; ",
            < 0 => $"{PostpaidPricing.Calls(-calls)} calls moved from postpaid to a package after their period was settled; ",
            0 => "",
        };
        return $"{what}: {late}{PostpaidPricing.Calls(usage.PostpaidToDate)} postpaid calls re-priced at {PostpaidPricing.Yuan(price.Fen)} CNY ({price.Basis})";
    }

    private static string Day(DateTimeOffset t) => ChinaCalendar.DayKey(t);
}
