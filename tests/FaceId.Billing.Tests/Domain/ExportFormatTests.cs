using FaceId.Common;
using FaceId.Billing.Domain;
using Xunit;

namespace FaceId.Billing.Tests.Domain;

/// <summary>The exports' text: fen → CNY by integer arithmetic, RFC 4180 fields, RFC 3339 instants at +08:00.</summary>
public sealed class ExportFormatTests
{
    [Theory]
    [InlineData(0L, "0.00")]
    [InlineData(5L, "0.05")]
    [InlineData(10L, "0.10")]
    [InlineData(100L, "1.00")]
    [InlineData(12345L, "123.45")]
    [InlineData(-5L, "-0.05")]
    [InlineData(-12345L, "-123.45")]
    [InlineData(-100L, "-1.00")]
    [InlineData(long.MaxValue, "92233720368547758.07")]
    [InlineData(long.MaxValue - 7, "92233720368547758.00")]
    [InlineData(long.MinValue, "-92233720368547758.08")]
    public void Fen_become_a_decimal_CNY_string_exactly(long fen, string cny) => Assert.Equal(cny, Cny.FromFen(fen));

    [Fact]
    public void Csv_quotes_a_field_with_a_comma_a_quote_or_a_line_break_and_reads_back_the_same()
    {
        string[] fields = ["plain", "Branch office, Shenzhen", "the \"north\" gate", "two\r\nlines", "lf\nonly", "", "-12.00", "中文"];
        var text = Csv.Row(fields) + Csv.Row(["second", "row"]);
        Assert.StartsWith("plain,\"Branch office, Shenzhen\",\"the \"\"north\"\" gate\",\"two\r\nlines\",\"lf\nonly\",,-12.00,中文\r\n", text);
        Assert.EndsWith("second,row\r\n", text);
        var rows = Csv.Parse(text);
        Assert.Equal(2, rows.Count);
        Assert.Equal(fields, rows[0]);
        Assert.Equal(["second", "row"], rows[1]);
    }

    [Fact]
    public void Instants_are_RFC_3339_at_plus_08_00_with_milliseconds_only_when_there_are_some()
    {
        Assert.Equal("2026-12-01T00:00:00+08:00", InstantText.Format(DateTimeOffset.Parse("2026-11-30T16:00:00Z", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal("2026-12-01T10:15:30.25+08:00", InstantText.Format(DateTimeOffset.Parse("2026-12-01T02:15:30.250Z", System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void A_JSON_line_is_one_object_and_a_line_feed()
    {
        var line = JsonLines.Line(w =>
        {
            w.WriteString("name", "a \"quoted\", line\nbreak");
            w.WriteNumber("fen", -12345);
        });
        Assert.Equal("{\"name\":\"a \\\"quoted\\\", line\\nbreak\",\"fen\":-12345}\n", line);
    }
}
