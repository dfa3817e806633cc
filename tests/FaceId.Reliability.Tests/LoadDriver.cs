using FaceId.Ledger.Tests;
using System.Collections.Concurrent;
using FaceId.Contracts.Metering.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace FaceId.Reliability.Tests;

/// <summary>
/// Sends every record until it is acknowledged, as a well-behaved gateway does: on any failure
/// it retries the SAME request id (on the next endpoint), with a bounded number of attempts and
/// an overall deadline. Counts what happened so the fault tests can report it.
/// </summary>
public sealed class LoadDriver(IReadOnlyList<GrpcChannel> endpoints, int callers, TimeSpan deadline)
{
    private int _acknowledged;
    public int Retries;
    public readonly ConcurrentDictionary<StatusCode, int> Failures = new();

    public int Acknowledged => Volatile.Read(ref _acknowledged);

    /// <summary>Runs the load; <paramref name="fault"/> runs once when <paramref name="faultAfter"/> records are acknowledged.</summary>
    public async Task<UsageOutcome[]> RunAsync(UsageRecord[] records, int faultAfter, Func<Task> fault)
    {
        var outcomes = new UsageOutcome[records.Length];
        var stopAt = DateTime.UtcNow + deadline;
        var next = -1;
        var faultTask = Task.Run(async () =>
        {
            while (Acknowledged < faultAfter && DateTime.UtcNow < stopAt) await Task.Delay(5);
            await fault();
        });
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async caller =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < records.Length)
            {
                for (var attempt = 0; ; attempt++)
                {
                    if (DateTime.UtcNow > stopAt || attempt > 500)
                        throw new TimeoutException($"record {records[i].RequestId} not acknowledged after {attempt} attempts");
                    var client = new MeteringService.MeteringServiceClient(endpoints[(caller + attempt) % endpoints.Count]);
                    try
                    {
                        outcomes[i] = (await client.RecordUsageAsync(new RecordUsageRequest { Record = records[i] },
                            deadline: DateTime.UtcNow.AddSeconds(5))).Outcome;
                        Interlocked.Increment(ref _acknowledged);
                        break;
                    }
                    catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Cancelled or StatusCode.Unknown)
                    {
                        Failures.AddOrUpdate(e.StatusCode, 1, (_, n) => n + 1);
                        Interlocked.Increment(ref Retries);
                        await Task.Delay(Math.Min(50, 5 * (attempt + 1)));
                    }
                }
            }
        }));
        await faultTask;
        return outcomes;
    }
}
