using FaceId.Common;
using FaceId.Contracts.Common.V1;

namespace FaceId.Packages.Catalog;

/// <summary>The label a usage record is billed under, and which return codes bill it.</summary>
public sealed record ResolvedLabel(string Label, string CodeSet);

/// <summary>
/// The catalog of docs/rules.md §5 as loaded from the versioned data files: price books, labels,
/// package offers, postpaid prices and tiers, channel → label mapping and billable return codes.
/// </summary>
public sealed class ProductCatalog(
    IReadOnlyDictionary<string, PriceBook> priceBooks,
    IReadOnlyDictionary<string, ChannelDefinition> channels,
    IReadOnlyDictionary<string, CodeSet> codeSets)
{
    public const string LegacyBook = "legacy";
    public const string CurrentBook = "2021-06";

    public IReadOnlyDictionary<string, PriceBook> PriceBooks { get; } = priceBooks;
    public IReadOnlyDictionary<string, ChannelDefinition> Channels { get; } = channels;
    public IReadOnlyDictionary<string, CodeSet> CodeSets { get; } = codeSets;

    public PriceBook Book(string id) =>
        PriceBooks.TryGetValue(id, out var book) ? book : throw new InvalidInputException("price_book", $"unknown price book '{CallerInput.Echo(id)}'");

    /// <summary>The face labels of a price book that receive the free trial (R-ONB-3): six in 2021-06, the five legacy ones in legacy.</summary>
    public IEnumerable<LabelDefinition> TrialLabels(string priceBook) => Book(priceBook).Labels.Values.Where(l => l.Trial);

    /// <summary>E证通's label (authoritative DB), in every price book.</summary>
    public const string EidLabelId = "eid_authoritative";

    public LabelDefinition EidLabel => PriceBooks[CurrentBook].Labels[EidLabelId];

    /// <summary>R-ONB-4: a label only enterprise-verified accounts may buy and meter (E证通's).</summary>
    public static bool IsEnterpriseOnly(string label) => label == EidLabelId;

    /// <summary>
    /// A record names either its label or its channel (+ comparison library); the label must exist
    /// in the account's price book. Field names are those of faceid.metering.v1.UsageRecord.
    /// </summary>
    public ResolvedLabel ResolveLabel(string priceBook, string? label, string? channel, ComparisonLibrary library, string fieldPrefix = "record.")
    {
        var resolved = TryResolveLabel(priceBook, label, channel, library, fieldPrefix);
        return resolved.Refusal is { } refusal ? throw refusal : resolved.Value!;
    }

    /// <summary><see cref="ResolveLabel"/> with bad input returned, not thrown (Metering's hot path: <see cref="Refusable{T}"/>).</summary>
    public Refusable<ResolvedLabel> TryResolveLabel(string priceBook, string? label, string? channel, ComparisonLibrary library, string fieldPrefix = "record.")
    {
        var book = Book(priceBook);
        if (!string.IsNullOrEmpty(label))
        {
            if (!string.IsNullOrEmpty(channel))
                return new InvalidInputException(fieldPrefix + "channel", "give either label or channel, not both");
            var def = book.Find(label);
            return def is null
                ? new InvalidInputException(fieldPrefix + "label", $"unknown billing label '{CallerInput.Echo(label)}' in price book {priceBook}")
                : new ResolvedLabel(def.Id, def.DefaultCodeSet);
        }
        if (string.IsNullOrEmpty(channel))
            return new InvalidInputException(fieldPrefix + "label", "label or channel is required");
        if (!Channels.TryGetValue(channel, out var ch))
            return new InvalidInputException(fieldPrefix + "channel", $"unknown integration channel '{CallerInput.Echo(channel)}'");
        var byLibrary = ch.LabelsByBook[priceBook];
        if (byLibrary.TryGetValue("any", out var any)) return new ResolvedLabel(any, ch.CodeSet);
        string? key = library switch
        {
            ComparisonLibrary.Authoritative => "authoritative",
            ComparisonLibrary.SelfPhoto => "self_photo",
            _ => null,
        };
        return key is null
            ? new InvalidInputException(fieldPrefix + "library", $"channel '{CallerInput.Echo(channel)}' needs the comparison library")
            : new ResolvedLabel(byLibrary[key], ch.CodeSet);
    }

    /// <summary>R-MET-2: billable or not by the return code; codes outside the set are never charged.</summary>
    public bool IsBillable(string codeSet, string returnCode) => CodeSets[codeSet].Billable.Contains(returnCode);
}
