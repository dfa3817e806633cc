using Dapr.Client;
using Microsoft.Extensions.Options;

namespace FaceId.EventBus.Transports;

/// <summary>
/// Publishes through the Dapr sidecar. The CloudEvent is sent whole with content type
/// application/cloudevents+json, so the sidecar forwards it unchanged: the same wire format as
/// the Redis Streams transport.
/// </summary>
public sealed class DaprTransport(DaprClient dapr, IOptions<EventBusOptions> options) : IEventTransport
{
    public Task PublishAsync(CloudEvent cloudEvent, CancellationToken cancellationToken) =>
        dapr.PublishByteEventAsync(
            options.Value.PubSubName,
            cloudEvent.Topic,
            cloudEvent.ToJsonBytes(),
            CloudEvent.ContentType,
            cancellationToken: cancellationToken);
}
