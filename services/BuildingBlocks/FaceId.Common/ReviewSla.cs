namespace FaceId.Common;

/// <summary>
/// The public service level of a human review (R-ONB-1 applications, R-ONB-5 merchant ids): a decision
/// within 3 working days of submission.
/// </summary>
public static class ReviewSla
{
    public const int TargetWorkingDays = 3;

    /// <summary>Working days since submission (<see cref="ChinaCalendar.WorkingDaysBetween"/>) and whether the target is passed.</summary>
    public static (int WorkingDays, bool Overdue) AgeOf(DateTimeOffset submittedAt, DateTimeOffset now)
    {
        var days = ChinaCalendar.WorkingDaysBetween(submittedAt, now);
        return (days, days > TargetWorkingDays);
    }
}
