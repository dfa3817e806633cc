using Dapr.Client;
using FaceId.EventBus.Outbox;
using FaceId.EventBus.Transports;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace FaceId.EventBus;

/// <summary>Returned by AddFaceIdEventBus so a service can declare its typed subscriptions.</summary>
public sealed class EventBusBuilder(IServiceCollection services, EventSubscriptions subscriptions)
{
    public IServiceCollection Services { get; } = services;

    public EventBusBuilder AddSubscription<TEvent, THandler>()
        where TEvent : IMessage<TEvent>, new()
        where THandler : class, IEventHandler<TEvent>
    {
        subscriptions.Add<TEvent, THandler>();
        Services.TryAddScoped<THandler>();
        return this;
    }
}

public static class EventBusServiceCollectionExtensions
{
    /// <summary>
    /// The event bus with the transport chosen by EventBus:Transport (RedisStreams by default, or
    /// Dapr), the outbox relay, and for Redis Streams the consumer of every subscription.
    /// </summary>
    public static EventBusBuilder AddFaceIdEventBus(this IServiceCollection services, IConfiguration configuration, string appId)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<EventBusOptions>()
            .Bind(configuration.GetSection(EventBusOptions.Section))
            // The app id is the service's identity (consumer group, CloudEvent source), never configuration.
            .PostConfigure(o => o.AppId = appId)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        var subscriptions = new EventSubscriptions();
        services.AddSingleton(subscriptions);
        services.AddSingleton<IEventBus, EventBus>();
        services.AddSingleton<EventDispatcher>();
        services.AddSingleton<DeadLetters>();
        services.AddSingleton<OutboxRelay>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxRelay>());
        // Singletons as well as hosted services: the operations RPCs read them.
        services.AddSingleton<ConsumerLagMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<ConsumerLagMonitor>());

        var transport = configuration.GetValue(EventBusOptions.Section + ":Transport", EventTransportKind.RedisStreams);
        if (transport == EventTransportKind.Dapr)
        {
            services.AddDaprClient();
            services.AddSingleton<IEventTransport, DaprTransport>();
        }
        else
        {
            services.AddSingleton<IEventTransport, RedisStreamsTransport>();
            services.AddHostedService<RedisStreamsSubscriber>();
        }
        return new EventBusBuilder(services, subscriptions);
    }

    /// <summary>Maps the Dapr subscription endpoints when the Dapr transport is selected.</summary>
    public static WebApplication MapFaceIdEventBus(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<EventBusOptions>>().Value.Transport == EventTransportKind.Dapr)
        {
            app.UseDaprCloudEvents();
            app.MapDaprSubscriptions();
        }
        return app;
    }
}
