using System.Collections.Concurrent;
using System.Diagnostics;
using FaceId.Packages.Ledger;

namespace FaceId.Metering.Application;

/// <summary>
/// Group commit on the hot path. While a deduct.lua call for a main account is in flight, further
/// small requests for that account queue up and then go together in the next call: one script run,
/// one UsageCharged event and one outbox entry for all of them instead of one each. A request for
/// an idle account goes out at once, so a lone call is never delayed. Every request still gets its
/// own outcomes, exactly as if charged alone: deduct.lua charges the records one after another,
/// atomically, in the order the requests arrived (idempotency included — a request id repeated
/// across two coalesced requests is a duplicate the second time, as it would be one call later).
/// </summary>
public sealed class ChargeCoalescer(UsageCharges ledger)
{
    /// <summary>Requests with more records than this are batches already: they go straight to the ledger.</summary>
    public const int MaxRecordsPerRequest = 64;

    /// <summary>At most this many records in one combined script call (bounds its run time in Redis).</summary>
    public const int MaxRecordsPerCall = 1_000;

    private readonly ConcurrentDictionary<string, Lane> _lanes = new(StringComparer.Ordinal);

    public Task<IReadOnlyList<ChargeResult>> ChargeAsync(string mainAccountId, IReadOnlyList<ChargeRequest> records)
    {
        if (records.Count > MaxRecordsPerRequest) return ledger.ChargeAsync(mainAccountId, records);
        var pending = new Pending(records, Activity.Current);
        while (true)
        {
            var lane = _lanes.GetOrAdd(mainAccountId, static _ => new Lane());
            bool lead;
            lock (lane)
            {
                // A lane is closed (and removed) when it runs empty; a caller holding it takes a new one.
                if (lane.Closed) continue;
                lane.Waiting.Enqueue(pending);
                lead = !lane.Busy;
                lane.Busy = true;
            }
            if (lead) _ = RunAsync(mainAccountId, lane);
            return pending.Done.Task;
        }
    }

    /// <summary>
    /// The lane's leader: charges what waits, group after group, until nothing does. As soon as a
    /// group's script call returns, the next group's call goes out, and only then are the finished
    /// group's requests completed — on this thread, one after another: Redis works on the next group
    /// meanwhile, and a group costs one thread hand-off instead of one per request (perf: with a hand-off
    /// per request, 30 % of Metering's time in unary runs was in the kernel, mostly waking and idling
    /// thread-pool workers; docs/benchmarks.md).
    /// </summary>
    private async Task RunAsync(string mainAccountId, Lane lane)
    {
        var group = Take(mainAccountId, lane)!;
        var inFlight = ChargeGroupAsync(mainAccountId, group);
        while (true)
        {
            IReadOnlyList<ChargeResult>? results = null;
            Exception? failure = null;
            try
            {
                results = await inFlight;
            }
            catch (Exception e)
            {
                failure = e;
            }
            var next = Take(mainAccountId, lane);
            var nextInFlight = next is null ? null : ChargeGroupAsync(mainAccountId, next);
            Complete(group, results, failure);
            if (next is null) return;
            (group, inFlight) = (next, nextInFlight!);
        }
    }

    /// <summary>The next group of waiting requests, or null when none waits (the lane is then closed).</summary>
    private List<Pending>? Take(string mainAccountId, Lane lane)
    {
        lock (lane)
        {
            if (lane.Waiting.Count == 0)
            {
                lane.Busy = false;
                lane.Closed = true;
                _lanes.TryRemove(new KeyValuePair<string, Lane>(mainAccountId, lane));
                return null;
            }
            var group = new List<Pending>();
            var records = 0;
            while (lane.Waiting.TryPeek(out var next) && (group.Count == 0 || records + next.Records.Count <= MaxRecordsPerCall))
            {
                group.Add(lane.Waiting.Dequeue());
                records += next.Records.Count;
            }
            return group;
        }
    }

    private async Task<IReadOnlyList<ChargeResult>> ChargeGroupAsync(string mainAccountId, List<Pending> group)
    {
        // The combined call (and its UsageCharged event) runs in the first request's trace.
        Activity.Current = group[0].Activity;
        using var links = group.Count > 1 ? LedgerTelemetry.CoalescedWith([.. group.Skip(1).Select(p => p.Activity)]) : null;
        IReadOnlyList<ChargeRequest> all = group.Count == 1 ? group[0].Records : group.SelectMany(p => p.Records).ToList();
        return await ledger.ChargeAsync(mainAccountId, all);
    }

    /// <summary>Gives each request its own outcomes; their continuations run here (see <see cref="Pending"/>).</summary>
    private static void Complete(List<Pending> group, IReadOnlyList<ChargeResult>? results, Exception? failure)
    {
        var offset = 0;
        foreach (var p in group)
        {
            if (failure is not null)
            {
                p.Done.TrySetException(failure);
                continue;
            }
            var mine = new ChargeResult[p.Records.Count];
            for (var i = 0; i < mine.Length; i++) mine[i] = results![offset + i];
            offset += mine.Length;
            p.Done.TrySetResult(mine);
        }
    }

    private sealed class Lane
    {
        public readonly Queue<Pending> Waiting = new();
        public bool Busy;
        public bool Closed;
    }

    private sealed class Pending(IReadOnlyList<ChargeRequest> records, Activity? activity)
    {
        public IReadOnlyList<ChargeRequest> Records { get; } = records;
        public Activity? Activity { get; } = activity;
        /// <summary>
        /// Completed by the lane's leader; the request's continuation (the rest of its gRPC call) runs
        /// synchronously on the leader's thread, after the next group's call went out (RunAsync).
        /// </summary>
        public TaskCompletionSource<IReadOnlyList<ChargeResult>> Done { get; } = new();
    }
}
