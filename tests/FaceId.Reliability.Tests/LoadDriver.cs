using FaceId.Ledger.Tests;
using System.Collections.Concurrent;
using FaceId.Contracts.Metering.V1;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;

namespace FaceId.Reliability.Tests;

/// <summary>
/// Sends every record until it is acknowledged, as a well-behaved gateway does: on any failure
/// it retries the SAME request id (on the next endpoint), after the delay the status advises
/// (google.rpc.RetryInfo) or a short backoff, with a bounded number of attempts and an overall
/// deadline. The first <c>batchCallers</c> callers send <c>RecordUsageBatch</c> calls of
/// <c>batchSize</c> records, the others one <c>RecordUsage</c> per record. Counts what happened
/// so the fault tests can report it.
/// </summary>
public sealed class LoadDriver(IReadOnlyList<GrpcChannel> endpoints, int callers, TimeSpan deadline,
    int batchCallers = 0, int batchSize = 100, TimeSpan? callDeadline = null)
{
    private static readonly TimeSpan MaxAdvisedDelay = TimeSpan.FromSeconds(1);
    private readonly TimeSpan _callDeadline = callDeadline ?? TimeSpan.FromSeconds(5);
    private int _acknowledged;
    private int _answeredOk;
    public int Retries;
    /// <summary>Failed calls by status code (a batch call counts once).</summary>
    public readonly ConcurrentDictionary<StatusCode, int> Failures = new();
    /// <summary>UNAVAILABLE calls by the store condition their ErrorInfo names ("none" without one).</summary>
    public readonly ConcurrentDictionary<string, int> UnavailableConditions = new();
    private long _slowestFailureTicks;
    private long _firstFailureTicks, _firstOkAfterFailureTicks;

    /// <summary>
    /// From the first failed call's answer to the first OK answer after it (zero when no call failed, or none
    /// succeeded afterwards): how long the service was unavailable to its callers (docs/reliability.md, "Failover").
    /// </summary>
    public TimeSpan UnavailabilityWindow => Interlocked.Read(ref _firstOkAfterFailureTicks) is var ok and > 0
        ? TimeSpan.FromTicks(ok - Interlocked.Read(ref _firstFailureTicks)) : TimeSpan.Zero;

    /// <summary>Records acknowledged so far.</summary>
    public int Acknowledged => Volatile.Read(ref _acknowledged);

    /// <summary>Calls answered OK (a batch call counts once).</summary>
    public int AnsweredOk => Volatile.Read(ref _answeredOk);

    /// <summary>The longest a failed call took to be answered.</summary>
    public TimeSpan SlowestFailure => TimeSpan.FromTicks(Interlocked.Read(ref _slowestFailureTicks));

    /// <summary>Runs the load; <paramref name="fault"/> runs once when <paramref name="faultAfter"/> records are acknowledged.</summary>
    public async Task<UsageOutcome[]> RunAsync(UsageRecord[] records, int faultAfter, Func<Task> fault)
    {
        var outcomes = new UsageOutcome[records.Length];
        var stopAt = DateTime.UtcNow + deadline;
        var next = 0;
        var faultTask = Task.Run(async () =>
        {
            while (Acknowledged < faultAfter && DateTime.UtcNow < stopAt) await Task.Delay(5);
            await fault();
        });
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async caller =>
        {
            var size = caller < batchCallers ? batchSize : 1;
            int first;
            while ((first = Interlocked.Add(ref next, size) - size) < records.Length)
            {
                var count = Math.Min(size, records.Length - first);
                for (var attempt = 0; ; attempt++)
                {
                    if (DateTime.UtcNow > stopAt || attempt > 500)
                        throw new TimeoutException($"record {records[first].RequestId} not acknowledged after {attempt} attempts; failures so far " +
                            string.Join(",", Failures.Select(f => $"{f.Key}:{f.Value}")) + " (UNAVAILABLE by condition: " +
                            string.Join(",", UnavailableConditions.Select(c => $"{c.Key}:{c.Value}")) + ")");
                    var client = new MeteringService.MeteringServiceClient(endpoints[(caller + attempt) % endpoints.Count]);
                    var started = DateTime.UtcNow;
                    try
                    {
                        if (size == 1)
                        {
                            outcomes[first] = (await client.RecordUsageAsync(new RecordUsageRequest { Record = records[first] },
                                deadline: DateTime.UtcNow + _callDeadline)).Outcome;
                        }
                        else
                        {
                            var request = new RecordUsageBatchRequest();
                            request.Records.AddRange(records.Skip(first).Take(count));
                            var response = await client.RecordUsageBatchAsync(request, deadline: DateTime.UtcNow + _callDeadline);
                            for (var i = 0; i < count; i++) outcomes[first + i] = response.Outcomes[i];
                        }
                        Interlocked.Add(ref _acknowledged, count);
                        Interlocked.Increment(ref _answeredOk);
                        if (Interlocked.Read(ref _firstFailureTicks) > 0)
                            Interlocked.CompareExchange(ref _firstOkAfterFailureTicks, DateTime.UtcNow.Ticks, 0);
                        break;
                    }
                    catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Cancelled or StatusCode.Unknown)
                    {
                        Failures.AddOrUpdate(e.StatusCode, 1, (_, n) => n + 1);
                        Interlocked.CompareExchange(ref _firstFailureTicks, DateTime.UtcNow.Ticks, 0);
                        var status = e.GetRpcStatus();
                        if (e.StatusCode == StatusCode.Unavailable)
                            UnavailableConditions.AddOrUpdate(status?.GetDetail<ErrorInfo>() is { } info && info.Metadata.TryGetValue("condition", out var c) ? c : "none", 1, (_, n) => n + 1);
                        NoteFailureTime(DateTime.UtcNow - started);
                        Interlocked.Increment(ref Retries);
                        var advised = status?.GetDetail<RetryInfo>()?.RetryDelay?.ToTimeSpan();
                        await Task.Delay(advised is { } d ? (d < MaxAdvisedDelay ? d : MaxAdvisedDelay) : TimeSpan.FromMilliseconds(Math.Min(50, 5 * (attempt + 1))));
                    }
                }
            }
        }));
        await faultTask;
        return outcomes;
    }

    private void NoteFailureTime(TimeSpan took)
    {
        long seen;
        while (took.Ticks > (seen = Interlocked.Read(ref _slowestFailureTicks)) &&
               Interlocked.CompareExchange(ref _slowestFailureTicks, took.Ticks, seen) != seen) { }
    }
}
