using System.Diagnostics;
using FaceId.Redis;
using FaceId.ServiceDefaults;
using FaceId.TestKit;
using Google.Rpc;
using StackExchange.Redis;
using Xunit;

namespace FaceId.BuildingBlocks.Tests;

/// <summary>
/// Acknowledgement after replication (docs/reliability.md): with Redis:ReplicaAcks set, a script contract call
/// returns only once WAIT saw the replicas hold its write; too few replicas in time is UNAVAILABLE
/// (STORE_UNAVAILABLE, REPLICATION_TIMEOUT), never OK. A real master and a real replica.
/// </summary>
public sealed class ReplicaAcknowledgementTests
{
    /// <summary>A master that serves a new replica at once (no 5-s wait for more replicas to share the transfer).</summary>
    private static Task<RedisServer> StartMasterAsync() => RedisServer.StartAsync("--repl-diskless-sync-delay", "0");

    private static Connection Connect(RedisServer master, int replicaAcks, int timeoutMs = 2_000) =>
        new(RedisServiceCollectionExtensions.Connect(new RedisOptions
        {
            ConnectionString = master.ConnectionString, ReplicaAcks = replicaAcks, ReplicaAckTimeoutMs = timeoutMs,
        }));

    /// <summary>The service's connection and, as the host does when it stops, the replicas' confirmation connection closed with it.</summary>
    private sealed class Connection(IConnectionMultiplexer multiplexer) : IDisposable
    {
        public IConnectionMultiplexer Multiplexer { get; } = multiplexer;
        public IDatabase GetDatabase() => Multiplexer.GetDatabase();

        public void Dispose()
        {
            ReplicaAcknowledgement.Release(Multiplexer);
            Multiplexer.Dispose();
        }
    }

