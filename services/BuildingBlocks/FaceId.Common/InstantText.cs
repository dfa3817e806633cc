using System.Globalization;
using System.Text.RegularExpressions;

namespace FaceId.Common;

/// <summary>
/// Instants in the forms people type, read alike by faceidctl's options and the HTTP/JSON query
/// parameters: <c>now</c>; an Asia/Shanghai day <c>2026-12-01</c> or month <c>2026-12</c> (its first
/// instant); RFC 3339 with <c>Z</c> or an offset, where the offset's <c>+</c> may have become a space
/// (URL query decoding); a date-time without offset is Shanghai time.
/// </summary>
public static partial class InstantText
{
    private static readonly TimeSpan Shanghai = TimeSpan.FromHours(8);

    /// <summary>RFC 3339 in Shanghai time with milliseconds when there are any: "2026-12-01T08:00:00+08:00" (exports, webhooks).</summary>
    public static string Format(DateTimeOffset t) =>
        t.ToOffset(Shanghai).ToString("yyyy-MM-dd'T'HH:mm:ss.FFFzzz", CultureInfo.InvariantCulture);

    public static bool TryParse(string text, DateTimeOffset now, out DateTimeOffset instant)
    {
        instant = default;
        text = text.Trim();
        if (text.Equals("now", StringComparison.OrdinalIgnoreCase))
        {
            instant = now;
            return true;
        }
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            instant = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), Shanghai);
            return true;
        }
        if (DateTime.TryParseExact(text, "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out var month))
        {
            instant = new DateTimeOffset(month, Shanghai);
            return true;
        }
        var m = DateTimeWithOffset().Match(text);
        if (!m.Success) return false;
        var local = m.Groups["local"].Value.Replace(' ', 'T');
        if (!DateTime.TryParse(local, CultureInfo.InvariantCulture, DateTimeStyles.None, out var dateTime)) return false;
        dateTime = DateTime.SpecifyKind(dateTime, DateTimeKind.Unspecified);
        var offset = Shanghai;
        if (m.Groups["zone"].Success)
        {
            var zone = m.Groups["zone"].Value;
            if (zone.Equals("Z", StringComparison.OrdinalIgnoreCase)) offset = TimeSpan.Zero;
            else
            {
                var digits = m.Groups["hhmm"].Value.Replace(":", "");
                var hours = int.Parse(digits[..2], CultureInfo.InvariantCulture);
                var minutes = int.Parse(digits[2..], CultureInfo.InvariantCulture);
                if (hours > 14 || minutes > 59) return false;
                offset = new TimeSpan(hours, minutes, 0) * (m.Groups["sign"].Value == "-" ? -1 : 1);
            }
        }
        try
        {
            instant = new DateTimeOffset(dateTime, offset);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^(?<local>\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)(?<zone>[Zz]|(?<sign>[+\- ])(?<hhmm>\d{2}:?\d{2}))?$")]
    private static partial Regex DateTimeWithOffset();
}
