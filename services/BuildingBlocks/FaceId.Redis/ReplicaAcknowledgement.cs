using System.Collections.Concurrent;
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
/// <para>
/// <c>WAIT</c> blocks the connection it is sent on, and the service's connection carries every caller's scripts:
/// waiting there would stop the master's work while the replica catches up. So the waits go over a second
/// connection of their own, one lane per master: a caller whose write the master answered joins the lane's next
/// confirmation, which writes a marker on that master and then sends <c>WAIT</c> on the same connection. The
/// marker comes after the caller's write in the master's replication stream, so the replicas holding it hold the
/// write; and one confirmation covers every caller that joined before it was sent (group commit, as the charge
/// coalescer does for the scripts).
/// </para>
/// </summary>
public sealed class ReplicaAcknowledgement : IDisposable
{
    private static readonly ConditionalWeakTable<IConnectionMultiplexer, ReplicaAcknowledgement> Policies = new();

    private readonly IConnectionMultiplexer _writes;
    private readonly IConnectionMultiplexer _waits;
    private readonly ConcurrentDictionary<EndPoint, Lane> _lanes = new();

    private ReplicaAcknowledgement(IConnectionMultiplexer writes, IConnectionMultiplexer waits, int replicas, int timeoutMs) =>
        (_writes, _waits, Replicas, TimeoutMs) = (writes, waits, replicas, timeoutMs);

    public int Replicas { get; }
    public int TimeoutMs { get; }

    /// <summary>
    /// Writes through <paramref name="connection"/> are answered after <paramref name="replicas"/> replicas confirmed
    /// them (0: at once, and <paramref name="connectWaits"/> is not called). <paramref name="connectWaits"/> opens the
    /// second connection, to the same servers, that carries the waits.
    /// </summary>
    public static void Require(IConnectionMultiplexer connection, int replicas, int timeoutMs, Func<IConnectionMultiplexer> connectWaits)
    {
        if (Policies.TryGetValue(connection, out var old)) old.Dispose();
        if (replicas <= 0)
        {
            Policies.Remove(connection);
            return;
        }
        Policies.AddOrUpdate(connection, new ReplicaAcknowledgement(connection, connectWaits(), replicas, timeoutMs));
    }

    /// <summary>The policy of <paramref name="connection"/>; none set means 0 replicas (today's single-node behaviour).</summary>
    public static ReplicaAcknowledgement? Of(IConnectionMultiplexer connection) =>
        Policies.TryGetValue(connection, out var policy) ? policy : null;

    /// <summary>Closes the waits' connection of <paramref name="connection"/>'s policy, if it has one.</summary>
    public static void Release(IConnectionMultiplexer connection)
    {
        if (Policies.TryGetValue(connection, out var policy)) policy.Dispose();
        Policies.Remove(connection);
    }

    public void Dispose() => _waits.Dispose();

    /// <summary>
    /// After a hand-over (<see cref="ReplicationNotConfirmedException.HandedOver"/>): returns once both connections of
    /// <paramref name="connection"/> re-read the cluster's topology, so a write run again reaches the slot's new master
    /// and its confirmation is sent there.
    /// </summary>
    public static Task FollowHandOverAsync(IConnectionMultiplexer connection) =>
        Of(connection) is { } policy ? policy.RereadTopology() : TopologyRefresh.Request(connection);

    /// <summary>Both connections re-read the topology: the writes' to reach the slot's master, the waits' to confirm there.</summary>
    private Task RereadTopology() => Task.WhenAll(TopologyRefresh.Request(_writes), TopologyRefresh.Request(_waits));

    /// <summary>
    /// Returns once the configured replicas hold every write the master of <paramref name="key"/>'s slot answered
    /// before this call; throws <see cref="ReplicationNotConfirmedException"/> when they do not within the timeout.
    /// With no replicas configured it returns at once, without a round trip.
    /// </summary>
    public static Task ConfirmAsync(IDatabaseAsync db, RedisKey key) =>
        Of(db.Multiplexer) is { } policy ? policy.ConfirmWriteAsync(db, key) : Task.CompletedTask;

    private async Task ConfirmWriteAsync(IDatabaseAsync db, RedisKey key)
    {
        // The confirmation must reach the master that ran the write: the key's slot picks it (in Redis Cluster).
        EndPoint? endpoint;
        try
        {
            endpoint = await db.IdentifyEndpointAsync(key, CommandFlags.DemandMaster);
        }
        catch (RedisConnectionException e)
        {
            // The connection's slot map still names a node that is a replica now (a failover: the script itself reached the
            // new master by its MOVED answer, which does not update the map): re-read the topology, answer unconfirmed.
            _ = RereadTopology();
            throw new ReplicationNotConfirmedException($"the master of the slot of '{key}' is not reachable ({e.FailureType})", e, handedOver: true);
        }
        if (endpoint is null)
        {
            // The slot's master is unknown to the connection (its map still names a node that is a replica now): re-read it.
            _ = RereadTopology();
            throw new ReplicationNotConfirmedException($"no master is known for the slot of '{key}'", handedOver: true);
        }
        var lane = _lanes.GetOrAdd(endpoint, static _ => new Lane());
        Task confirmed;
        bool lead;
        lock (lane)
        {
            if (lane.Next is null)
            {
                lane.Next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                lane.NextSlot = HashSlot.Of(key!);
            }
            confirmed = lane.Next.Task;
            lead = !lane.Busy;
            lane.Busy = true;
        }
        if (lead) _ = RunAsync(endpoint, lane);
        await confirmed;
    }

