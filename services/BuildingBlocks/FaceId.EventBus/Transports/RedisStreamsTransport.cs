using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FaceId.EventBus.Transports;

/// <summary>
/// Publishes to a Redis stream laid out like Dapr's pubsub.redis: stream key = topic,
/// entry field <c>data</c> = the CloudEvent JSON. A Dapr sidecar on the same Redis reads it as is.
/// </summary>
public sealed class RedisStreamsTransport(IDatabase redis, IOptions<EventBusOptions> options) : IEventTransport
{
    public const string DataField = "data";

    public async Task PublishAsync(CloudEvent cloudEvent, CancellationToken cancellationToken)
    {
        await redis.StreamAddAsync(
            cloudEvent.Topic,
            [new NameValueEntry(DataField, cloudEvent.ToJsonBytes())],
            maxLength: (int)Math.Min(int.MaxValue, options.Value.StreamMaxLength),
            useApproximateMaxLength: true);
    }
}
