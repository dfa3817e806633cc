using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using FaceId.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

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

    public static readonly Histogram<double> ProcessDuration = Meter.CreateHistogram<double>("faceid.events.process.duration", "s",
        "Time a consumer took to handle one delivery (de-duplication check, handler, processed mark).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    /// <summary>
    /// Package alerts (low balance, exhausted, expiring, expired) handed to the transport, by kind.
    /// Counted where the relay publishes faceid.packages.alert.v1: the ledger raises each alert once
    /// per package and kind, so this counts alerts sent to Onboarding (a relay retry after a crash
    /// between publish and XDEL counts again, as the consumer sees it again).
    /// </summary>
    public static readonly Counter<long> PackageAlerts = Meter.CreateCounter<long>("faceid.packages.alerts", "{alert}", "Package alerts published for notification, by kind.");

    private static readonly ConcurrentDictionary<ConsumerLagMonitor, bool> LagMonitors = new();

    static EventBusTelemetry()
    {
        Meter.CreateObservableGauge("faceid.events.consumer.pending", () => Observe(m => m.Pending), "{event}",
            "Entries delivered to the consumer group and not yet acknowledged (XPENDING count), per topic and group.");
        Meter.CreateObservableGauge("faceid.events.consumer.oldest_pending_age", () => Observe(m => m.OldestPendingAge), "s",
            "Age of the oldest unacknowledged entry of the consumer group (0 when none), per topic and group.");
        Meter.CreateObservableGauge("faceid.events.consumer.lag", () => Observe(m => m.Lag), "{event}",
            "Entries of the topic stream not yet delivered to the consumer group (XINFO GROUPS lag), per topic and group.");
        Meter.CreateObservableGauge("faceid.events.dead_letter.entries", () => Observe(m => m.DeadLetterEntries), "{event}",
            "Entries in the topic's dead-letter stream (XLEN <topic>.deadletter), any group or transport.");
    }

    /// <summary>Starts a span whose parent is the W3C trace context carried by an event, if any.</summary>
    /// <remarks>
    /// When the event's trace differs from the ambient span (e.g. a Dapr sidecar delivered it in an
    /// HTTP request of another trace), the new span links to the ambient one, so both traces lead to it.
    /// </remarks>
    public static Activity? StartFromTraceParent(string name, ActivityKind kind, string? traceParent, string? traceState)
    {
        if (traceParent is not null && ActivityContext.TryParse(traceParent, traceState, out var parent))
        {
            var ambient = Activity.Current;
            return ambient is not null && ambient.TraceId != parent.TraceId
                ? Source.StartActivity(name, kind, parent, links: [new ActivityLink(ambient.Context)])
                : Source.StartActivity(name, kind, parent);
        }
        return Source.StartActivity(name, kind);
    }

    /// <summary>Counts one event handed to the transport (and, for package alerts, the alert by kind).</summary>
    internal static void OnPublished(CloudEvent cloudEvent)
    {
        Published.Add(1, new KeyValuePair<string, object?>("topic", cloudEvent.Topic));
        if (cloudEvent.Topic == EventTopics.PackageAlert)
            PackageAlerts.Add(1, new KeyValuePair<string, object?>("kind", AlertKind(cloudEvent.DataJson)));
    }

    private static readonly (string Quoted, string Tag)[] AlertKinds =
        [.. new[] { "LOW_BALANCE", "EXHAUSTED", "EXPIRING_7D", "EXPIRING_1D", "EXPIRED" }.Select(k => ($"\"PACKAGE_ALERT_KIND_{k}\"", k.ToLowerInvariant()))];

    /// <summary>The alert's kind, lower case, from a fixed list (never free text from the payload).</summary>
    private static string AlertKind(string dataJson)
    {
        foreach (var (quoted, tag) in AlertKinds)
            if (dataJson.Contains(quoted, StringComparison.Ordinal))
                return tag;
        return "unknown";
    }

    private static IEnumerable<Measurement<T>> Observe<T>(Func<ConsumerLagMonitor, IReadOnlyList<Measurement<T>>> select) where T : struct
    {
        foreach (var monitor in LagMonitors.Keys)
            foreach (var m in select(monitor))
                yield return m;
    }

    internal static void Register(ConsumerLagMonitor monitor) => LagMonitors[monitor] = true;

    internal static void Unregister(ConsumerLagMonitor monitor) => LagMonitors.TryRemove(monitor, out _);
}

