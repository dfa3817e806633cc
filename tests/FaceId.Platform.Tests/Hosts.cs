using FaceId.TestKit;

namespace FaceId.Platform.Tests;

/// <summary>Configuration for services under test: real Redis, fast event-bus timings, a private document folder.</summary>
public static class Hosts
{
    public static Dictionary<string, string?> Config(string redis, string? documents = null) => new()
    {
        ["Redis:ConnectionString"] = redis,
        ["EventBus:ProcessingTimeoutMs"] = "2000",
        ["EventBus:RedeliverIntervalMs"] = "200",
        ["EventBus:MaxPollDelayMs"] = "20",
        ["EventBus:OutboxSweepIntervalMs"] = "200",
        ["Documents:Directory"] = documents ?? Path.Combine(Path.GetTempPath(), TestIds.New("docs")),
    };

    /// <summary>The same settings as environment variables, for services run as processes.</summary>
    public static Dictionary<string, string?> Environment(string redis, string? documents = null) =>
        Config(redis, documents).ToDictionary(kv => kv.Key.Replace(":", "__"), kv => kv.Value);

    public static InProcessService<TEntryPoint> InProcess<TEntryPoint>(string redis, string? documents = null) where TEntryPoint : class =>
        new InProcessService<TEntryPoint>(Config(redis, documents)).Start();
}
