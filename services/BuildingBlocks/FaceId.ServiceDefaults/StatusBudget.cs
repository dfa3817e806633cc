using System.Collections;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Status = Google.Rpc.Status;

namespace FaceId.ServiceDefaults;

/// <summary>
/// Keeps every error's trailers small whatever the request carried (docs/api.md, "Bounded requests and
/// errors"): the status message as sent in <c>grpc-message</c> (percent-encoded) is at most
/// <see cref="MaxMessageBytes"/>, and the google.rpc.Status sent base64 in <c>grpc-status-details-bin</c>
/// at most <see cref="MaxStatusBytes"/> — together well under 4 KiB. Past 64 KiB common clients cannot
/// read the trailers and hang until their deadline, with later calls on the connection.
/// </summary>
public static class StatusBudget
{
    public const int MaxMessageBytes = 768;
    public const int MaxStatusBytes = 2048;

    private static readonly TypeRegistry Details = TypeRegistry.FromFiles(Google.Rpc.ErrorDetailsReflection.Descriptor);

    /// <summary>The status itself when it is within budget (the usual case, no copy); else a shortened copy.</summary>
    public static Status Fit(Status status)
    {
        if (EncodedLength(status.Message) <= MaxMessageBytes && status.CalculateSize() <= MaxStatusBytes) return status;
        var fitted = new Status { Code = status.Code, Message = Shorten(status.Message, MaxMessageBytes) };
        // Shorter strings and fewer repeated entries in the details until the status fits.
        for (int bytes = 256, entries = 16; ; bytes /= 2, entries = Math.Max(entries / 2, 1))
        {
            fitted.Details.Clear();
            foreach (var detail in status.Details.Take(4)) fitted.Details.Add(Shrink(detail, bytes, entries));
            if (fitted.CalculateSize() <= MaxStatusBytes) return fitted;
            if (bytes <= 16)
            {
                fitted.Details.Clear();
                return fitted;
            }
        }
    }

    /// <summary>
    /// The length of <paramref name="text"/> as <c>grpc-message</c> carries it: printable ASCII but
    /// <c>%</c> as is, every other UTF-8 byte as <c>%XX</c>.
    /// </summary>
    public static int EncodedLength(string text)
    {
        var length = 0;
        foreach (var rune in text.EnumerateRunes()) length += Cost(rune);
        return length;
    }

    private static int Cost(Rune rune) => rune.Value is >= 0x20 and <= 0x7E and not '%' ? 1 : rune.Utf8SequenceLength * 3;

    /// <summary>The longest prefix of <paramref name="text"/>, plus "…", whose encoded length is within <paramref name="budget"/>.</summary>
    public static string Shorten(string text, int budget)
    {
        if (EncodedLength(text) <= budget) return text;
        var ellipsis = Cost(new Rune('…'));
        var used = 0;
        var end = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (used + Cost(rune) > budget - ellipsis) break;
            used += Cost(rune);
            end += rune.Utf16SequenceLength;
        }
        return text[..end] + "…";
    }

    private static Any Shrink(Any detail, int bytes, int entries)
    {
        if (Details.Find(Any.GetTypeName(detail.TypeUrl)) is not { } type) return detail;
        var message = type.Parser.ParseFrom(detail.Value);
        Shrink(message, bytes, entries);
        return Any.Pack(message);
    }

    private static void Shrink(IMessage message, int bytes, int entries)
    {
        foreach (var field in message.Descriptor.Fields.InDeclarationOrder())
        {
            var value = field.Accessor.GetValue(message);
            if (value is string s) field.Accessor.SetValue(message, Shorten(s, bytes));
            else if (value is IMessage child) Shrink(child, bytes, entries);
            else if (value is IList list)
            {
                while (list.Count > entries) list.RemoveAt(list.Count - 1);
                for (var i = 0; i < list.Count; i++)
                {
                    if (list[i] is string item) list[i] = Shorten(item, bytes);
                    else if (list[i] is IMessage m) Shrink(m, bytes, entries);
                }
            }
            else if (value is IDictionary map)
            {
                var kept = map.Keys.Cast<object>().Take(entries).Select(k => (Key: k, Value: map[k])).ToList();
                map.Clear();
                foreach (var (k, v) in kept)
                    map[k is string key ? Shorten(key, bytes) : k] = v is string text ? Shorten(text, bytes) : v;
            }
        }
    }
}
