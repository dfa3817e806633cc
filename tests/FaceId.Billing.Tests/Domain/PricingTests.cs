using FaceId.Billing.Domain;
using FaceId.Common;
using Xunit;

namespace FaceId.Billing.Tests.Domain;

/// <summary>Postpaid prices from the catalog: flat, whole-volume monthly tiers, price books (docs/rules.md §5.1, §5.4).</summary>
public sealed class PricingTests
{
    private static readonly BillingPeriod April2022 = new(Settlement.Monthly, new DateOnly(2022, 4, 1));

    /// <summary>A monthly bill with only postpaid calls of one label.</summary>
    private static BillDraft Month(string label, long postpaid, long packageCalls = 0, string book = "2021-06") =>
        SettlementCalculator.Compute(new SettlementInput(April2022, book,
            [new MonthInput("202204", true, [new LabelMonthUsage(label, postpaid + packageCalls, postpaid, postpaid)], new Dictionary<string, BilledSoFar>())],
            [], []), Catalog.Instance);

    [Theory]
    [InlineData(999, 40)]      // [0, 1,000)
    [InlineData(1_000, 38)]    // [1,000, 10,000)
    [InlineData(9_999, 38)]
    [InlineData(10_000, 36)]   // [10,000, 100,000)
    [InlineData(99_999, 36)]
    [InlineData(100_000, 34)]  // [100,000, 200,000)
    public void R_BIL_2_bank_card_checks_are_priced_by_whole_volume_tier_at_the_boundaries(long calls, long unitFen)
    {
        var bill = Month("bank_card_info_check", calls);
        var line = Assert.Single(bill.Lines);
        Assert.Equal(LineKind.Postpaid, line.Kind);
        Assert.Equal(calls, line.Calls);
        Assert.Equal(unitFen, line.UnitPriceFen);
        Assert.Equal(calls * unitFen, line.AmountFen); // every call of the month at the tier reached, not progressive
        Assert.Equal(calls * unitFen, bill.TotalFen);
    }

    [Theory]
    [InlineData(999, 30)]
    [InlineData(1_000, 30)]
    [InlineData(9_999, 30)]
    [InlineData(10_000, 28)]
    public void R_BIL_2_id_checks_are_priced_by_whole_volume_tier_at_the_boundaries(long calls, long unitFen) =>
        Assert.Equal(calls * unitFen, Month("id_info_check", calls).TotalFen);

    [Fact]
    public void R_BIL_2_worked_example_30000_bank_card_checks_cost_10800_yuan()
    {
        var bill = Month("bank_card_info_check", 30_000);
        Assert.Equal(36, bill.Lines[0].UnitPriceFen);
        Assert.Equal(1_080_000, bill.TotalFen); // 30,000 × 0.36 = 10,800.00 CNY
    }

    [Fact]
    public void R_BIL_2_worked_example_15000_enhanced_calls_with_a_10000_package_bought_for_11000_cost_17000_yuan()
    {
        var bill = SettlementCalculator.Compute(new SettlementInput(April2022, "2021-06",
            [new MonthInput("202204", true, [new LabelMonthUsage("enhanced_authoritative_wechat", 15_000, 5_000, 5_000)], new Dictionary<string, BilledSoFar>())],
            [new PrepaidCharge("pkg-1", "enhanced_authoritative_wechat", 10_000, 1_100_000, new DateTimeOffset(2022, 4, 2, 10, 0, 0, ChinaCalendar.Offset))],
            []), Catalog.Instance);

        Assert.Collection(bill.Lines,
            l => Assert.Equal((LineKind.Postpaid, 5_000L, 120L, 600_000L), (l.Kind, l.Calls, l.UnitPriceFen, l.AmountFen)),
            l => Assert.Equal((LineKind.PrepaidPackage, 10_000L, 1_100_000L, "pkg-1"), (l.Kind, l.Calls, l.AmountFen, l.Reference)));
        Assert.Equal(1_700_000, bill.TotalFen); // (15,000 − 10,000) × 1.20 + 11,000 = 17,000.00 CNY
    }

    [Fact]
    public void R_BIL_2_the_tier_volume_counts_package_deducted_calls_too()
    {
        // 1,000 calls paid by a package + 9,000 postpaid = 10,000 billable: the [10,000, 100,000) tier.
        var bill = Month("id_info_check", 9_000, packageCalls: 1_000);
        Assert.Equal(28, bill.Lines[0].UnitPriceFen);
        Assert.Equal(9_000 * 28, bill.TotalFen);
    }

    [Fact]
    public void R_BIL_2_flat_labels_do_not_depend_on_volume()
    {
        Assert.Equal(120, Month("enhanced_authoritative_app", 1).Lines[0].UnitPriceFen);
        Assert.Equal(120, Month("enhanced_authoritative_app", 500_000).Lines[0].UnitPriceFen);
        Assert.Equal(15 * 1_000_000L, Month("basic_self_photo", 1_000_000).TotalFen);
    }

    [Theory]
    [InlineData("legacy_liveness_verification", 999, 100)]
    [InlineData("legacy_liveness_verification", 1_000, 85)]
    [InlineData("legacy_liveness_verification", 9_999, 85)]
    [InlineData("legacy_liveness_verification", 10_000, 75)]
    [InlineData("legacy_wechat_liveness_verification", 999, 120)]
    [InlineData("legacy_wechat_liveness_verification", 1_000, 100)]
    [InlineData("legacy_liveness_comparison", 10_000, 11)]
    [InlineData("legacy_wechat_liveness_comparison", 100_000, 45)]
    public void R_BIL_2_legacy_price_book_tiers(string label, long calls, long unitFen) =>
        Assert.Equal(calls * unitFen, Month(label, calls, book: "legacy").TotalFen);

    [Fact]
    public void R_BIL_2_identity_checks_cost_the_same_in_both_price_books() =>
        Assert.Equal(Month("bank_card_info_check", 30_000, book: "2021-06").TotalFen, Month("bank_card_info_check", 30_000, book: "legacy").TotalFen);

    [Fact]
    public void R_BIL_2_the_contract_tier_is_billed_at_the_last_published_price_and_says_so()
    {
        var line = Month("id_info_check", 200_000).Lines[0];
        Assert.Equal(26, line.UnitPriceFen);
        Assert.Equal(200_000 * 26, line.AmountFen);
        Assert.Contains("contract price", line.Description);
    }

    [Fact]
    public void Money_is_exact_integer_fen_at_large_volumes()
    {
        var bill = Month("enhanced_authoritative_wechat", 9_000_000_000);
        Assert.Equal(1_080_000_000_000, bill.TotalFen); // 9e9 calls × 120 fen, no rounding anywhere
        Assert.Equal("10,800,000,000.00", PostpaidPricing.Yuan(bill.TotalFen));
        Assert.Equal("-0.05", PostpaidPricing.Yuan(-5));
    }
}
