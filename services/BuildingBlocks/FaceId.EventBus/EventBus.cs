using System.Diagnostics;
using FaceId.Contracts;
using Google.Protobuf;
using Microsoft.Extensions.Options;

namespace FaceId.EventBus;

internal sealed class EventBus(IEventTransport transport, IOptions<EventBusOptions> options, TimeProvider time) : IEventBus
{
    public Task PublishAsync<TEvent>(TEvent @event, CancellationToken cancellationToken = default) where TEvent : IMessage<TEvent>, new()
    {
        var cloudEvent = new CloudEvent
        {
            Id = Guid.NewGuid().ToString("N"),
            Source = options.Value.AppId,
            Type = @event.Descriptor.FullName,
            Topic = EventTopics.For(@event.Descriptor),
            Time = time.GetUtcNow(),
            DataJson = EventJson.Format(@event),
            PubSubName = options.Value.PubSubName,
            TraceParent = Activity.Current?.Id,
            TraceState = Activity.Current?.TraceStateString,
        };
        return PublishAsync(cloudEvent, cancellationToken);
    }

    public async Task PublishAsync(CloudEvent cloudEvent, CancellationToken cancellationToken = default)
    {
        using var activity = EventBusTelemetry.StartFromTraceParent($"publish {cloudEvent.Topic}", ActivityKind.Producer, cloudEvent.TraceParent, cloudEvent.TraceState);
        activity?.SetTag("messaging.destination.name", cloudEvent.Topic);
        activity?.SetTag("messaging.operation.type", "send");
        // The consumer's span becomes a child of this publish span.
        var carried = activity is null ? cloudEvent : cloudEvent with { TraceParent = activity.Id, TraceState = activity.TraceStateString };
        await transport.PublishAsync(carried, cancellationToken);
        EventBusTelemetry.OnPublished(cloudEvent);
    }
}

/// <summary>The protobuf JSON mapping used for every event's CloudEvent data.</summary>
public static class EventJson
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));

    public static string Format(IMessage message) => Formatter.Format(message);
}
