using System.Buffers;
using System.Text;
using System.Text.Json;

namespace FaceId.EventBus;

/// <summary>
/// The one wire format of both transports: a CloudEvent 1.0 in structured JSON mode, with the
/// event message's protobuf JSON as <c>data</c> and W3C trace context as extension attributes.
/// This is what Dapr's pubsub.redis stores in a stream entry's <c>data</c> field.
/// </summary>
public sealed record CloudEvent
{
    public const string ContentType = "application/cloudevents+json";

    public required string Id { get; init; }
    public required string Source { get; init; }
    /// <summary>The protobuf message's full name, e.g. faceid.events.v1.ServiceActivated.</summary>
    public required string Type { get; init; }
    public required string Topic { get; init; }
    public required DateTimeOffset Time { get; init; }
    /// <summary>The event message in protobuf JSON mapping.</summary>
    public required string DataJson { get; init; }
    public string? PubSubName { get; init; }
    public string? TraceParent { get; init; }
    public string? TraceState { get; init; }

    public byte[] ToJsonBytes()
    {
        var buffer = new ArrayBufferWriter<byte>(256 + DataJson.Length);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("specversion", "1.0");
            w.WriteString("id", Id);
            w.WriteString("source", Source);
            w.WriteString("type", Type);
            w.WriteString("datacontenttype", "application/json");
            w.WriteString("time", Time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("topic", Topic);
            if (PubSubName is not null) w.WriteString("pubsubname", PubSubName);
            if (TraceParent is not null) w.WriteString("traceparent", TraceParent);
            if (TraceState is not null) w.WriteString("tracestate", TraceState);
            w.WritePropertyName("data");
            w.WriteRawValue(DataJson, skipInputValidation: false);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public string ToJson() => Encoding.UTF8.GetString(ToJsonBytes());

    /// <summary>Parses a structured-mode CloudEvent; throws <see cref="MalformedEventException"/> when it is not one.</summary>
    public static CloudEvent Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json.ToArray());
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new MalformedEventException("a CloudEvent must be a JSON object");
            string Req(string name) => root.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String && p.GetString() is { Length: > 0 } s
                ? s
                : throw new MalformedEventException($"CloudEvent attribute '{name}' is missing");
            string? Opt(string name) => root.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            if (!root.TryGetProperty("data", out var data)) throw new MalformedEventException("CloudEvent 'data' is missing");
            var dataJson = data.ValueKind == JsonValueKind.String ? data.GetString()! : data.GetRawText();
            return new CloudEvent
            {
                Id = Req("id"),
                Source = Opt("source") ?? "",
                Type = Req("type"),
                Topic = Opt("topic") ?? "",
                Time = DateTimeOffset.TryParse(Opt("time"), out var t) ? t : DateTimeOffset.MinValue,
                DataJson = dataJson,
                PubSubName = Opt("pubsubname"),
                TraceParent = Opt("traceparent"),
                TraceState = Opt("tracestate"),
            };
        }
        catch (JsonException e)
        {
            throw new MalformedEventException("not valid JSON: " + e.Message);
        }
    }
}

/// <summary>An event that can never be processed (bad JSON, unknown type): dead-lettered at once.</summary>
public sealed class MalformedEventException(string message) : Exception(message);
