using System.Runtime.CompilerServices;
using StackExchange.Redis;

namespace FaceId.Redis;

/// <summary>
/// Makes a connection re-read the cluster's topology now rather than at its next periodic check (a minute by default):
/// after a failover without a broken connection (a planned CLUSTER FAILOVER) the multiplexer still maps the slot to the
/// demoted master and answers "no connection is available" until it looks again (docs/reliability.md, "Failover").
/// At most one re-read per connection every <see cref="MinInterval"/>, however many calls ask at once.
/// </summary>
public static class TopologyRefresh
{
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(250);

    private sealed class LastRequest
    {
        public long Ticks;
        public Task Refresh = Task.CompletedTask;
    }

    private static readonly ConditionalWeakTable<IConnectionMultiplexer, LastRequest> Requests = new();

    /// <summary>Starts a re-read unless one started within <see cref="MinInterval"/>; returns that re-read.</summary>
    public static Task Request(IConnectionMultiplexer connection)
    {
        var last = Requests.GetValue(connection, _ => new LastRequest());
        var now = Environment.TickCount64;
        var seen = Interlocked.Read(ref last.Ticks);
        if (seen != 0 && now - seen < (long)MinInterval.TotalMilliseconds) return Volatile.Read(ref last.Refresh);
        if (Interlocked.CompareExchange(ref last.Ticks, now, seen) != seen) return Volatile.Read(ref last.Refresh);
        var refresh = connection.ConfigureAsync();
        Volatile.Write(ref last.Refresh, refresh);
        return refresh;
    }
}
