using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;

namespace FaceId.LoadGen;

/// <summary>
/// An open-loop load: calls arrive at a fixed rate whatever the server does, and each call's latency
/// is counted from its <em>intended</em> send time (start + i / rate), not from when it was actually
/// sent. A closed loop waits for an answer before the next call, so a stall delays the calls that
/// should have gone out meanwhile and hides their wait (coordinated omission); here a stall shows
/// in the latency of every call scheduled during it. Calls intended before the window opens are
/// the warm-up; calls intended inside the window are measured, however late they complete.
/// <para>
/// Before the clock starts, a short closed loop makes every piece of the call path compiled and every
/// connection open, and the warm-up's first half ramps the rate up from zero: started at full rate,
/// the first calls' compilation (the load generator runs without tiering) held back a burst of calls
/// whose pile-up (more streams than the connections allow, long garbage collections) the run at 9,000
/// Ping calls/s never worked off — p99 over 500 ms for a server that answers 30,000 calls/s closed-loop.
/// </para>
/// </summary>
public static class OpenLoop
{
    /// <summary>
    /// More calls in flight than this means the machine cannot keep up with the rate: the run stops and says so
    /// (<see cref="RunResult.NotSustained"/>); its calls so far are reported, and it is not a failed run.
    /// </summary>
    public const int MaxInFlight = 20_000;

    public static async Task<RunResult> RunAsync(double rate, TimeSpan warmup, TimeSpan duration, LoadRunner.Call call, Func<Task>? windowStart = null,
        int lanes = 64)
    {
        await PrewarmAsync(call, lanes);
        var freq = (double)Stopwatch.Frequency;
        // The warm-up's first half ramps up (rate grows linearly from 0): call i is intended at
        // sqrt(2·ramp·i/rate) seconds; after the ramp, one call every 1/rate seconds.
        var ramp = warmup.TotalSeconds / 2;
        var rampCalls = rate * ramp / 2;
        long CallsBefore(double seconds) => (long)Math.Ceiling(seconds < ramp ? rate * seconds * seconds / (2 * ramp) : rampCalls + (seconds - ramp) * rate);
        var errors = new ConcurrentDictionary<string, long>();
        long errorTotal = 0, invalid = 0, warmupCalls = 0, inFlight = 0, counted = 0, countedRecords = 0;
        string? firstInvalid = null, notSustained = null;
        var kinds = new KindCounts();
        var stop = 0;
        var start = Stopwatch.GetTimestamp();
        long IntendedAt(long i) => start + (long)(freq * (i < rampCalls ? Math.Sqrt(2 * ramp * i / rate) : ramp + (i - rampCalls) / rate));
        var measureFrom = start + (long)(warmup.TotalSeconds * freq);
        var measureTo = measureFrom + (long)(duration.TotalSeconds * freq);
        var total = CallsBefore(warmup.TotalSeconds + duration.TotalSeconds);
        var latencies = new long[Math.Max(0, total - CallsBefore(warmup.TotalSeconds)) + 16];
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long finished = 0, issued = 0;

        async Task One(long i, long intended)
        {
            var mine = new KindCounts();
            CallOutcome outcome = default;
            string? error = null;
            try
            {
                outcome = await call((int)(i % lanes), i / lanes, mine, CancellationToken.None);
            }
            catch (Exception e)
            {
                error = e is RpcException r ? $"{r.StatusCode}: {r.Status.Detail}" : $"{e.GetType().Name}: {e.Message}";
            }
            var t1 = Stopwatch.GetTimestamp();
            Interlocked.Decrement(ref inFlight);
            if (error is not null)
            {
                errors.AddOrUpdate(error.Length > 160 ? error[..160] + "…" : error, 1, (_, n) => n + 1);
                if (Interlocked.Increment(ref errorTotal) >= 1000) Volatile.Write(ref stop, 1);
            }
            else
            {
                lock (kinds) kinds.Merge(mine);
                if (outcome.Invalid > 0)
                {
                    Interlocked.Add(ref invalid, outcome.Invalid);
                    Interlocked.CompareExchange(ref firstInvalid, outcome.InvalidReason, null);
                }
                if (intended < measureFrom) Interlocked.Increment(ref warmupCalls);
                else
                {
                    var slot = Interlocked.Increment(ref counted) - 1;
                    if (slot < latencies.Length) latencies[slot] = t1 - intended;
                    Interlocked.Add(ref countedRecords, outcome.Records);
                }
            }
            if (Interlocked.Increment(ref finished) == Volatile.Read(ref issued) && Volatile.Read(ref stop) == 2) done.TrySetResult();
        }

        var opening = Task.Run(async () =>
        {
            var wait = (measureFrom - Stopwatch.GetTimestamp()) / freq;
            if (wait > 0) await Task.Delay(TimeSpan.FromSeconds(wait));
            if (windowStart is not null) await windowStart();
        });

        // The pacer: a thread of its own that sends every call whose intended time has come, then
        // waits until the next one is due — at least a millisecond, the timer's resolution, so at high
        // rates it sends the calls due meanwhile together (each call's latency still counts from its
        // intended time).
        var pacer = new Thread(() =>
        {
            long i = 0;
            while (i < total && Volatile.Read(ref stop) == 0)
            {
                var now = Stopwatch.GetTimestamp();
                while (i < total)
                {
                    var intended = IntendedAt(i);
                    if (intended > now) break;
                    if (Interlocked.Increment(ref inFlight) > MaxInFlight)
                    {
                        // A measured outcome (the rate is above what the machine sustains), not a wrong answer.
                        notSustained = $"stopped with more than {MaxInFlight} calls in flight: {rate:F0} calls/s not sustained";
                        Interlocked.Decrement(ref inFlight);
                        Volatile.Write(ref stop, 1);
                        break;
                    }
                    Interlocked.Increment(ref issued);
                    _ = One(i, intended);
                    i++;
                }
                if (i < total) Thread.Sleep(Math.Max(1, (int)((IntendedAt(i) - Stopwatch.GetTimestamp()) * 1000 / freq)));
            }
        }) { IsBackground = true, Name = "open-loop pacer", Priority = ThreadPriority.AboveNormal };
        pacer.Start();
        pacer.Join();
        Volatile.Write(ref stop, 2);
        if (Interlocked.Read(ref finished) == Interlocked.Read(ref issued)) done.TrySetResult();
        await done.Task.WaitAsync(TimeSpan.FromSeconds(90));
        await opening;

        var n = (int)Math.Min(counted, latencies.Length);
        var all = new double[n];
        for (var k = 0; k < n; k++) all[k] = latencies[k] * 1000.0 / freq;
        Array.Sort(all);
        return new RunResult(n, countedRecords, duration.TotalSeconds, all, warmupCalls, errors, invalid, firstInvalid, kinds, [], notSustained);
    }

    /// <summary>
    /// A closed loop of 16 callers for 500 ms, unrecorded (callers numbered from <paramref name="lanes"/> up, so
    /// their request ids differ from the run's): compiles the call path and opens the connections.
    /// </summary>
    private static async Task PrewarmAsync(LoadRunner.Call call, int lanes)
    {
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 2;
        await Task.WhenAll(Enumerable.Range(lanes, 16).Select(caller => Task.Run(async () =>
        {
            for (long seq = 0; Stopwatch.GetTimestamp() < until; seq++)
            {
                try
                {
                    await call(caller, seq, new KindCounts(), CancellationToken.None);
                }
                catch (RpcException)
                {
                    // The run itself counts and reports errors.
                }
            }
        })));
    }
}
