namespace FaceId.Common;

public enum Settlement { Monthly, Daily }

/// <summary>
/// docs/rules.md §5.4: the activation date fixes an account's price book and settlement cycle for
/// good. Dates are Asia/Shanghai calendar dates.
/// </summary>
public static class PriceBookPolicy
{
    public static readonly DateOnly CurrentBookFrom = new(2021, 6, 22);
    public static readonly DateOnly DailySettlementFrom = new(2023, 1, 4);

    public static (string PriceBook, Settlement Cycle) For(DateTimeOffset activatedAt)
    {
        var date = ChinaCalendar.DateOf(activatedAt);
        if (date < CurrentBookFrom) return ("legacy", Settlement.Monthly);
        return date < DailySettlementFrom ? ("2021-06", Settlement.Monthly) : ("2021-06", Settlement.Daily);
    }
}
