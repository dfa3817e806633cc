using FaceId.Billing.Domain;
using FaceId.Common;
using Xunit;

namespace FaceId.Billing.Tests.Domain;

/// <summary>Settlement periods in Asia/Shanghai: day boundaries, month ends, price book and cycle by activation date (docs/rules.md §5.4).</summary>
public sealed class CalendarTests
{
    private static DateTimeOffset Utc(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("2027-03-10T15:59:59Z", "2027-03-10")]
    [InlineData("2027-03-10T16:00:00Z", "2027-03-11")]
    [InlineData("2027-03-31T15:59:59Z", "2027-03-31")]
    [InlineData("2027-03-31T16:00:00Z", "2027-04-01")]
    public void R_BIL_2_a_daily_period_is_a_Shanghai_day(string instant, string period) =>
        Assert.Equal(period, BillingPeriod.Containing(Settlement.Daily, Utc(instant)).Key);

    [Theory]
    [InlineData("2027-03-31T15:59:59Z", "2027-03")]
    [InlineData("2027-03-31T16:00:00Z", "2027-04")]
    [InlineData("2028-02-29T15:59:59Z", "2028-02")] // leap day, 23:59:59 in Shanghai
    [InlineData("2028-02-29T16:00:00Z", "2028-03")]
    [InlineData("2027-02-28T15:59:59Z", "2027-02")]
    [InlineData("2027-02-28T16:00:00Z", "2027-03")]
    public void R_BIL_2_a_monthly_period_is_a_Shanghai_month(string instant, string period) =>
        Assert.Equal(period, BillingPeriod.Containing(Settlement.Monthly, Utc(instant)).Key);

    [Fact]
    public void R_BIL_2_February_ends_on_the_28th_and_in_leap_years_on_the_29th()
    {
        var feb2027 = new BillingPeriod(Settlement.Monthly, new DateOnly(2027, 2, 1));
        var feb2028 = new BillingPeriod(Settlement.Monthly, new DateOnly(2028, 2, 1));
        Assert.Equal(28, feb2027.Days().Count());
        Assert.Equal(29, feb2028.Days().Count());
        Assert.Equal(Utc("2027-02-28T16:00:00Z"), feb2027.End); // 2027-03-01 00:00 Shanghai
        Assert.Equal(Utc("2028-02-29T16:00:00Z"), feb2028.End);
        Assert.Equal(Utc("2028-01-31T16:00:00Z"), feb2028.Start);
        Assert.Equal("2028-03", feb2028.Next.Key);
        Assert.Equal("2028-01", feb2028.Previous.Key);

        var leapDay = new BillingPeriod(Settlement.Daily, new DateOnly(2028, 2, 28));
        Assert.Equal(["2028-02-29", "2028-03-01"], new[] { leapDay.Next.Key, leapDay.Next.Next.Key });
        Assert.Equal("2027-03-01", new BillingPeriod(Settlement.Daily, new DateOnly(2027, 2, 28)).Next.Key);
        Assert.Equal("2028-02-29", new BillingPeriod(Settlement.Daily, new DateOnly(2028, 3, 1)).Previous.Key);
    }

    [Theory]
    [InlineData("2021-06-21T23:59:59+08:00", "legacy", Settlement.Monthly)]
    [InlineData("2021-06-21T15:59:59Z", "legacy", Settlement.Monthly)]
    [InlineData("2021-06-21T16:00:00Z", "2021-06", Settlement.Monthly)] // 2021-06-22 00:00 Shanghai
    [InlineData("2021-06-22T00:00:00+08:00", "2021-06", Settlement.Monthly)]
    [InlineData("2023-01-03T23:59:59+08:00", "2021-06", Settlement.Monthly)]
    [InlineData("2023-01-04T00:00:00+08:00", "2021-06", Settlement.Daily)]
    public void R_BIL_2_the_activation_date_fixes_price_book_and_cycle(string activatedAt, string book, Settlement cycle) =>
        Assert.Equal((book, cycle), PriceBookPolicy.For(Utc(activatedAt)));

    [Fact]
    public void Bill_ids_name_their_period()
    {
        var day = new BillingPeriod(Settlement.Daily, new DateOnly(2027, 3, 10));
        var month = new BillingPeriod(Settlement.Monthly, new DateOnly(2027, 3, 1));
        Assert.Equal("bill-2027-03-10", day.BillId);
        Assert.Equal("bill-2027-03", month.BillId);
        Assert.Equal(day, BillingPeriod.FromBillId(Settlement.Daily, day.BillId));
        Assert.Equal(month, BillingPeriod.FromBillId(Settlement.Monthly, month.BillId));
        Assert.Null(BillingPeriod.FromBillId(Settlement.Daily, month.BillId));
        Assert.Null(BillingPeriod.FromBillId(Settlement.Monthly, "bill-2027-13"));
        Assert.Null(BillingPeriod.FromBillId(Settlement.Monthly, "nope"));
    }
}