    /// <summary>The lane's leader: one confirmation after another, as long as callers joined the next one.</summary>
    private async Task RunAsync(EndPoint endpoint, Lane lane)
    {
        while (true)
        {
            TaskCompletionSource group;
            int slot;
            lock (lane)
            {
                if (lane.Next is null)
                {
                    lane.Busy = false;
                    return;
                }
                (group, slot) = (lane.Next, lane.NextSlot);
                lane.Next = null;
            }
            try
            {
                await ConfirmGroupAsync(endpoint, slot);
                group.TrySetResult();
            }
            catch (Exception e)
            {
                group.TrySetException(e);
            }
        }
    }

    /// <summary>
    /// A marker write on the master (never redirected: a node that is no longer the slot's master must not confirm
    /// for it) and WAIT behind it on the same connection, pipelined.
    /// </summary>
    private async Task ConfirmGroupAsync(EndPoint endpoint, int slot)
    {
        var server = _waits.GetServer(endpoint);
        long confirmed;
        try
        {
            var marker = server.ExecuteAsync("INCR", [ReplicaAckMarker.KeyFor(slot)], CommandFlags.NoRedirect);
            var wait = server.ExecuteAsync("WAIT", [Replicas, TimeoutMs], CommandFlags.NoRedirect);
            await Task.WhenAll(marker, wait).ConfigureAwait(false);
            confirmed = (long)wait.Result;
        }
        catch (RedisServerException e) when (IsNoLongerMaster(e.Message))
        {
            // MOVED for the marker or "WAIT cannot be used with replica instances": the master became a replica
            // (failover) since the write. The write is not confirmed (a demoted master may lose it); the connection
            // re-reads the topology, so the retry reaches the new master instead of asking the old one again.
            _ = RereadTopology();
            throw new ReplicationNotConfirmedException($"{Describe(endpoint)} is no longer a master", e, handedOver: true);
        }
        catch (RedisConnectionException e)
        {
            // No connection to the node for this command: it is down, or this connection already sees it as a replica
            // (a hand-over: a write command is not sent to a replica). Either way the write's fate is on the slot's
            // master now, which an idempotent write can ask by running again there.
            _ = RereadTopology();
            throw new ReplicationNotConfirmedException($"{Describe(endpoint)} is not reachable ({e.FailureType})", e, handedOver: true);
        }
        catch (RedisTimeoutException e)
        {
            throw new ReplicationNotConfirmedException($"{Describe(endpoint)} did not answer the confirmation in time", e);
        }
        if (confirmed < Replicas)
            throw new ReplicationNotConfirmedException($"{confirmed} of {Replicas} replicas of {Describe(endpoint)} confirmed within {TimeoutMs} ms");
    }

    private static bool IsNoLongerMaster(string message) =>
        message.Contains("MOVED", StringComparison.Ordinal) || message.StartsWith("READONLY", StringComparison.Ordinal)
        || message.Contains("replica", StringComparison.OrdinalIgnoreCase);

    private static string Describe(EndPoint endpoint) => endpoint is IPEndPoint ip ? ip.ToString() : endpoint.ToString() ?? "the master";

    private sealed class Lane
    {
        /// <summary>The confirmation not sent yet, which callers join; null when none waits.</summary>
        public TaskCompletionSource? Next;
        /// <summary>The slot of its first caller's write: the marker goes there, so it reaches that master.</summary>
        public int NextSlot;
        public bool Busy;
    }
}

/// <summary>
/// The marker keys of <see cref="ReplicaAcknowledgement"/>: one small counter per hash slot, <c>replica-ack:{t}</c>, where
/// the tag <c>t</c> is the shortest decimal number that hashes to the slot. Written only to move the master's
/// replication offset past the writes a WAIT must cover; nothing reads them.
/// </summary>
public static class ReplicaAckMarker
{
    public const string Prefix = "replica-ack:";

    private static readonly Lazy<string[]> Tags = new(BuildTags);

    public static RedisKey KeyFor(int slot) => Prefix + "{" + Tags.Value[slot] + "}";

    private static string[] BuildTags()
    {
        var tags = new string[HashSlot.Count];
        var left = tags.Length;
        for (var n = 0; left > 0; n++)
        {
            var text = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var slot = HashSlot.Of(text);
            if (tags[slot] is not null) continue;
            tags[slot] = text;
            left--;
        }
        return tags;
    }
}

/// <summary>
/// The replicas did not confirm a write in time (<see cref="ReplicaAcknowledgement"/>): the write may be on the
/// master only, so the caller is answered UNAVAILABLE (condition REPLICATION_TIMEOUT, <see cref="StoreFaults"/>)
/// and retries with its idempotency key, never OK.
/// </summary>
public sealed class ReplicationNotConfirmedException(string what, Exception? inner = null, bool handedOver = false)
    : Exception($"Write not confirmed by the replicas: {what}.", inner)
{
    /// <summary>
    /// The master that took the write no longer serves its slot (a failover since), or could not be asked: whether the
    /// write survived depends on the slot's master now, which an idempotent write can find out by running again there.
    /// </summary>
    public bool HandedOver { get; } = handedOver;

    /// <summary>The condition reported in the UNAVAILABLE answer's ErrorInfo.</summary>
    public const string Condition = "REPLICATION_TIMEOUT";
}