    private static async Task<RedisServer> StartReplicaAsync(RedisServer master)
    {
        // DEBUG SLEEP (a stalled replica) is allowed from loopback.
        var replica = await RedisServer.StartAsync("--replicaof", "127.0.0.1", master.Port.ToString(), "--enable-debug-command", "local");
        await Eventually.AssertAsync(async () => (await replica.CommandAsync("INFO", "replication"))!.Contains("master_link_status:up", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "the replica is linked to its master");
        return replica;
    }

    [Fact]
    public async Task A_write_is_answered_only_after_the_replica_holds_it_even_when_the_replica_stalls()
    {
        await using var master = await StartMasterAsync();
        await using var replica = await StartReplicaAsync(master);
        using var connection = Connect(master, replicaAcks: 1);
        var db = connection.GetDatabase();
        await db.StringSetAsync("lease", "token");
        await Eventually.AssertAsync(async () => await replica.CommandAsync("EXISTS", "lease") == "1", TimeSpan.FromSeconds(5), "the lease reached the replica");

        // The replica's event loop stops for 400 ms: it cannot confirm, so the answer waits for it.
        var stall = replica.CommandAsync("DEBUG", "SLEEP", "0.4");
        await Task.Delay(50); // the sleep has begun (the command is sent first)
        var clock = Stopwatch.StartNew();
        Assert.True(await CompareAndDelete.Instance.RunAsync(db, new CompareAndDelete.Request("lease", "token")));
        var answeredAfter = clock.Elapsed;
        await stall;

        Assert.True(answeredAfter > TimeSpan.FromMilliseconds(200), $"answered after {answeredAfter.TotalMilliseconds:F0} ms, before the stalled replica confirmed");
        Assert.Equal("0", await replica.CommandAsync("EXISTS", "lease")); // the deletion is on the replica when the caller hears of it
    }

    [Fact]
    public async Task Too_few_replicas_in_time_is_UNAVAILABLE_REPLICATION_TIMEOUT_with_retry_advice_never_OK()
    {
        await using var master = await StartMasterAsync();
        await using var replica = await StartReplicaAsync(master);
        using var connection = Connect(master, replicaAcks: 1, timeoutMs: 300);
        var db = connection.GetDatabase();
        await db.StringSetAsync("lease", "token");
        await replica.KillAsync();

        var error = await Assert.ThrowsAsync<ReplicationNotConfirmedException>(() =>
            CompareAndDelete.Instance.RunAsync(db, new CompareAndDelete.Request("lease", "token")));

        Assert.Contains("0 of 1 replicas", error.Message);
        Assert.Equal(ReplicationNotConfirmedException.Condition, StoreFaults.TransientCondition(error));
        var status = DomainExceptionInterceptor.ToStatus(error);
        Assert.Equal((int)Code.Unavailable, status.Code);
        var info = status.Details.Single(d => d.Is(ErrorInfo.Descriptor)).Unpack<ErrorInfo>();
        Assert.Equal(DomainExceptionInterceptor.StoreUnavailableReason, info.Reason);
        Assert.Equal("REPLICATION_TIMEOUT", info.Metadata["condition"]);
        Assert.Contains(status.Details, d => d.Is(RetryInfo.Descriptor));
    }

    [Fact]
    public async Task With_no_replicas_required_a_write_is_answered_at_once_without_WAIT()
    {
        await using var master = await StartMasterAsync(); // no replica at all
        using var connection = Connect(master, replicaAcks: 0);
        var db = connection.GetDatabase();
        await db.StringSetAsync("lease", "token");

        Assert.True(await CompareAndDelete.Instance.RunAsync(db, new CompareAndDelete.Request("lease", "token")));

        Assert.Null(ReplicaAcknowledgement.Of(connection.Multiplexer));
        var commands = await master.CommandAsync("INFO", "commandstats");
        Assert.DoesNotContain("cmdstat_wait", commands); // not one WAIT sent
    }

    [Fact]
    public async Task A_pending_confirmation_does_not_hold_up_other_commands_on_the_service_connection()
    {
        await using var master = await StartMasterAsync();
        await using var replica = await StartReplicaAsync(master);
        using var connection = Connect(master, replicaAcks: 1);
        var db = connection.GetDatabase();
        await db.StringSetAsync("lease", "token");
        await db.StringSetAsync("other", "value");

        var stall = replica.CommandAsync("DEBUG", "SLEEP", "0.6");
        await Task.Delay(50);
        var write = CompareAndDelete.Instance.RunAsync(db, new CompareAndDelete.Request("lease", "token"));
        await Task.Delay(50); // the write is answered by the master; its confirmation now waits for the stalled replica
        var clock = Stopwatch.StartNew();
        Assert.Equal("value", (string?)await db.StringGetAsync("other"));
        var readAfter = clock.Elapsed;
        Assert.False(write.IsCompleted, "the write was answered before the stalled replica confirmed it");
        Assert.True(await write);
        await stall;

        // WAIT blocks the connection it is sent on: sent on the service's connection, the read above would have queued behind it.
        Assert.True(readAfter < TimeSpan.FromMilliseconds(300), $"a read waited {readAfter.TotalMilliseconds:F0} ms behind a pending confirmation");
    }

    [Fact]
    public async Task Concurrent_writes_share_confirmations_and_each_is_on_the_replica_when_answered()
    {
        await using var master = await StartMasterAsync();
        await using var replica = await StartReplicaAsync(master);
        using var connection = Connect(master, replicaAcks: 1);
        var db = connection.GetDatabase();
        const int Writes = 400;
        for (var i = 0; i < Writes; i++) await db.StringSetAsync($"lease:{i}", "token");
        await master.CommandAsync("CONFIG", "RESETSTAT");

        var onReplica = await Task.WhenAll(Enumerable.Range(0, Writes).Select(async i =>
        {
            Assert.True(await CompareAndDelete.Instance.RunAsync(db, new CompareAndDelete.Request($"lease:{i}", "token")));
            return await replica.CommandAsync("EXISTS", $"lease:{i}") == "0";
        }));

        Assert.All(onReplica, Assert.True);
        var waits = WaitCalls(await master.CommandAsync("INFO", "commandstats") ?? "");
        Assert.InRange(waits, 1, Writes - 1); // grouped: fewer WAITs than writes
    }

    [Fact]
    public void Hash_slots_follow_Redis_Cluster_and_every_slot_has_a_marker_key_of_its_own()
    {
        // Values from the Redis Cluster specification and CLUSTER KEYSLOT.
        Assert.Equal(12182, HashSlot.Of("foo"));
        Assert.Equal(11058, HashSlot.Of("somekey"));
        Assert.Equal(HashSlot.Of("user1000"), HashSlot.Of("{user1000}.following"));
        Assert.Equal(HashSlot.Of("foo{}{bar}"), HashSlot.Of("foo{}{bar}")); // an empty tag hashes the whole key
        Assert.NotEqual(HashSlot.Of("bar"), HashSlot.Of("foo{}{bar}"));
        for (var slot = 0; slot < HashSlot.Count; slot++)
            Assert.Equal(slot, HashSlot.Of((string)ReplicaAckMarker.KeyFor(slot)!));
    }

    private static long WaitCalls(string commandStats)
    {
        var line = commandStats.Split('\n').Single(l => l.StartsWith("cmdstat_wait:", StringComparison.Ordinal));
        var calls = line.Split(':', 2)[1].Split(',').Single(p => p.StartsWith("calls=", StringComparison.Ordinal));
        return long.Parse(calls["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
