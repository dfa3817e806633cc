using FaceId.Common;
using Google.Protobuf.WellKnownTypes;

namespace FaceId.ServiceDefaults;

/// <summary>Reads request timestamps: an out-of-range one is bad input on its field, never an INTERNAL error.</summary>
public static class ProtoTime
{
    public static DateTimeOffset? ToInstant(this Timestamp? t, string field)
    {
        if (t is null) return null;
        try
        {
            return t.ToDateTimeOffset();
        }
        catch (InvalidOperationException)
        {
            throw new InvalidInputException(field, "is not a valid timestamp (years 0001-9999, nanos 0-999999999)");
        }
    }
}
