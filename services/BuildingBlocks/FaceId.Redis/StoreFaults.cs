using StackExchange.Redis;

namespace FaceId.Redis;

/// <summary>
/// Which Redis failures mean the store is briefly away (a retry soon can succeed) rather than a bug:
/// the one list the gRPC error mapping answers with UNAVAILABLE and retry advice (docs/reliability.md,
/// "A store that is briefly away").
/// </summary>
public static class StoreFaults
{
    /// <summary>
    /// Server replies that name a passing state: the dataset loading after a restart, a script over its
    /// time limit, a cluster resharding or failing over (MOVED/ASK storms, TRYAGAIN, CLUSTERDOWN), a
    /// replica answering while it is not (or no longer) the master.
    /// </summary>
    private static readonly HashSet<string> TransientReplies = new(StringComparer.Ordinal)
    {
        "LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "MOVED", "ASK", "READONLY", "NOREPLICAS",
    };

    /// <summary>
    /// The transient condition <paramref name="e"/> (or an exception it wraps) reports — <c>CONNECTION</c>
    /// (lost, refused, "No connection is active/available"), <c>TIMEOUT</c>, or the server's reply word
    /// (<c>LOADING</c>, <c>TRYAGAIN</c>…), or <c>REPLICATION_TIMEOUT</c> (replicas did not confirm a write in time) — or null when it is not a transient store fault.
    /// </summary>
    public static string? TransientCondition(Exception e)
    {
        for (var (x, depth) = (e, 0); x is not null && depth < 8; (x, depth) = (x.InnerException, depth + 1))
        {
            switch (x)
            {
                case RedisConnectionException { FailureType: ConnectionFailureType.Loading }:
                    return "LOADING"; // the connection's handshake met a server still loading its data
                case RedisConnectionException:
                    return "CONNECTION";
                case RedisTimeoutException:
                    return "TIMEOUT";
                case ReplicationNotConfirmedException:
                    return ReplicationNotConfirmedException.Condition;
                case RedisServerException server when FirstWord(server.Message) is { } word && TransientReplies.Contains(word):
                    return word;
            }
        }
        return null;
    }

    /// <summary>The reply's error word ("LOADING" of "LOADING Redis is loading the dataset in memory"); null without one.</summary>
    private static string? FirstWord(string message)
    {
        var end = message.IndexOf(' ');
        return end > 0 ? message[..end] : message.Length > 0 ? message : null;
    }
}
