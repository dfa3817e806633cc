using FaceId.Common;
using Xunit;

namespace FaceId.TestKit;

/// <summary>Two different requests racing on one idempotency key: exactly one may win, the other must be refused.</summary>
public static class KeyRace
{
    /// <summary>
    /// Runs <paramref name="request"/>(round, 0) and (round, 1) at once, <paramref name="rounds"/> times (the caller uses a
    /// fresh key per round and a different payload per request). Asserts that exactly one of each pair succeeded; returns,
    /// per round, which request won and the other's failure.
    /// </summary>
    public static async Task<IReadOnlyList<(int Winner, Exception Refusal)>> RunAsync(int rounds, Func<int, int, Task> request)
    {
        var results = new List<(int, Exception)>();
        for (var round = 0; round < rounds; round++)
        {
            var r = round;
            Task[] calls = [Task.Run(() => request(r, 0)), Task.Run(() => request(r, 1))];
            try { await Task.WhenAll(calls); }
            catch (Exception) { /* inspected below, per call */ }
            var failed = calls.Where(c => c.IsFaulted).ToList();
            Assert.True(failed.Count == 1, $"round {round}: {failed.Count} of 2 requests failed; exactly one must win. {failed.FirstOrDefault()?.Exception}");
            results.Add((calls[0].IsFaulted ? 1 : 0, failed[0].Exception!.InnerException!));
        }
        return results;
    }

    /// <summary>The key field and the differing fields of a reuse refused in process or over gRPC (IDEMPOTENCY_KEY_REUSED).</summary>
    public static (string KeyField, string Fields) Refused(Exception refusal) =>
        refusal is IdempotencyKeyReusedException reused ? (reused.KeyField, string.Join(",", reused.DifferingFields)) : RpcAssert.KeyReused(refusal);
}
