using FaceId.Common;
using Xunit;

namespace FaceId.BuildingBlocks.Tests;

/// <summary>The review age Onboarding answers with its queues (R-ONB-1, R-ONB-5: a decision within 3 working days), as plain calendar arithmetic.</summary>
public sealed class ReviewSlaTests
{
    // Shanghai instants: 2026-12-04 is a Friday.
    private static DateTimeOffset At(string local) => DateTimeOffset.Parse(local + "+08:00");

    [Theory]
    [InlineData("2026-12-04T10:00", "2026-12-04T23:59", 0, false)] // same day
    [InlineData("2026-12-04T10:00", "2026-12-06T12:00", 0, false)] // Friday to Sunday: no working day yet
    [InlineData("2026-12-04T10:00", "2026-12-07T09:00", 1, false)] // Monday
    [InlineData("2026-12-04T10:00", "2026-12-09T18:00", 3, false)] // Wednesday: the third working day, still on target
    [InlineData("2026-12-04T10:00", "2026-12-10T00:00", 4, true)]  // Thursday: overdue
    [InlineData("2026-12-04T23:30", "2026-12-05T00:30", 0, false)] // past midnight Shanghai, into Saturday
    public void The_age_counts_working_days_after_the_submission_day_in_Shanghai(string submitted, string now, int days, bool overdue)
    {
        Assert.Equal((days, overdue), ReviewSla.AgeOf(At(submitted), At(now)));
    }

    [Fact]
    public void A_UTC_instant_counts_by_its_Shanghai_day()
    {
        // 2026-12-06T17:00Z is Monday 2026-12-07 01:00 in Shanghai.
        Assert.Equal(1, ChinaCalendar.WorkingDaysBetween(At("2026-12-04T10:00"), DateTimeOffset.Parse("2026-12-06T17:00Z")));
    }
}
