using FaceId.Billing.Grpc;
using FaceId.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace FaceId.Billing.Tests.Support;

/// <summary>Services under test: real Redis, fast event-bus timings, the clock a FakeTimeProvider shared by every host of a test.</summary>
public static class Hosts
{
    public static Dictionary<string, string?> Config(string redis, bool scheduler = false) => new()
    {
        ["Redis:ConnectionString"] = redis,
        ["EventBus:ProcessingTimeoutMs"] = "2000",
        ["EventBus:RedeliverIntervalMs"] = "200",
        ["EventBus:MaxPollDelayMs"] = "10",
        ["EventBus:OutboxSweepIntervalMs"] = "200",
        ["Documents:Directory"] = Path.Combine(Path.GetTempPath(), TestIds.New("docs")),
        ["Notifications:SinkDirectory"] = Path.Combine(Path.GetTempPath(), TestIds.New("notices")),
        ["Billing:SchedulerEnabled"] = scheduler ? "true" : "false",
        // One pass per fake second: a test that moves the clock sees a pass within a second of fake time.
        ["Billing:SchedulerIntervalSeconds"] = "1",
    };

    /// <summary>A service in process whose TimeProvider is <paramref name="clock"/>.</summary>
    public static InProcessService<TEntryPoint> Start<TEntryPoint>(string redis, FakeTimeProvider clock, bool scheduler = false,
        IReadOnlyDictionary<string, string?>? extra = null) where TEntryPoint : class
    {
        var config = Config(redis, scheduler);
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>()) config[k] = v;
        return new InProcessService<TEntryPoint>(config, services => services.AddSingleton<TimeProvider>(clock)).Start();
    }

    public static InProcessService<BillingGrpcService> Billing(string redis, FakeTimeProvider clock, bool scheduler = false,
        IReadOnlyDictionary<string, string?>? extra = null) => Start<BillingGrpcService>(redis, clock, scheduler, extra);

    /// <summary>A fake clock at a Shanghai local time, e.g. At("2027-03-10T09:00").</summary>
    public static FakeTimeProvider Clock(string shanghaiLocal) => new(At(shanghaiLocal));

    public static DateTimeOffset At(string shanghaiLocal) => DateTimeOffset.Parse(shanghaiLocal + "+08:00", System.Globalization.CultureInfo.InvariantCulture);
}
