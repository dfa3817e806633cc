using System.Globalization;

namespace FaceId.Common;

/// <summary>Money as text: integer fen to a decimal CNY string, by integer arithmetic only (no float anywhere).</summary>
public static class Cny
{
    /// <summary>12345 → "123.45", 5 → "0.05", -12345 → "-123.45"; every long, long.MinValue included.</summary>
    public static string FromFen(long fen)
    {
        var negative = fen < 0;
        // The magnitude as unsigned: -(long.MinValue) does not fit a long.
        var magnitude = negative ? (ulong)(-(fen + 1)) + 1UL : (ulong)fen;
        var yuan = magnitude / 100UL;
        var cents = magnitude % 100UL;
        return (negative ? "-" : "") + yuan.ToString(CultureInfo.InvariantCulture) + "." + cents.ToString("00", CultureInfo.InvariantCulture);
    }
}
