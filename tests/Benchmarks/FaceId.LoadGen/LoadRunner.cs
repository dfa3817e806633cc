using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;

namespace FaceId.LoadGen;

/// <summary>What one call produced: records answered, and the records whose outcome was wrong.</summary>
public readonly record struct CallOutcome(int Records, int Invalid, string? InvalidReason);

/// <summary>Per-caller counters of the outcome kinds seen (merged at the end).</summary>
public sealed class KindCounts
{
    public readonly long[] ByKind = new long[8];
    public long Duplicates;

    public void Merge(KindCounts other)
    {
        for (var i = 0; i < ByKind.Length; i++) ByKind[i] += other.ByKind[i];
        Duplicates += other.Duplicates;
    }
}

public sealed record RunSpec(int Concurrency, TimeSpan Warmup, TimeSpan Duration, int RecordsPerCall, long MaxRecords, int MaxErrors = 1000);

public sealed record RunResult(
    long Calls,
    long Records,
    double Seconds,
    double[] LatenciesMs,
    long WarmupCalls,
    IReadOnlyDictionary<string, long> Errors,
    long InvalidRecords,
    string? FirstInvalid,
    KindCounts Kinds,
    long[] PerSecondCalls,
    string? NotSustained = null)
{
    public double CallsPerSecond => Seconds > 0 ? Calls / Seconds : 0;
    public double RecordsPerSecond => Seconds > 0 ? Records / Seconds : 0;
    public long ErrorCount => Errors.Values.Sum();

    /// <summary>Nearest-rank percentile of the recorded latencies (sorted ascending).</summary>
    public double Percentile(double p)
    {
        if (LatenciesMs.Length == 0) return 0;
        var rank = (int)Math.Ceiling(p / 100.0 * LatenciesMs.Length);
        return LatenciesMs[Math.Clamp(rank - 1, 0, LatenciesMs.Length - 1)];
    }
}

/// <summary>
/// A closed-loop load: <c>Concurrency</c> callers each issue one call at a time. Calls completing
/// during the warm-up are checked but not measured; the timed window starts after it and ends when
/// its duration is over (or the record budget is spent). Every completed call of the window is
/// one latency sample; percentiles are exact over those samples. Any RPC error or wrong outcome,
/// in warm-up or window, is counted and fails the run.
/// </summary>
public static class LoadRunner
{
    public delegate Task<CallOutcome> Call(int caller, long sequence, KindCounts kinds, CancellationToken ct);

    /// <param name="windowStart">Called when the timed window opens (e.g. to take a profile snapshot).</param>
    public static async Task<RunResult> RunAsync(RunSpec spec, Call call, Func<Task>? windowStart = null)
    {
        var freq = (double)Stopwatch.Frequency;
        var errors = new ConcurrentDictionary<string, long>();
        long errorTotal = 0, issuedRecords = 0, invalid = 0, warmupCalls = 0;
        string? firstInvalid = null;
        var stop = 0;
        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + (long)(spec.Warmup.TotalSeconds * freq);
        var measureTo = measureFrom + (long)(spec.Duration.TotalSeconds * freq);
        var buckets = new long[(int)Math.Ceiling(spec.Duration.TotalSeconds) + 2];
        using var cts = new CancellationTokenSource();

        var samples = new List<long>[spec.Concurrency];
        var kinds = new KindCounts[spec.Concurrency];
        var lastCompletion = new long[spec.Concurrency];
        var counted = new long[spec.Concurrency];
        var countedRecords = new long[spec.Concurrency];

        async Task Worker(int w)
        {
            var mine = samples[w] = new List<long>(1 << 14);
            var k = kinds[w] = new KindCounts();
            long seq = 0;
            await Task.Yield();
            while (Volatile.Read(ref stop) == 0)
            {
                var t0 = Stopwatch.GetTimestamp();
                if (t0 >= measureTo) break;
                if (spec.MaxRecords > 0 && Interlocked.Add(ref issuedRecords, spec.RecordsPerCall) > spec.MaxRecords)
                {
                    Volatile.Write(ref stop, 1);
                    break;
                }
                CallOutcome outcome;
                try
                {
                    outcome = await call(w, seq++, k, cts.Token);
                }
                catch (Exception e)
                {
                    var name = e is RpcException r ? $"{r.StatusCode}: {Trim(r.Status.Detail)}" : $"{e.GetType().Name}: {Trim(e.Message)}";
                    errors.AddOrUpdate(name, 1, (_, n) => n + 1);
                    if (Interlocked.Increment(ref errorTotal) >= spec.MaxErrors) Volatile.Write(ref stop, 1);
                    continue;
                }
                var t1 = Stopwatch.GetTimestamp();
                if (outcome.Invalid > 0)
                {
                    Interlocked.Add(ref invalid, outcome.Invalid);
                    Interlocked.CompareExchange(ref firstInvalid, outcome.InvalidReason, null);
                    if (Interlocked.Read(ref invalid) >= spec.MaxErrors) Volatile.Write(ref stop, 1);
                }
                if (t1 < measureFrom)
                {
                    Interlocked.Increment(ref warmupCalls);
                    continue;
                }
                mine.Add(t1 - t0);
                counted[w]++;
                countedRecords[w] += outcome.Records;
                lastCompletion[w] = Math.Max(lastCompletion[w], t1);
                var b = (int)((t1 - measureFrom) / freq);
                if (b < buckets.Length) Interlocked.Increment(ref buckets[b]);
            }
        }

        var opening = Task.Run(async () =>
        {
            var wait = (measureFrom - Stopwatch.GetTimestamp()) / freq;
            if (wait > 0) await Task.Delay(TimeSpan.FromSeconds(wait));
            if (windowStart is not null) await windowStart();
        });
        await Task.WhenAll(Enumerable.Range(0, spec.Concurrency).Select(w => Task.Run(() => Worker(w))));
        await opening;

        var end = lastCompletion.Max();
        var seconds = end > measureFrom ? (end - measureFrom) / freq : 0;
        var all = samples.Where(s => s is not null).SelectMany(s => s).Select(t => t * 1000.0 / freq).ToArray();
        Array.Sort(all);
        var mergedKinds = new KindCounts();
        foreach (var k in kinds) if (k is not null) mergedKinds.Merge(k);
        // Whole seconds of the window only (the last, partial one is dropped).
        var fullSeconds = (int)Math.Floor(seconds);
        return new RunResult(counted.Sum(), countedRecords.Sum(), seconds, all, warmupCalls, errors, invalid, firstInvalid, mergedKinds,
            buckets.Take(Math.Max(0, fullSeconds)).ToArray());
    }

    private static string Trim(string s) => s.Length > 160 ? s[..160] + "…" : s;
}
