using System.Globalization;
using Xunit;

namespace FaceId.Cli.Tests;

/// <summary>
/// The instant forms the README's examples use: <c>--at now</c>, <c>--from "$(date +%Y-%m)"</c> (a
/// Shanghai month), <c>--to "$(date -d tomorrow +%F)"</c> (a Shanghai day), and RFC 3339.
/// </summary>
public sealed class InstantsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 5, 43, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("now", "2026-12-02T05:43:00Z")]
    [InlineData("NOW", "2026-12-02T05:43:00Z")]
    [InlineData("2026-12", "2026-11-30T16:00:00Z")]        // a Shanghai month: its first instant
    [InlineData("2026-12-01", "2026-11-30T16:00:00Z")]     // a Shanghai day
    [InlineData("2026-12-01T08:00:00Z", "2026-12-01T08:00:00Z")]
    [InlineData("2026-12-01T08:00:00+08:00", "2026-12-01T00:00:00Z")]
    [InlineData("2026-12-01T08:00:00", "2026-12-01T00:00:00Z")]  // no offset: Shanghai time
    public void Accepted_forms(string text, string utc)
    {
        Assert.True(Values.TryParseInstant(text, Now, out var instant), text);
        Assert.Equal(utc, instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("2026-13")]
    [InlineData("2026-12-32")]
    [InlineData("yesterday")]
    [InlineData("")]
    public void Refused_forms(string text) => Assert.False(Values.TryParseInstant(text, Now, out _), text);

    [Fact]
    public async Task A_bad_instant_is_a_usage_error_naming_the_option()
    {
        var result = await Cli.RunAsync(["stats", "--account", "acc_x", "--from", "2026-13"]);
        result.AssertExit(ExitCodes.Usage);
        Assert.Contains("--from: '2026-13' is not an instant", result.Err);
    }
}
