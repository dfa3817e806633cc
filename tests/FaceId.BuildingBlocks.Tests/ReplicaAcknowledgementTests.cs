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

    private static IConnectionMultiplexer Connect(RedisServer master, int replicaAcks, int timeoutMs = 2_000) =>
        RedisServiceCollectionExtensions.Connect(new RedisOptions
        {
            ConnectionString = master.ConnectionString, ReplicaAcks = replicaAcks, ReplicaAckTimeoutMs = timeoutMs,
        });

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

        Assert.Null(ReplicaAcknowledgement.Of(connection));
        var commands = await master.CommandAsync("INFO", "commandstats");
        Assert.DoesNotContain("cmdstat_wait", commands); // not one WAIT sent
    }
}
