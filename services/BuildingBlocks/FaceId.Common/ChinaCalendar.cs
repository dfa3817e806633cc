namespace FaceId.Common;

/// <summary>
/// Calendar arithmetic in China Standard Time (Asia/Shanghai): UTC+8 all year, no DST since
/// 1991, so a fixed offset is exact for every date this platform handles and needs no tzdata.
/// </summary>
public static class ChinaCalendar
{
    public static readonly TimeSpan Offset = TimeSpan.FromHours(8);

    public static DateOnly DateOf(DateTimeOffset instant) => DateOnly.FromDateTime(instant.ToOffset(Offset).DateTime);

    /// <summary>00:00 of the given Shanghai date, as an instant.</summary>
    public static DateTimeOffset StartOf(DateOnly date) => new(date.ToDateTime(TimeOnly.MinValue), Offset);

    public static DateTimeOffset StartOfDay(DateTimeOffset instant) => StartOf(DateOf(instant));

    public static DateTimeOffset StartOfMonth(DateTimeOffset instant)
    {
        var d = DateOf(instant);
        return StartOf(new DateOnly(d.Year, d.Month, 1));
    }

    /// <summary>
    /// 00:00 of the same date one year later (exclusive end of a package's validity, R-PKG-2);
    /// 29 February maps to 28 February of the next year.
    /// </summary>
    public static DateTimeOffset AnniversaryOf(DateTimeOffset instant) => StartOf(DateOf(instant).AddYears(1));

    public static string DayKey(DateTimeOffset instant) => DateOf(instant).ToString("yyyy-MM-dd");

    public static string MonthKey(DateTimeOffset instant) => DateOf(instant).ToString("yyyy-MM");

    /// <summary>Monday to Friday in Shanghai. Public holidays and make-up working days are not modelled.</summary>
    public static bool IsWorkingDay(DateOnly date) => date.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday);

    /// <summary>
    /// Working days from the Shanghai day of <paramref name="from"/> to that of <paramref name="to"/>:
    /// the days after <paramref name="from"/>'s, up to and including <paramref name="to"/>'s, that are
    /// working days (0 on the same day). The age of a review against its SLA of working days.
    /// </summary>
    public static int WorkingDaysBetween(DateTimeOffset from, DateTimeOffset to)
    {
        var count = 0;
        for (var day = DateOf(from).AddDays(1); day <= DateOf(to); day = day.AddDays(1))
            if (IsWorkingDay(day)) count++;
        return count;
    }
}
