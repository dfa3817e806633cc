using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Logs;

namespace FaceId.Observability.Tests.Support;

/// <summary>
/// Log records as the services' OpenTelemetry logging provider exports them (category, level,
/// message template, attributes, trace and span id), copied when emitted (LogRecords are pooled).
/// </summary>
public sealed class LogCapture : BaseProcessor<LogRecord>
{
    public sealed record Entry(string Category, Microsoft.Extensions.Logging.LogLevel Level, string? Template, string? Message,
        IReadOnlyDictionary<string, string> Attributes, ActivityTraceId TraceId, ActivitySpanId SpanId);

    public ConcurrentQueue<Entry> Entries { get; } = new();

    /// <summary>Test services for InProcessService: this processor on the host's (ServiceDefaults) logging provider.</summary>
    public Action<IServiceCollection> Into => services =>
        services.Configure<OpenTelemetryLoggerOptions>(o => o.AddProcessor(this));

    public override void OnEnd(LogRecord data)
    {
        var attributes = new Dictionary<string, string>();
        foreach (var (key, value) in data.Attributes ?? []) attributes[key] = value?.ToString() ?? "";
        Entries.Enqueue(new Entry(data.CategoryName ?? "", data.LogLevel, data.Body, data.FormattedMessage, attributes, data.TraceId, data.SpanId));
    }
}
