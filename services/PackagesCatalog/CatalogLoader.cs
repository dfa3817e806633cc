using System.Text.Json;

namespace FaceId.Packages.Catalog;

/// <summary>
/// Reads and validates the catalog files (pricebook-*.json, channels.json, return-codes.json).
/// Any problem stops start-up with a <see cref="CatalogException"/> naming the file and entry.
/// </summary>
public static class CatalogLoader
{
    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, "catalog");

    public static ProductCatalog Load(string directory)
    {
        if (!Directory.Exists(directory)) throw new CatalogException($"catalog directory '{directory}' does not exist");
        var codeSets = LoadCodeSets(Path.Combine(directory, "return-codes.json"));
        var books = new Dictionary<string, PriceBook>();
        foreach (var file in Directory.GetFiles(directory, "pricebook-*.json").Order())
        {
            var book = LoadPriceBook(file, codeSets);
            if (!books.TryAdd(book.Id, book)) throw new CatalogException($"{Path.GetFileName(file)}: price book '{book.Id}' is defined twice");
        }
        foreach (var required in new[] { ProductCatalog.LegacyBook, ProductCatalog.CurrentBook })
            if (!books.ContainsKey(required)) throw new CatalogException($"catalog '{directory}': price book '{required}' is missing");
        var channels = LoadChannels(Path.Combine(directory, "channels.json"), books, codeSets);
        var catalog = new ProductCatalog(books, channels, codeSets);
        if (catalog.TrialLabels(ProductCatalog.CurrentBook).Count() != 6)
            throw new CatalogException($"pricebook-{ProductCatalog.CurrentBook}.json: expected 6 trial labels (R-ONB-3), found {catalog.TrialLabels(ProductCatalog.CurrentBook).Count()}");
        // Every account gets a trial it can use: of its own price book's labels.
        foreach (var book in books.Values)
            if (!catalog.TrialLabels(book.Id).Any()) throw new CatalogException($"price book '{book.Id}': no trial label (R-ONB-3)");
        if (!books[ProductCatalog.CurrentBook].Labels.ContainsKey(ProductCatalog.EidLabelId))
            throw new CatalogException($"pricebook-{ProductCatalog.CurrentBook}.json: label '{ProductCatalog.EidLabelId}' is missing");
        return catalog;
    }

    private static JsonElement Read(string file)
    {
        if (!File.Exists(file)) throw new CatalogException($"catalog file '{file}' is missing");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new CatalogException($"{Path.GetFileName(file)}: not valid JSON ({e.Message})");
        }
    }

    private static string Str(JsonElement e, string name, string where) =>
        e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String && p.GetString() is { Length: > 0 } s
            ? s : throw new CatalogException($"{where}: '{name}' must be a non-empty string");

    private static JsonElement Arr(JsonElement e, string name, string where) =>
        e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.Array ? p : throw new CatalogException($"{where}: '{name}' must be an array");

    private static Dictionary<string, CodeSet> LoadCodeSets(string file)
    {
        var root = Read(file);
        var name = Path.GetFileName(file);
        if (!root.TryGetProperty("codeSets", out var sets) || sets.ValueKind != JsonValueKind.Object)
            throw new CatalogException($"{name}: 'codeSets' must be an object");
        var result = new Dictionary<string, CodeSet>();
        foreach (var set in sets.EnumerateObject())
        {
            var where = $"{name}: codeSets.{set.Name}";
            var codes = Arr(set.Value, "billable", where).EnumerateArray()
                .Select((c, i) => c.ValueKind == JsonValueKind.String && c.GetString() is { Length: > 0 } s ? s : throw new CatalogException($"{where}.billable[{i}] must be a code string"))
                .ToHashSet();
            result[set.Name] = new CodeSet(set.Name, codes);
        }
        return result;
    }

    private static PriceBook LoadPriceBook(string file, IReadOnlyDictionary<string, CodeSet> codeSets)
    {
        var root = Read(file);
        var name = Path.GetFileName(file);
        var id = Str(root, "priceBook", name);
        var version = Str(root, "version", name);
        var labels = new Dictionary<string, LabelDefinition>();
        var i = 0;
        foreach (var l in Arr(root, "labels", name).EnumerateArray())
        {
            var where = $"{name}: labels[{i++}]";
            var labelId = Str(l, "id", where);
            where += $" ('{labelId}')";
            var codeSet = Str(l, "defaultCodeSet", where);
            if (!codeSets.ContainsKey(codeSet)) throw new CatalogException($"{where}: defaultCodeSet '{codeSet}' is not in return-codes.json");
            var (flat, tiers) = ParsePostpaid(l, where);
            var packages = ParsePackages(l, where);
            var trial = l.TryGetProperty("trial", out var t) && t.ValueKind == JsonValueKind.True;
            if (!labels.TryAdd(labelId, new LabelDefinition(labelId, Str(l, "name", where), trial, codeSet, flat, tiers, packages)))
                throw new CatalogException($"{where}: label id is defined twice");
        }
        return new PriceBook(id, version, labels);
    }

    private static (long? Flat, IReadOnlyList<PriceTier> Tiers) ParsePostpaid(JsonElement label, string where)
    {
        if (!label.TryGetProperty("postpaid", out var p) || p.ValueKind != JsonValueKind.Object)
            throw new CatalogException($"{where}: 'postpaid' must be an object");
        if (p.TryGetProperty("unitFen", out var unit))
        {
            if (unit.ValueKind != JsonValueKind.Number || !unit.TryGetInt64(out var fen) || fen < 0)
                throw new CatalogException($"{where}: postpaid.unitFen must be a non-negative integer (fen)");
            return (fen, []);
        }
        var tiers = new List<PriceTier>();
        var j = 0;
        foreach (var tier in Arr(p, "tiers", where + ".postpaid").EnumerateArray())
        {
            var tw = $"{where}: postpaid.tiers[{j++}]";
            if (tier.ValueKind != JsonValueKind.Array || tier.GetArrayLength() != 2 || !tier[0].TryGetInt64(out var min))
                throw new CatalogException($"{tw} must be [minCalls, unitFen|null]");
            long? fen = tier[1].ValueKind == JsonValueKind.Null ? null
                : tier[1].TryGetInt64(out var f) && f >= 0 ? f : throw new CatalogException($"{tw}: unit price must be a non-negative integer (fen) or null");
            if (tiers.Count == 0 ? min != 0 : min <= tiers[^1].MinCalls)
                throw new CatalogException($"{tw}: tiers must start at 0 and rise strictly");
            tiers.Add(new PriceTier(min, fen));
        }
        if (tiers.Count == 0) throw new CatalogException($"{where}: postpaid needs unitFen or tiers");
        return (null, tiers);
    }

    private static IReadOnlyList<PackageOffer> ParsePackages(JsonElement label, string where)
    {
        var offers = new List<PackageOffer>();
        var j = 0;
        foreach (var offer in Arr(label, "packages", where).EnumerateArray())
        {
            var ow = $"{where}: packages[{j++}]";
            if (offer.ValueKind != JsonValueKind.Array || offer.GetArrayLength() != 2
                || !offer[0].TryGetInt64(out var size) || !offer[1].TryGetInt64(out var price) || size <= 0 || price < 0)
                throw new CatalogException($"{ow} must be [size > 0, priceFen >= 0]");
            if (offers.Count > 0 && size <= offers[^1].Size) throw new CatalogException($"{ow}: sizes must rise strictly");
            offers.Add(new PackageOffer(size, price));
        }
        return offers;
    }

    private static Dictionary<string, ChannelDefinition> LoadChannels(string file, IReadOnlyDictionary<string, PriceBook> books, IReadOnlyDictionary<string, CodeSet> codeSets)
    {
        var root = Read(file);
        var name = Path.GetFileName(file);
        var result = new Dictionary<string, ChannelDefinition>();
        var i = 0;
        foreach (var c in Arr(root, "channels", name).EnumerateArray())
        {
            var where = $"{name}: channels[{i++}]";
            var id = Str(c, "id", where);
            where += $" ('{id}')";
            var codeSet = Str(c, "codeSet", where);
            if (!codeSets.ContainsKey(codeSet)) throw new CatalogException($"{where}: codeSet '{codeSet}' is not in return-codes.json");
            if (!c.TryGetProperty("labels", out var byBook) || byBook.ValueKind != JsonValueKind.Object)
                throw new CatalogException($"{where}: 'labels' must be an object keyed by price book");
            var mapping = new Dictionary<string, IReadOnlyDictionary<string, string>>();
            foreach (var book in books.Values)
            {
                if (!byBook.TryGetProperty(book.Id, out var libs) || libs.ValueKind != JsonValueKind.Object)
                    throw new CatalogException($"{where}: labels.{book.Id} is missing");
                var byLib = new Dictionary<string, string>();
                foreach (var lib in libs.EnumerateObject())
                {
                    if (lib.Name is not ("any" or "authoritative" or "self_photo"))
                        throw new CatalogException($"{where}: labels.{book.Id}.{lib.Name}: library must be any, authoritative or self_photo");
                    var label = lib.Value.GetString() ?? "";
                    if (book.Find(label) is null) throw new CatalogException($"{where}: labels.{book.Id}.{lib.Name}: label '{label}' is not in price book {book.Id}");
                    byLib[lib.Name] = label;
                }
                if (!byLib.ContainsKey("any") && !(byLib.ContainsKey("authoritative") && byLib.ContainsKey("self_photo")))
                    throw new CatalogException($"{where}: labels.{book.Id} needs 'any' or both 'authoritative' and 'self_photo'");
                mapping[book.Id] = byLib;
            }
            if (!result.TryAdd(id, new ChannelDefinition(id, Str(c, "name", where), codeSet, mapping)))
                throw new CatalogException($"{where}: channel id is defined twice");
        }
        return result;
    }
}
