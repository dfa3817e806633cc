using System.Collections.Concurrent;
using System.Diagnostics;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FaceId.Observability.Tests.Support;

/// <summary>
/// A test subscription standing in for Billing (built elsewhere): a plain host with the event bus
/// on the Redis Streams transport, consuming faceid.usage.charged.v1 as its own consumer group.
/// </summary>
public sealed class ProbeConsumer : IAsyncDisposable
{
    private readonly IHost _host;

    private ProbeConsumer(IHost host, string appId)
    {
        _host = host;
        AppId = appId;
    }

    public string AppId { get; }

    /// <summary>Handled usage events: event id → the consumer span's id.</summary>
    public ConcurrentDictionary<string, ActivitySpanId> Handled { get; } = new();

    public static async Task<ProbeConsumer> StartAsync(string redis, string appId)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(Platform.Config(redis));
        builder.Services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddFaceIdRedis();
        builder.Services.AddFaceIdEventBus(builder.Configuration, appId).AddSubscription<UsageCharged, UsageProbeHandler>();
        var host = builder.Build();
        var probe = new ProbeConsumer(host, appId);
        UsageProbeHandler.Probes[appId] = probe;
        await host.StartAsync();
        return probe;
    }

    public async ValueTask DisposeAsync()
    {
        UsageProbeHandler.Probes.TryRemove(AppId, out _);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await _host.StopAsync(cts.Token); } catch (OperationCanceledException) { }
        _host.Dispose();
    }
}

public sealed class UsageProbeHandler(Microsoft.Extensions.Options.IOptions<EventBusOptions> options) : IEventHandler<UsageCharged>
{
    internal static readonly ConcurrentDictionary<string, ProbeConsumer> Probes = new();

    /// <summary>A record with this request id makes the handler fail (a failed delivery, redelivered later).</summary>
    public const string FailingRequestId = "boom";

    public Task HandleAsync(UsageCharged message, EventContext context, CancellationToken cancellationToken)
    {
        if (message.AllRecords().Any(r => r.RequestId == FailingRequestId)) throw new InvalidOperationException("probe handler failure");
        if (Probes.TryGetValue(options.Value.AppId, out var probe))
            probe.Handled[context.EventId] = Activity.Current?.SpanId ?? default;
        return Task.CompletedTask;
    }
}
