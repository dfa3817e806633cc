using FaceId.Packages.Catalog;
using Xunit;

namespace FaceId.Ledger.Tests;

/// <summary>The catalog files of docs/rules.md §5: loaded, validated, and refused with a precise message when malformed.</summary>
public sealed class CatalogTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "catalog-" + Guid.NewGuid().ToString("N"));

    public CatalogTests()
    {
        Directory.CreateDirectory(_dir);
        foreach (var f in Directory.GetFiles(CatalogLoader.DefaultDirectory)) File.Copy(f, Path.Combine(_dir, Path.GetFileName(f)));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_shipped_catalog_has_the_public_prices()
    {
        var catalog = CatalogLoader.Load(CatalogLoader.DefaultDirectory);
        var current = catalog.Book("2021-06");
        Assert.Equal(120, current.Find("enhanced_authoritative_wechat")!.FlatUnitFen);
        Assert.Equal(1_100_000, current.Find("enhanced_authoritative_app")!.Offer(10_000)!.PriceFen);
        Assert.Equal(650_000, current.Find("eid_authoritative")!.Offer(5_000)!.PriceFen);
        Assert.Equal(36, current.Find("bank_card_info_check")!.UnitPriceFor(30_000)); // whole-volume tier [10k, 100k)
        Assert.Null(current.Find("bank_card_info_check")!.UnitPriceFor(200_000)); // contract price
        Assert.Null(current.Find("bank_card_info_check")!.Offer(500_000));
        Assert.Equal(68, catalog.Book("legacy").Find("legacy_liveness_verification")!.UnitPriceFor(150_000));
        Assert.Equal(6, catalog.TrialLabels("2021-06").Count());
        Assert.Equal(["legacy_liveness_comparison", "legacy_liveness_verification", "legacy_photo_verification", "legacy_wechat_liveness_comparison",
            "legacy_wechat_liveness_verification"], catalog.TrialLabels("legacy").Select(l => l.Id).Order());
    }

    [Theory]
    [InlineData("pricebook-2021-06.json", "\"unitFen\": 120", "\"unitFen\": 1.2", "labels[0] ('enhanced_authoritative_wechat'): postpaid.unitFen")]
    [InlineData("pricebook-2021-06.json", "\"defaultCodeSet\": \"face_sdk\"", "\"defaultCodeSet\": \"nope\"", "defaultCodeSet 'nope'")]
    [InlineData("channels.json", "\"enhanced_self_photo_wechat\"", "\"no_such_label\"", "channels[0] ('wechat_mini_program'): labels.2021-06.self_photo: label 'no_such_label'")]
    [InlineData("return-codes.json", "\"codeSets\"", "\"codeSetz\"", "return-codes.json: 'codeSets' must be an object")]
    [InlineData("pricebook-legacy.json", "\"priceBook\": \"legacy\"", "\"priceBook\": \"2021-06\"", "price book '2021-06' is defined twice")]
    public void A_malformed_catalog_is_refused_with_the_file_and_entry_named(string file, string find, string replace, string expected)
    {
        var path = Path.Combine(_dir, file);
        var text = File.ReadAllText(path);
        Assert.Contains(find, text);
        File.WriteAllText(path, ReplaceFirst(text, find, replace));

        var e = Assert.Throws<CatalogException>(() => CatalogLoader.Load(_dir));

        Assert.Contains(expected, e.Message);
    }

    private static string ReplaceFirst(string text, string find, string replace)
    {
        var i = text.IndexOf(find, StringComparison.Ordinal);
        return text[..i] + replace + text[(i + find.Length)..];
    }
}
