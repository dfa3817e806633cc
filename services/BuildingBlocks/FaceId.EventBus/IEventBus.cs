using Google.Protobuf;

namespace FaceId.EventBus;

/// <summary>
/// Publishes integration events. Prefer the outbox (<see cref="Outbox.OutboxEntry"/>) whenever
/// the event reports a state change: publishing directly can lose the event on a crash between
/// the change and this call.
/// </summary>
public interface IEventBus
{
    Task PublishAsync<TEvent>(TEvent @event, CancellationToken cancellationToken = default) where TEvent : IMessage<TEvent>, new();

    /// <summary>Publishes an already built CloudEvent as is (the outbox relay, dead-letter re-drive).</summary>
    Task PublishAsync(CloudEvent cloudEvent, CancellationToken cancellationToken = default);
}

/// <summary>Handles one kind of integration event. Must be idempotent on <see cref="EventContext.EventId"/>.</summary>
public interface IEventHandler<in TEvent> where TEvent : IMessage
{
    Task HandleAsync(TEvent @event, EventContext context, CancellationToken cancellationToken);
}

public sealed record EventContext(string EventId, string Topic, string Source, DateTimeOffset Time);

/// <summary>A transport moves CloudEvents; the bus above it is the same for all transports.</summary>
public interface IEventTransport
{
    Task PublishAsync(CloudEvent cloudEvent, CancellationToken cancellationToken);
}
