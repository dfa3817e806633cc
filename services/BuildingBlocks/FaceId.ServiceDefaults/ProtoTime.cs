using FaceId.Common;
using Google.Protobuf.WellKnownTypes;

namespace FaceId.ServiceDefaults;

/// <summary>Reads request timestamps: an out-of-range one is bad input on its field, never an INTERNAL error.</summary>
public static class ProtoTime
{
    public static DateTimeOffset? ToInstant(this Timestamp? t, string field) =>
        TryToInstant(t, out var at) ? at : throw Invalid(field);

    /// <summary>False for a timestamp out of range; a missing one is valid here (null).</summary>
    public static bool TryToInstant(Timestamp? t, out DateTimeOffset? at)
    {
        at = null;
        if (t is null) return true;
        // Timestamp.ToDateTimeOffset's own range check, without its exception.
        if (t.Seconds < MinSeconds || t.Seconds > MaxSeconds || t.Nanos < 0 || t.Nanos > 999_999_999) return false;
        at = t.ToDateTimeOffset();
        return true;
    }

    public static InvalidInputException Invalid(string field) =>
        new(field, "is not a valid timestamp (years 0001-9999, nanos 0-999999999)");

    // 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in unix seconds (Timestamp's valid range).
    private const long MinSeconds = -62135596800L;
    private const long MaxSeconds = 253402300799L;
}
