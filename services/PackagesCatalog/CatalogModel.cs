namespace FaceId.Packages.Catalog;

/// <summary>A whole-volume tier: when the month's calls reach MinCalls, every call costs UnitFen (null = contract price).</summary>
public sealed record PriceTier(long MinCalls, long? UnitFen);

public sealed record PackageOffer(long Size, long PriceFen);

public sealed record LabelDefinition(
    string Id,
    string Name,
    bool Trial,
    string DefaultCodeSet,
    long? FlatUnitFen,
    IReadOnlyList<PriceTier> Tiers,
    IReadOnlyList<PackageOffer> Packages)
{
    public PackageOffer? Offer(long size) => Packages.FirstOrDefault(p => p.Size == size);

    /// <summary>Unit price for a month's volume (whole-volume tiers), or the flat price; null = contract price.</summary>
    public long? UnitPriceFor(long monthlyCalls) =>
        FlatUnitFen ?? Tiers.LastOrDefault(t => monthlyCalls >= t.MinCalls)?.UnitFen;
}

public sealed record PriceBook(string Id, string Version, IReadOnlyDictionary<string, LabelDefinition> Labels)
{
    public LabelDefinition? Find(string label) => Labels.GetValueOrDefault(label);
}

/// <summary>Channel → label for one price book; "any" when the comparison library does not matter.</summary>
public sealed record ChannelDefinition(string Id, string Name, string CodeSet, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> LabelsByBook);

public sealed record CodeSet(string Id, IReadOnlySet<string> Billable);

/// <summary>Thrown at start-up for a malformed catalog: names the file and the entry.</summary>
public sealed class CatalogException(string message) : FaceId.Common.StartupException(message);
