using System.Net;
using System.Runtime.CompilerServices;
using StackExchange.Redis;

namespace FaceId.Redis;

/// <summary>
/// Acknowledgement after replication (docs/reliability.md, "Acknowledged after replication"): a write is
/// answered only once <c>WAIT</c> confirms that <see cref="RedisOptions.ReplicaAcks"/> replicas of the master
/// that took it hold it, so a failover right after the answer cannot lose it. The policy belongs to the
/// connection (<see cref="RedisServiceCollectionExtensions.Connect"/> sets it from the options), so every
/// script contract and the outbox relay find it through the database they write with.
/// </summary>
public sealed class ReplicaAcknowledgement
{
    private static readonly ConditionalWeakTable<IConnectionMultiplexer, ReplicaAcknowledgement> Policies = new();

    private ReplicaAcknowledgement(int replicas, int timeoutMs) => (Replicas, TimeoutMs) = (replicas, timeoutMs);

    public int Replicas { get; }
    public int TimeoutMs { get; }

    /// <summary>Writes through <paramref name="connection"/> are answered after <paramref name="replicas"/> replicas confirmed them (0: at once).</summary>
    public static void Require(IConnectionMultiplexer connection, int replicas, int timeoutMs) =>
        Policies.AddOrUpdate(connection, new ReplicaAcknowledgement(replicas, timeoutMs));

    /// <summary>The policy of <paramref name="connection"/>; none set means 0 replicas (today's single-node behaviour).</summary>
    public static ReplicaAcknowledgement? Of(IConnectionMultiplexer connection) =>
        Policies.TryGetValue(connection, out var policy) && policy.Replicas > 0 ? policy : null;

    /// <summary>
    /// Returns once the configured replicas hold every write this connection sent to the master of
    /// <paramref name="key"/>'s slot so far; throws <see cref="ReplicationNotConfirmedException"/> when they do
    /// not within the timeout. With no replicas configured it returns at once, without a round trip.
    /// </summary>
    public static Task ConfirmAsync(IDatabaseAsync db, RedisKey key) =>
        Of(db.Multiplexer) is { } policy ? policy.WaitAsync(db, key) : Task.CompletedTask;

    private async Task WaitAsync(IDatabaseAsync db, RedisKey key)
    {
        // WAIT counts the writes of the connection it arrives on, so it must reach the master that ran the script:
        // the key's slot picks it (in Redis Cluster), and the multiplexer has one interactive connection per server,
        // the one the script went through. A later write of another caller on it only makes the WAIT stricter.
        EndPoint? endpoint;
        try
        {
            endpoint = await db.IdentifyEndpointAsync(key, CommandFlags.DemandMaster);
        }
        catch (RedisConnectionException e)
        {
            // The connection's slot map still names a node that is a replica now (a failover: the script itself reached the
            // new master by its MOVED answer, which does not update the map): re-read the topology, answer unconfirmed.
            TopologyRefresh.Request(db.Multiplexer);
            throw new ReplicationNotConfirmedException($"the master of the slot of '{key}' is not reachable ({e.FailureType})", e);
        }
        if (endpoint is null)
        {
            // The slot's master is unknown to the connection (its map still names a node that is a replica now): re-read it.
            TopologyRefresh.Request(db.Multiplexer);
            throw new ReplicationNotConfirmedException($"no master is known for the slot of '{key}'");
        }
        long confirmed;
        try
        {
            confirmed = (long)await db.Multiplexer.GetServer(endpoint).ExecuteAsync("WAIT", Replicas, TimeoutMs);
        }
        catch (RedisServerException e) when (e.Message.Contains("replica", StringComparison.OrdinalIgnoreCase))
        {
            // "WAIT cannot be used with replica instances": the master became a replica (failover) since the write. The
            // write is not confirmed (a demoted master may lose it); the connection re-reads the topology, so the retry
            // reaches the new master instead of asking the old one again.
            TopologyRefresh.Request(db.Multiplexer);
            throw new ReplicationNotConfirmedException($"{Describe(endpoint)} is no longer a master", e);
        }
        if (confirmed < Replicas)
            throw new ReplicationNotConfirmedException($"{confirmed} of {Replicas} replicas of {Describe(endpoint)} confirmed within {TimeoutMs} ms");
    }

    private static string Describe(EndPoint endpoint) => endpoint is IPEndPoint ip ? ip.ToString() : endpoint.ToString() ?? "the master";
}

/// <summary>
/// The replicas did not confirm a write in time (<see cref="ReplicaAcknowledgement"/>): the write may be on the
/// master only, so the caller is answered UNAVAILABLE (condition REPLICATION_TIMEOUT, <see cref="StoreFaults"/>)
/// and retries with its idempotency key, never OK.
/// </summary>
public sealed class ReplicationNotConfirmedException(string what, Exception? inner = null)
    : Exception($"Write not confirmed by the replicas: {what}.", inner)
{
    /// <summary>The condition reported in the UNAVAILABLE answer's ErrorInfo.</summary>
    public const string Condition = "REPLICATION_TIMEOUT";
}