/// <summary>
/// Samples, every <see cref="EventBusOptions.LagSampleIntervalMs"/>, the state of this service's
/// consumer group on each subscribed topic stream — pending count and oldest pending age
/// (XPENDING summary), undelivered entries (XINFO GROUPS lag) and the dead-letter stream's length —
/// for the observable gauges of <see cref="EventBusTelemetry"/>. Sampling runs here, never inside
/// a gauge callback, so a metrics collection never waits for Redis. Works for both transports:
/// a Dapr sidecar's pubsub.redis uses the same streams and the same group (the app id).
/// </summary>
public sealed class ConsumerLagMonitor(
    EventSubscriptions subscriptions,
    IDatabase redis,
    IOptions<EventBusOptions> options,
    ILogger<ConsumerLagMonitor> logger) : BackgroundService
{
    internal IReadOnlyList<Measurement<long>> Pending { get; private set; } = [];
    internal IReadOnlyList<Measurement<double>> OldestPendingAge { get; private set; } = [];
    internal IReadOnlyList<Measurement<long>> Lag { get; private set; } = [];
    internal IReadOnlyList<Measurement<long>> DeadLetterEntries { get; private set; } = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (subscriptions.All.Count == 0) return;
        EventBusTelemetry.Register(this);
        try
        {
            var every = TimeSpan.FromMilliseconds(options.Value.LagSampleIntervalMs);
            var failing = false;
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await SampleAsync();
                    failing = false;
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    // Keep the last sample; say so once per outage, not every interval.
                    if (!failing) logger.LogWarning(e, "Consumer lag sampling paused: Redis error");
                    failing = true;
                }
                await Task.Delay(every, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            EventBusTelemetry.Unregister(this);
        }
    }

    /// <summary>
    /// Reads the state of every subscribed topic now and keeps it as the gauges' sample: one place
    /// computes what the metrics and the operations RPC (GetEventBusStatus) report.
    /// </summary>
    public async Task<IReadOnlyList<ConsumerGroupState>> SampleAsync()
    {
        var group = options.Value.AppId;
        var topics = subscriptions.All.Select(s => s.Topic).Distinct().Order(StringComparer.Ordinal).ToList();
        var states = new List<ConsumerGroupState>(topics.Count);
        // Stream ids carry Redis's wall clock, so ages are measured against the real clock.
        var nowMs = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var topic in topics)
        {
            long? pending = null, lag = null;
            double? age = null;
            try
            {
                var summary = await redis.StreamPendingAsync(topic, group);
                pending = summary.PendingMessageCount;
                age = summary.PendingMessageCount == 0 ? 0 : StreamIdAgeSeconds(summary.LowestPendingMessageId, nowMs);
                if (Array.Find(await redis.StreamGroupInfoAsync(topic), g => g.Name == group) is { Lag: { } l })
                    lag = l;
            }
            catch (RedisServerException e) when (e.Message.StartsWith("NOGROUP", StringComparison.Ordinal) || e.Message.Contains("no such key", StringComparison.OrdinalIgnoreCase))
            {
                // The stream or group does not exist (yet): nothing to report for it.
            }
            var dead = await redis.StreamLengthAsync(Transports.DeadLetters.StreamOf(topic));
            states.Add(new ConsumerGroupState(topic, group, pending, age, lag, dead));
        }
        Keep(states);
        return states;
    }

    private void Keep(List<ConsumerGroupState> states)
    {
        KeyValuePair<string, object?>[] Tags(ConsumerGroupState s) => [new("topic", s.Topic), new("group", s.ConsumerGroup)];
        Pending = [.. states.Where(s => s.Pending is not null).Select(s => new Measurement<long>(s.Pending!.Value, Tags(s)))];
        OldestPendingAge = [.. states.Where(s => s.OldestPendingAgeSeconds is not null).Select(s => new Measurement<double>(s.OldestPendingAgeSeconds!.Value, Tags(s)))];
        Lag = [.. states.Where(s => s.Lag is not null).Select(s => new Measurement<long>(s.Lag!.Value, Tags(s)))];
        DeadLetterEntries = [.. states.Select(s => new Measurement<long>(s.DeadLetterEntries, [new("topic", s.Topic)]))];
    }

    /// <summary>Age of a stream entry from its id (milliseconds of Redis's clock), seconds; 0 when unreadable.</summary>
    public static double StreamIdAgeSeconds(RedisValue entryId, long nowMs)
    {
        var id = entryId.ToString();
        var dash = id.IndexOf('-');
        return long.TryParse(dash > 0 ? id.AsSpan(0, dash) : id, out var ms) ? Math.Max(0, nowMs - ms) / 1000.0 : 0;
    }
}

/// <summary>
/// One consumer group on one topic stream: pending (XPENDING), oldest pending age, lag (XINFO
/// GROUPS) — null when the stream or group does not exist yet or Redis cannot tell — and the
/// length of the topic's dead-letter stream.
/// </summary>
public sealed record ConsumerGroupState(string Topic, string ConsumerGroup, long? Pending, double? OldestPendingAgeSeconds, long? Lag, long DeadLetterEntries);
