using System.ComponentModel.DataAnnotations;

namespace FaceId.Redis;

/// <summary>Configuration section "Redis".</summary>
public sealed class RedisOptions
{
    public const string Section = "Redis";

    /// <summary>StackExchange.Redis configuration string, e.g. "127.0.0.1:6379" or several cluster nodes.</summary>
    [Required(ErrorMessage = "Redis:ConnectionString is required (environment variable Redis__ConnectionString), e.g. 127.0.0.1:6379")]
    public string ConnectionString { get; set; } = "";

    /// <summary>How long start-up waits for Redis before failing.</summary>
    [Range(100, 120_000)]
    public int ConnectTimeoutMs { get; set; } = 5_000;
}

/// <summary>Thrown at start-up when Redis cannot be reached: the host stops with this one clear message.</summary>
public sealed class RedisUnavailableException(string message, Exception inner) : FaceId.Common.StartupException(message, inner);
