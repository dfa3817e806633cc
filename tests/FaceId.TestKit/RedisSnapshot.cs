using StackExchange.Redis;

namespace FaceId.TestKit;

/// <summary>
/// What a test compares to prove that a refused call changed nothing: every key of the Redis
/// deployment (all masters of a cluster) with its serialized value.
/// </summary>
public static class RedisSnapshot
{
    private static async Task<bool> QuietAsync(IConnectionMultiplexer connection)
    {
        foreach (var endpoint in connection.GetEndPoints())
        {
            var server = connection.GetServer(endpoint);
            if (server.IsReplica) continue;
            await foreach (var key in server.KeysAsync(pageSize: 1000))
            {
                if (await connection.GetDatabase().KeyTypeAsync(key) != RedisType.Stream) continue;
                var info = await connection.GetDatabase().StreamInfoAsync(key);
                if (((string)key!).EndsWith(":outbox", StringComparison.Ordinal))
                {
                    if (info.Length > 0) return false;
                    continue;
                }
                foreach (var group in await connection.GetDatabase().StreamGroupInfoAsync(key))
                    if (group.PendingMessageCount > 0 || (info.Length > 0 && group.LastDeliveredId != info.LastGeneratedId)) return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Waits until earlier work has settled: every outbox relayed, every consumer group caught up, and
    /// each of <paramref name="drainedWorkIndexes"/> (sorted sets of work still to do) empty. What a
    /// test checks after that can no longer change, so it needs no sleep to prove that nothing more comes.
    /// </summary>
    public static Task SettledAsync(IConnectionMultiplexer connection, params RedisKey[] drainedWorkIndexes) =>
        Eventually.AssertAsync(async () =>
        {
            if (!await QuietAsync(connection)) return false;
            foreach (var index in drainedWorkIndexes)
                if (await connection.GetDatabase().SortedSetLengthAsync(index) > 0) return false;
            return true;
        }, TimeSpan.FromSeconds(30), "earlier events are relayed and consumed, and the work indexes drained");

    /// <summary>
    /// Every key and its serialized value, except short-lived coordination keys (locks), taken once
    /// earlier work has settled: every outbox relayed and every consumer group caught up.
    /// </summary>
    public static async Task<Dictionary<string, string>> TakeAsync(IConnectionMultiplexer connection)
    {
        await SettledAsync(connection);
        var snapshot = new Dictionary<string, string>();
        foreach (var endpoint in connection.GetEndPoints())
        {
            var server = connection.GetServer(endpoint);
            if (server.IsReplica) continue;
            await foreach (var key in server.KeysAsync(pageSize: 1000))
            {
                var name = (string)key!;
                // Coordination, not business state: locks, and the work indexes written before a change is
                // attempted (an entry whose change never happened is dropped by its worker).
                if (name.EndsWith(":lock", StringComparison.Ordinal) || name is "ledger:schedule" or "refund:pending" or "outbox:registry") continue;
                // Streams: entries only (consumer bookkeeping such as seen-time changes with every poll).
                if (await connection.GetDatabase().KeyTypeAsync(key) == RedisType.Stream)
                {
                    var info = await connection.GetDatabase().StreamInfoAsync(key);
                    snapshot[name] = $"stream {info.Length} {info.LastGeneratedId}";
                    continue;
                }
                var dump = await connection.GetDatabase().KeyDumpAsync(key);
                if (dump is not null) snapshot[name] = Convert.ToBase64String(dump);
            }
        }
        return snapshot;
    }
}
