using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FaceId.EventBus;

/// <summary>Spans and metrics of the event bus (documented in docs/observability.md).</summary>
public static class EventBusTelemetry
{
    public const string Name = "FaceId.EventBus";
    public static readonly ActivitySource Source = new(Name);
    private static readonly Meter Meter = new(Name);

    public static readonly Counter<long> Published = Meter.CreateCounter<long>("faceid.events.published", "{event}", "Events handed to the transport.");
    public static readonly Counter<long> Consumed = Meter.CreateCounter<long>("faceid.events.consumed", "{event}", "Events handled successfully (or skipped as duplicates).");
    public static readonly Counter<long> Failed = Meter.CreateCounter<long>("faceid.events.failed", "{event}", "Handler failures; the event stays pending and is redelivered.");
    public static readonly Counter<long> DeadLettered = Meter.CreateCounter<long>("faceid.events.dead_lettered", "{event}", "Events moved to a dead-letter stream.");

    /// <summary>Starts a span whose parent is the W3C trace context carried by an event, if any.</summary>
    public static Activity? StartFromTraceParent(string name, ActivityKind kind, string? traceParent, string? traceState)
    {
        if (traceParent is not null && ActivityContext.TryParse(traceParent, traceState, out var parent))
            return Source.StartActivity(name, kind, parent);
        return Source.StartActivity(name, kind);
    }
}
