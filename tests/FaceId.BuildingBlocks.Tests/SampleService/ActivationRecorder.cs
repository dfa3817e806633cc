using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using StackExchange.Redis;

namespace FaceId.SampleService;

/// <summary>
/// Consumes ServiceActivated: records each handled event in Redis, where a test can see it from outside the process.
/// An account with a <see cref="PoisonKey"/> makes the handler fail (a bug a test can then fix by deleting the key).
/// </summary>
public sealed class ActivationRecorder(IDatabase redis) : IEventHandler<ServiceActivated>
{
    public static string HandledKey(string accountId) => "sample:handled:" + accountId;

    public static string PoisonKey(string accountId) => "sample:poison:" + accountId;

    public async Task HandleAsync(ServiceActivated @event, EventContext context, CancellationToken cancellationToken)
    {
        if (await redis.KeyExistsAsync(PoisonKey(@event.AccountId)))
            throw new InvalidOperationException($"handler bug for {@event.AccountId}");
        await redis.ListRightPushAsync(HandledKey(@event.AccountId), context.EventId);
    }
}
