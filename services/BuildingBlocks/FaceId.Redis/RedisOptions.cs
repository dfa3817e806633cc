using System.ComponentModel.DataAnnotations;

namespace FaceId.Redis;

/// <summary>Configuration section "Redis".</summary>
public sealed class RedisOptions
{
    public const string Section = "Redis";

    /// <summary>StackExchange.Redis configuration string, e.g. "127.0.0.1:6379" or several cluster nodes.</summary>
    [Required(ErrorMessage = "Redis:ConnectionString is required (environment variable Redis__ConnectionString), e.g. 127.0.0.1:6379")]
    public string ConnectionString { get; set; } = "";

    /// <summary>How long start-up waits for Redis before failing (also the bound of each reconnection attempt).</summary>
    [Range(100, 120_000)]
    public int ConnectTimeoutMs { get; set; } = 5_000;

    /// <summary>
    /// How long a command may wait for Redis's answer before it fails (a TIMEOUT, answered UNAVAILABLE):
    /// under a gateway's usual 5-s deadline, so a stalled Redis is reported as such, not as DEADLINE_EXCEEDED.
    /// </summary>
    [Range(100, 120_000)]
    public int OperationTimeoutMs { get; set; } = 3_000;

    /// <summary>How often a lost connection is tried again (the attempts run on the connection's 1-s heartbeat).</summary>
    [Range(100, 60_000)]
    public int ReconnectIntervalMs { get; set; } = 500;

    /// <summary>
    /// How many replicas must hold a script's writes before the caller is answered (Redis <c>WAIT</c> after every
    /// script contract call; docs/reliability.md, "Acknowledged after replication"). 0 (the default): answered
    /// as soon as the master has run the script, no extra round trip.
    /// </summary>
    [Range(0, 16)]
    public int ReplicaAcks { get; set; }

    /// <summary>How long a write waits for <see cref="ReplicaAcks"/> replicas before the caller gets UNAVAILABLE (REPLICATION_TIMEOUT).</summary>
    [Range(1, 60_000)]
    public int ReplicaAckTimeoutMs { get; set; } = 1_000;

    /// <summary>
    /// Read Redis's replies on the .NET thread pool (StackExchange.Redis's <c>SocketManager.ThreadPool</c>) instead
    /// of its dedicated reader threads: one thread hand-off less per reply, about 10 % of Metering's CPU per
    /// RecordUsage (docs/benchmarks.md). Only for a process that never blocks a pool thread waiting on Redis
    /// (a blocked pool would hold back the replies it waits for): Metering turns it on; off by default.
    /// </summary>
    public bool ReadOnThreadPool { get; set; }
}

/// <summary>Thrown at start-up when Redis cannot be reached: the host stops with this one clear message.</summary>
public sealed class RedisUnavailableException(string message, Exception inner) : FaceId.Common.StartupException(message, inner);
