using FaceId.Billing.Domain;
using FaceId.Common;
using Xunit;

namespace FaceId.Billing.Tests.Domain;

/// <summary>
/// The settlement rules as plain arithmetic (R-BIL-2, docs/billing.md): daily accounts and the
/// month-to-date tier, late records as adjustments, prepaid charges, refund credits.
/// </summary>
public sealed class SettlementCalculatorTests
{
    private const string BankCard = "bank_card_info_check";
    private static readonly Dictionary<string, BilledSoFar> Nothing = new();

    private static BillingPeriod Day(int year, int month, int day) => new(Settlement.Daily, new DateOnly(year, month, day));

    private static BillDraft Settle(BillingPeriod period, params MonthInput[] months) =>
        SettlementCalculator.Compute(new SettlementInput(period, "2021-06", months, [], []), Catalog.Instance);

    /// <summary>Settles a daily account's days in order, carrying what was billed, like the service does.</summary>
    private static List<BillDraft> SettleDays(string label, params long[] postpaidPerDay)
    {
        var billed = new Dictionary<string, BilledSoFar>();
        var bills = new List<BillDraft>();
        long toDate = 0;
        for (var d = 0; d < postpaidPerDay.Length; d++)
        {
            toDate += postpaidPerDay[d];
            var draft = Settle(Day(2027, 3, d + 1),
                new MonthInput("202703", true, [new LabelMonthUsage(label, toDate, toDate, postpaidPerDay[d])], new Dictionary<string, BilledSoFar>(billed)));
            foreach (var u in draft.Billed) billed[u.Label] = new BilledSoFar(u.Calls, u.Fen);
            bills.Add(draft);
        }
        return bills;
    }

    [Fact]
    public void R_BIL_2_a_daily_bill_prices_the_day_at_the_tier_of_the_month_to_date_volume()
    {
        var bills = SettleDays(BankCard, 600, 300);
        Assert.Equal(600 * 40, bills[0].TotalFen);                // 600 calls this month: [0, 1,000) at 0.40
        Assert.Equal(300 * 40, bills[1].TotalFen);                // 900 calls to date: still 0.40
        Assert.All(bills, b => Assert.DoesNotContain(b.Lines, l => l.Kind == LineKind.Adjustment));
    }

    [Fact]
    public void R_BIL_2_when_the_month_to_date_volume_reaches_a_cheaper_tier_the_earlier_days_are_re_priced_on_that_days_bill()
    {
        var bills = SettleDays(BankCard, 600, 500, 100);

        // Day 2: 1,100 calls to date reach [1,000, 10,000) at 0.38: the day's 500 at 0.38, and day 1's 600 re-priced (−0.02 each).
        Assert.Collection(bills[1].Lines,
            l => Assert.Equal((LineKind.Postpaid, 500L, 38L, 19_000L), (l.Kind, l.Calls, l.UnitPriceFen, l.AmountFen)),
            l => Assert.Equal((LineKind.Adjustment, 0L, 38L, -1_200L, "2027-03"), (l.Kind, l.Calls, l.UnitPriceFen, l.AmountFen, l.Reference)));
        Assert.Equal(100 * 38, bills[2].TotalFen);
        // The month's daily bills add up to exactly what a monthly bill charges: 1,200 × 0.38.
        Assert.Equal(1_200 * 38, bills.Sum(b => b.TotalFen));
    }

    [Fact]
    public void R_BIL_2_daily_bills_of_a_month_sum_to_the_monthly_whole_volume_price()
    {
        var perDay = new long[] { 400, 400, 400, 3_000, 5_000, 800, 1, 12_000 };
        var bills = SettleDays("id_info_check", perDay);
        var month = perDay.Sum();
        Assert.Equal(month * 28, bills.Sum(b => b.TotalFen)); // 22,001 calls: [10,000, 100,000) at 0.28
    }

    [Fact]
    public void R_BIL_2_late_records_of_a_settled_month_are_charged_as_an_adjustment_on_the_next_bill()
    {
        var october = new MonthInput("202610", false,
            [new LabelMonthUsage("enhanced_authoritative_app", 105, 105, 0)],
            new Dictionary<string, BilledSoFar> { ["enhanced_authoritative_app"] = new(100, 12_000) });
        var november = new MonthInput("202611", true, [new LabelMonthUsage("enhanced_authoritative_app", 10, 10, 10)], Nothing);

        var bill = Settle(new BillingPeriod(Settlement.Monthly, new DateOnly(2026, 11, 1)), october, november);

        Assert.Collection(bill.Lines,
            l => Assert.Equal((LineKind.Postpaid, 10L, 1_200L, "2026-11"), (l.Kind, l.Calls, l.AmountFen, l.Reference)),
            l => Assert.Equal((LineKind.Adjustment, 5L, 120L, 600L, "2026-10"), (l.Kind, l.Calls, l.UnitPriceFen, l.AmountFen, l.Reference)));
        Assert.Contains(bill.Billed, b => b is { Month: "202610", Calls: 105, Fen: 12_600 });
    }

