using FaceId.TestKit;
using Microsoft.Extensions.DependencyInjection;

namespace FaceId.Onboarding.Tests.Support;

/// <summary>Services under test: real Redis, fast event-bus timings, private document and notification folders.</summary>
public static class Hosts
{
    public static Dictionary<string, string?> Config(string redis, string sinkDirectory) => new()
    {
        ["Redis:ConnectionString"] = redis,
        ["EventBus:ProcessingTimeoutMs"] = "1000",
        ["EventBus:RedeliverIntervalMs"] = "200",
        ["EventBus:MaxPollDelayMs"] = "20",
        ["EventBus:OutboxSweepIntervalMs"] = "200",
        ["EventBus:MaxDeliveryAttempts"] = "20",
        ["Documents:Directory"] = Path.Combine(Path.GetTempPath(), TestIds.New("docs")),
        ["Notifications:SinkDirectory"] = sinkDirectory,
    };

    public static InProcessService<TEntryPoint> InProcess<TEntryPoint>(
        string redis, string sinkDirectory, Action<Dictionary<string, string?>>? configure = null, Action<IServiceCollection>? services = null)
        where TEntryPoint : class
    {
        var config = Config(redis, sinkDirectory);
        configure?.Invoke(config);
        return new InProcessService<TEntryPoint>(config, services).Start();
    }

    public static string NewSinkDirectory() => Path.Combine(Path.GetTempPath(), TestIds.New("notifications"));
}
