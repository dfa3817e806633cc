using System.Globalization;
using FaceId.Packages.Catalog;

namespace FaceId.Billing.Domain;

/// <summary>The postpaid unit price of a label for a month's volume, and why (for the bill line).</summary>
public sealed record UnitPrice(long Fen, string Basis, bool Priced = true);

/// <summary>
/// Postpaid prices from the catalog (docs/rules.md §5.1, §5.4): a flat price per call, or a whole-volume
/// tier: the month's billable calls of the label decide one unit price for every postpaid call of
/// that month (not progressive). The top tier of the identity checks (200,000+) is a contract
/// price the catalog does not know: it is billed at the last published unit price and the line
/// says so, so nothing is silently free.
/// </summary>
public static class PostpaidPricing
{
    /// <summary>
    /// The label's definition in the account's price book; a label the book lacks is looked up in
    /// the other books (current first), so an old label keeps its own price.
    /// </summary>
    public static LabelDefinition? Find(ProductCatalog catalog, string priceBook, string label)
    {
        if (catalog.PriceBooks.TryGetValue(priceBook, out var book) && book.Find(label) is { } own) return own;
        if (catalog.PriceBooks.TryGetValue(ProductCatalog.CurrentBook, out var current) && current.Find(label) is { } cur) return cur;
        return catalog.PriceBooks.Values.Select(b => b.Find(label)).FirstOrDefault(l => l is not null);
    }

    /// <summary>The unit price for <paramref name="monthlyVolume"/> billable calls of the label in the month.</summary>
    public static UnitPrice For(LabelDefinition? label, long monthlyVolume)
    {
        if (label is null) return new UnitPrice(0, "label not in the price book: not priced", Priced: false);
        if (label.FlatUnitFen is { } flat) return new UnitPrice(flat, "flat");
        var reached = label.Tiers.LastOrDefault(t => monthlyVolume >= t.MinCalls) ?? label.Tiers[0];
        var range = TierRange(label.Tiers, reached);
        if (reached.UnitFen is { } fen) return new UnitPrice(fen, $"tier {range} calls/month");
        var lastPublished = label.Tiers.LastOrDefault(t => t.MinCalls <= reached.MinCalls && t.UnitFen is not null);
        return lastPublished?.UnitFen is { } fallback
            ? new UnitPrice(fallback, $"tier {range} calls/month is a contract price: billed at the last published price")
            : new UnitPrice(0, $"tier {range} calls/month is a contract price: not priced", Priced: false);
    }

    private static string TierRange(IReadOnlyList<PriceTier> tiers, PriceTier reached)
    {
        var i = tiers.ToList().IndexOf(reached);
        return i + 1 < tiers.Count
            ? $"[{Calls(reached.MinCalls)}, {Calls(tiers[i + 1].MinCalls)})"
            : $"{Calls(reached.MinCalls)}+";
    }

    public static string Calls(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Fen as yuan with two decimals ("1.20", "-3.05"), exact (no floating point).</summary>
    public static string Yuan(long fen)
    {
        var sign = fen < 0 ? "-" : "";
        var abs = Math.Abs(fen);
        return $"{sign}{(abs / 100).ToString("N0", CultureInfo.InvariantCulture)}.{abs % 100:D2}";
    }
}
