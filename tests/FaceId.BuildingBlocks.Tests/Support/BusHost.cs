using FaceId.EventBus;
using FaceId.Redis;
using FaceId.TestKit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace FaceId.BuildingBlocks.Tests.Support;

/// <summary>
/// The event-bus building blocks hosted as a service would host them, in a plain generic host:
/// AddFaceIdRedis + AddFaceIdEventBus with the test's subscriptions and fast timings.
/// </summary>
public sealed class BusHost : IAsyncDisposable
{
    /// <summary>Timings that make redelivery, reclaim and sweeps observable in well under a second.</summary>
    public static IReadOnlyDictionary<string, string?> FastTimings { get; } = new Dictionary<string, string?>
    {
        ["EventBus:ProcessingTimeoutMs"] = "200",
        ["EventBus:RedeliverIntervalMs"] = "50",
        ["EventBus:MaxPollDelayMs"] = "10",
        ["EventBus:OutboxSweepIntervalMs"] = "100",
        ["EventBus:MaxDeliveryAttempts"] = "3",
    };

    private readonly IHost _host;

    private BusHost(IHost host, string appId)
    {
        _host = host;
        AppId = appId;
    }

    /// <summary>The app id: CloudEvent source and consumer group.</summary>
    public string AppId { get; }

    public IServiceProvider Services => _host.Services;

    public T Get<T>() where T : notnull => _host.Services.GetRequiredService<T>();

    public static async Task<BusHost> StartAsync(
        string redisConnectionString,
        string appId,
        Action<EventBusBuilder>? subscribe = null,
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null,
        ITestOutputHelper? output = null)
    {
        var host = Build(redisConnectionString, appId, subscribe, settings, services, output);
        await host._host.StartAsync();
        return host;
    }

    /// <summary>Builds without starting (for tests of start-up).</summary>
    public static BusHost Build(
        string redisConnectionString,
        string appId,
        Action<EventBusBuilder>? subscribe = null,
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null,
        ITestOutputHelper? output = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var config = new Dictionary<string, string?>(FastTimings) { ["Redis:ConnectionString"] = redisConnectionString };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) config[k] = v;
        builder.Configuration.AddInMemoryCollection(config);
        builder.Services.AddLogging(l =>
        {
            l.SetMinimumLevel(LogLevel.Debug);
            if (output is not null) l.AddProvider(new TestOutputLoggerProvider(output, LogLevel.Debug));
        });
        builder.Services.AddSingleton(TimeProvider.System);
        services?.Invoke(builder.Services);
        builder.Services.AddFaceIdRedis();
        var bus = builder.Services.AddFaceIdEventBus(builder.Configuration, appId);
        subscribe?.Invoke(bus);
        return new BusHost(builder.Build(), appId);
    }

    public Task StartAsync() => _host.StartAsync();

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            try { await _host.StopAsync(cts.Token); } catch (OperationCanceledException) { }
        }
        if (_host is IAsyncDisposable d) await d.DisposeAsync();
        else _host.Dispose();
    }
}

public static class ConsumerHosts
{
    /// <summary>A host whose bus consumes ServiceActivated with a <see cref="ProbeHandler"/> reporting to <paramref name="probe"/>.</summary>
    public static Task<BusHost> StartConsumerAsync(
        string redisConnectionString, string appId, HandlerProbe probe, string hostName = "host",
        IReadOnlyDictionary<string, string?>? settings = null, ITestOutputHelper? output = null) =>
        BusHost.StartAsync(redisConnectionString, appId,
            bus => bus.AddSubscription<FaceId.Contracts.Events.V1.ServiceActivated, ProbeHandler>(),
            settings,
            s =>
            {
                s.AddSingleton(probe);
                s.AddSingleton(new HostName(hostName));
            },
            output);
}
