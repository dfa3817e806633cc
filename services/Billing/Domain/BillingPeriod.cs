using System.Globalization;
using FaceId.Common;

namespace FaceId.Billing.Domain;

/// <summary>
/// One settlement period of an account (R-BIL-2, docs/rules.md §5.4): a Shanghai calendar day for daily
/// accounts, a Shanghai calendar month for monthly ones. Half-open: [Start, End).
/// </summary>
public sealed record BillingPeriod(Settlement Cycle, DateOnly FirstDay)
{
    /// <summary>The first day after the period (exclusive end).</summary>
    public DateOnly EndDay => Cycle == Settlement.Daily ? FirstDay.AddDays(1) : FirstDay.AddMonths(1);

    public DateTimeOffset Start => ChinaCalendar.StartOf(FirstDay);

    public DateTimeOffset End => ChinaCalendar.StartOf(EndDay);

    /// <summary>"2026-11-26" for a day, "2026-11" for a month (the API's period strings).</summary>
    public string Key => Cycle == Settlement.Daily
        ? FirstDay.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
        : FirstDay.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <summary>Bill ids are derived from the period, so settling a period twice can only ever name one bill.</summary>
    public string BillId => BillIdPrefix + Key;

    public const string BillIdPrefix = "bill-";

    /// <summary>The month the period belongs to ("yyyyMM").</summary>
    public string Month => Months.Of(FirstDay);

    public BillingPeriod Next => new(Cycle, EndDay);

    public BillingPeriod Previous => new(Cycle, Cycle == Settlement.Daily ? FirstDay.AddDays(-1) : FirstDay.AddMonths(-1));

    public IEnumerable<DateOnly> Days()
    {
        for (var d = FirstDay; d < EndDay; d = d.AddDays(1)) yield return d;
    }

    public bool Contains(DateTimeOffset instant) => instant >= Start && instant < End;

    /// <summary>The period of <paramref name="cycle"/> that contains <paramref name="instant"/> (Shanghai calendar).</summary>
    public static BillingPeriod Containing(Settlement cycle, DateTimeOffset instant)
    {
        var date = ChinaCalendar.DateOf(instant);
        return cycle == Settlement.Daily ? new(cycle, date) : new(cycle, new DateOnly(date.Year, date.Month, 1));
    }

    /// <summary>Parses a <see cref="BillId"/> back to its period; null when it is not one.</summary>
    public static BillingPeriod? FromBillId(Settlement cycle, string billId)
    {
        if (!billId.StartsWith(BillIdPrefix, StringComparison.Ordinal)) return null;
        var key = billId[BillIdPrefix.Length..];
        if (cycle == Settlement.Daily)
            return DateOnly.TryParseExact(key, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? new(cycle, day) : null;
        return DateOnly.TryParseExact(key + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var first) ? new(cycle, first) : null;
    }

    public override string ToString() => Key;
}

/// <summary>Month and day keys as stored in Redis ("yyyyMM", "yyyyMMdd").</summary>
public static class Months
{
    public static string Of(DateOnly day) => day.ToString("yyyyMM", CultureInfo.InvariantCulture);

    public static string DayKey(DateOnly day) => day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    public static DateOnly FirstDayOf(string yyyyMM) => DateOnly.ParseExact(yyyyMM + "01", "yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>"202611" → "2026-11" (the API's month string).</summary>
    public static string Display(string yyyyMM) => yyyyMM[..4] + "-" + yyyyMM[4..];

    /// <summary>Every day of the month, first to last.</summary>
    public static IEnumerable<DateOnly> DaysOf(string yyyyMM)
    {
        var first = FirstDayOf(yyyyMM);
        for (var d = first; d < first.AddMonths(1); d = d.AddDays(1)) yield return d;
    }
}
