using System.Collections;
using System.Diagnostics;
using FaceId.TestKit;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace FaceId.Observability.Tests.Support;

/// <summary>
/// What the OpenTelemetry in-memory exporter receives, safe to read while hosts keep exporting.
/// Add it to ONE host's tracer provider (<see cref="Into"/>): every provider of the process listens
/// to the same sources, so that host's provider sees the spans of all in-process hosts, once each.
/// </summary>
public sealed class SpanCapture : ICollection<Activity>
{
    private readonly List<Activity> _spans = [];
    private readonly object _lock = new();

    /// <summary>Test services for InProcessService: the in-memory exporter on the host's own (ServiceDefaults) tracer provider.</summary>
    public Action<IServiceCollection> Into => services =>
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(this));

    public IReadOnlyList<Activity> Snapshot()
    {
        lock (_lock) return [.. _spans];
    }

    /// <summary>The finished spans of one trace.</summary>
    public IReadOnlyList<Activity> Trace(string traceId) =>
        [.. Snapshot().Where(s => s.TraceId.ToHexString() == traceId).DistinctBy(s => s.SpanId)];

    /// <summary>Waits until the trace has a span matching <paramref name="match"/>, and returns it.</summary>
    public async Task<Activity> WaitForAsync(string traceId, Func<Activity, bool> match, string because)
    {
        try
        {
            return (await Eventually.GetAsync(() => Task.FromResult(Trace(traceId).FirstOrDefault(match)), s => s is not null, Platform.Timeout, because))!;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}{System.Environment.NewLine}{Describe(traceId)}");
        }
    }

    /// <summary>The trace as an indented tree, for failure messages.</summary>
    public string Describe(string traceId)
    {
        var spans = Trace(traceId);
        var ids = spans.Select(s => s.SpanId).ToHashSet();
        var lines = new List<string>();
        void Walk(Activity s, int depth)
        {
            lines.Add($"{new string(' ', depth * 2)}{s.DisplayName} [{s.Kind}, {s.Source.Name}] {s.SpanId}" +
                (s.Links.Any() ? $" links={string.Join(",", s.Links.Select(l => l.Context.SpanId))}" : ""));
            foreach (var c in spans.Where(c => c.ParentSpanId == s.SpanId)) Walk(c, depth + 1);
        }
        foreach (var root in spans.Where(s => !ids.Contains(s.ParentSpanId))) Walk(root, 0);
        if (spans.Count == 0)
            lines.AddRange(Snapshot().TakeLast(30).Select(s => $"(other trace {s.TraceId}) {s.DisplayName} [{s.Kind}, {s.Source.Name}] parent {s.ParentSpanId}"));
        return $"trace {traceId}:{System.Environment.NewLine}{string.Join(System.Environment.NewLine, lines)}";
    }

    public void Add(Activity item)
    {
        lock (_lock) _spans.Add(item);
    }

    public void Clear()
    {
        lock (_lock) _spans.Clear();
    }

    public bool Contains(Activity item)
    {
        lock (_lock) return _spans.Contains(item);
    }

    public void CopyTo(Activity[] array, int arrayIndex)
    {
        lock (_lock) _spans.CopyTo(array, arrayIndex);
    }

    public bool Remove(Activity item)
    {
        lock (_lock) return _spans.Remove(item);
    }

    public int Count
    {
        get { lock (_lock) return _spans.Count; }
    }

    public bool IsReadOnly => false;

    public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