    [Fact]
    public void R_BIL_2_a_late_record_that_reaches_a_cheaper_tier_re_prices_the_settled_month()
    {
        var previous = new MonthInput("202610", false, [new LabelMonthUsage(BankCard, 1_000, 1_000, 0)],
            new Dictionary<string, BilledSoFar> { [BankCard] = new(999, 999 * 40) });
        var bill = Settle(new BillingPeriod(Settlement.Monthly, new DateOnly(2026, 11, 1)), previous,
            new MonthInput("202611", true, [], Nothing));

        var line = Assert.Single(bill.Lines);
        Assert.Equal((LineKind.Adjustment, 1L, 38L), (line.Kind, line.Calls, line.UnitPriceFen));
        Assert.Equal(1_000 * 38 - 999 * 40, line.AmountFen); // −1,960: the whole month at 0.38 now
    }

    [Fact]
    public void R_BIL_2_calls_moved_to_a_package_after_settlement_are_credited()
    {
        var previous = new MonthInput("202703", false, [new LabelMonthUsage("basic_authoritative", 10, 8, 0)],
            new Dictionary<string, BilledSoFar> { ["basic_authoritative"] = new(10, 1_000) });
        var bill = Settle(Day(2027, 4, 1), previous, new MonthInput("202704", true, [], Nothing));
        var line = Assert.Single(bill.Lines);
        Assert.Equal((LineKind.Adjustment, -2L, -200L), (line.Kind, line.Calls, line.AmountFen));
    }

    [Fact]
    public void A_month_brought_up_to_date_twice_charges_nothing_the_second_time()
    {
        var billed = new Dictionary<string, BilledSoFar> { [BankCard] = new(30_000, 1_080_000) };
        var bill = Settle(new BillingPeriod(Settlement.Monthly, new DateOnly(2026, 11, 1)),
            new MonthInput("202610", false, [new LabelMonthUsage(BankCard, 30_000, 30_000, 0)], billed),
            new MonthInput("202611", true, [], Nothing));
        Assert.Empty(bill.Lines);
        Assert.Equal(0, bill.TotalFen);
        Assert.Empty(bill.Billed);
    }

    [Fact]
    public void R_BIL_2_packages_are_prepaid_charges_and_refunds_credits_that_the_balance_received_already()
    {
        var period = Day(2027, 3, 10);
        var at = new DateTimeOffset(2027, 3, 10, 9, 0, 0, ChinaCalendar.Offset);
        var draft = SettlementCalculator.Compute(new SettlementInput(period, "2021-06",
            [new MonthInput("202703", true, [new LabelMonthUsage("basic_authoritative", 50, 50, 50)], Nothing)],
            [
                new PrepaidCharge("pkg-b", "basic_authoritative", 10_000, 800_000, at.AddHours(1)),
                new PrepaidCharge("pkg-a", "id_info_check", 1_000, 30_000, at.AddDays(-3)), // reached Billing late
            ],
            [new RefundCredit("ref-1", "pkg-a", "id_info_check", 1_000, 30_000, at.AddHours(2))]), Catalog.Instance);

        Assert.Equal([LineKind.Postpaid, LineKind.PrepaidPackage, LineKind.PrepaidPackage, LineKind.RefundCredit], draft.Lines.Select(l => l.Kind));
        Assert.Equal("pkg-a", draft.Lines[1].Reference); // purchase order
        Assert.Contains("after its period was settled", draft.Lines[1].Description);
        Assert.Equal(-30_000, draft.Lines[3].AmountFen);
        Assert.Equal(5_000 + 800_000 + 30_000 - 30_000, draft.TotalFen);
        Assert.Equal(5_000 + 800_000 + 30_000, draft.BalanceChargeFen); // the refund went to the balance when it completed
        Assert.Equal(["pkg-b", "pkg-a"], draft.PackagesCharged);
        Assert.Equal(["ref-1"], draft.RefundsCredited);
    }
}
