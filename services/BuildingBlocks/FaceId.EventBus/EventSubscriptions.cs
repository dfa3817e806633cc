using FaceId.Contracts;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace FaceId.EventBus;

/// <summary>One topic this service consumes, and how to hand its events to the typed handler.</summary>
public sealed record EventSubscription(
    string Topic,
    MessageDescriptor Descriptor,
    Func<IServiceProvider, IMessage, EventContext, CancellationToken, Task> Invoke);

/// <summary>The typed subscriptions of a service, registered with AddSubscription&lt;TEvent, THandler&gt;().</summary>
public sealed class EventSubscriptions
{
    private readonly Dictionary<string, EventSubscription> _byTopic = new(StringComparer.Ordinal);

    public IReadOnlyCollection<EventSubscription> All => _byTopic.Values;

    public EventSubscription? Find(string topic) => _byTopic.GetValueOrDefault(topic);

    internal void Add<TEvent, THandler>()
        where TEvent : IMessage<TEvent>, new()
        where THandler : IEventHandler<TEvent>
    {
        var descriptor = new TEvent().Descriptor;
        var topic = EventTopics.For(descriptor);
        if (!_byTopic.TryAdd(topic, new EventSubscription(topic, descriptor,
                (sp, message, context, ct) => sp.GetRequiredService<THandler>().HandleAsync((TEvent)message, context, ct))))
            throw new InvalidOperationException($"Topic {topic} already has a handler in this service.");
    }
}
