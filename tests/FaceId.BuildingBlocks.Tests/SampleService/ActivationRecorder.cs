using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using StackExchange.Redis;

namespace FaceId.SampleService;

/// <summary>Consumes ServiceActivated: records each handled event in Redis, where a test can see it from outside the process.</summary>
public sealed class ActivationRecorder(IDatabase redis) : IEventHandler<ServiceActivated>
{
    public static string HandledKey(string accountId) => "sample:handled:" + accountId;

    public Task HandleAsync(ServiceActivated @event, EventContext context, CancellationToken cancellationToken) =>
        redis.ListRightPushAsync(HandledKey(@event.AccountId), context.EventId);
}
