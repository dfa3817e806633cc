using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FaceId.Metering.Application;

/// <summary>
/// The hot path's metrics (meter "FaceId.Metering", docs/observability.md). Tags are the resolved
/// label (a fixed catalog list) and the outcome: never account or request ids. Recording adds no
/// allocation per call: counters and histograms with at most two stack-allocated tags.
/// </summary>
public static class MeteringTelemetry
{
    public const string Name = "FaceId.Metering";
    private static readonly Meter Meter = new(Name);

    /// <summary>faceid.metering.calls: usage records decided, by label and outcome.</summary>
    public static readonly Counter<long> Calls = Meter.CreateCounter<long>("faceid.metering.calls", "{call}",
        "Usage records metered, by label and outcome (package, postpaid, not_billable, refused, duplicate).");

    /// <summary>
    /// faceid.metering.deduction.duration: how long one main account's records of a request took to be
    /// charged — the atomic deduct.lua call, plus any wait to join a coalesced call (group commit).
    /// </summary>
    public static readonly Histogram<double> DeductionDuration = Meter.CreateHistogram<double>("faceid.metering.deduction.duration", "s",
        "Time one main account's records of a request took to be charged: the atomic deduct.lua call, plus any wait to join a coalesced call.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] });

    /// <summary>faceid.metering.batch.size: records per metering request (1 for RecordUsage).</summary>
    public static readonly Histogram<int> BatchSize = Meter.CreateHistogram<int>("faceid.metering.batch.size", "{record}",
        "Usage records per metering request (RecordUsage: 1; RecordUsageBatch: up to 5,000).",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] });

    /// <summary>Records the time since <paramref name="startedTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>) as one deduction.</summary>
    public static void Deducted(long startedTimestamp) =>
        DeductionDuration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds);

    /// <summary>Counts the decided records; runs of equal label and outcome are added at once.</summary>
    public static void Metered(IReadOnlyList<UsageResult?> results)
    {
        if (!Calls.Enabled) return;
        string? label = null, outcome = null;
        var run = 0;
        foreach (var r in results)
        {
            if (r is null) continue;
            var (l, o) = (r.Label.Length > 0 ? r.Label : "none", Outcome(r));
            if (run > 0 && (!ReferenceEquals(o, outcome) || l != label))
            {
                Add(run, label!, outcome!);
                run = 0;
            }
            (label, outcome) = (l, o);
            run++;
        }
        if (run > 0) Add(run, label!, outcome!);
    }

    private static void Add(long count, string label, string outcome) =>
        Calls.Add(count, new KeyValuePair<string, object?>("label", label), new KeyValuePair<string, object?>("outcome", outcome));

    private static string Outcome(UsageResult r) => r switch
    {
        { Kind: UsageKind.Refused } => "refused",
        { Duplicate: true } => "duplicate",
        { Kind: UsageKind.Package } => "package",
        { Kind: UsageKind.Postpaid } => "postpaid",
        { Kind: UsageKind.NotBillable } => "not_billable",
        _ => throw new InvalidOperationException($"unknown usage kind '{r.Kind}' to count"),
    };
}
