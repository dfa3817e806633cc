using FaceId.Auth;
using FaceId.Contracts.Operations.V1;
using FaceId.ServiceDefaults.Security;
using Grpc.Core;

namespace FaceId.ServiceDefaults.Operations;

/// <summary>The event-bus operations every service serves (operator role only); logic in <see cref="EventBusOperations"/>.</summary>
public sealed class EventOperationsGrpcService(EventBusOperations operations) : EventOperations.EventOperationsBase
{
    [Allow(Roles.Operator)]
    public override async Task<EventBusStatus> GetEventBusStatus(GetEventBusStatusRequest request, ServerCallContext context)
    {
        var (subscriptions, outbox) = await operations.StatusAsync(context.CancellationToken);
        return new EventBusStatus
        {
            Service = operations.AppId,
            Subscriptions =
            {
                subscriptions.Select(s => new SubscriptionStatus
                {
                    Topic = s.Topic,
                    ConsumerGroup = s.ConsumerGroup,
                    Pending = s.Pending ?? 0,
                    OldestPendingAgeSeconds = s.OldestPendingAgeSeconds ?? 0,
                    Lag = s.Lag ?? -1,
                    DeadLetters = s.DeadLetterEntries,
                }),
            },
            Outbox = new OutboxStatus { Backlog = outbox.Entries, NonEmptyOutboxes = outbox.NonEmptyOutboxes, OldestEntryAgeSeconds = outbox.OldestEntryAgeSeconds },
        };
    }

    [Allow(Roles.Operator)]
    public override async Task<ListDeadLettersResponse> ListDeadLetters(ListDeadLettersRequest request, ServerCallContext context)
    {
        var letters = await operations.ListDeadLettersAsync(request.Topic, request.PageSize);
        return new ListDeadLettersResponse
        {
            DeadLetters =
            {
                letters.Select(l => new DeadLetter
                {
                    EntryId = l.Letter.EntryId,
                    Topic = l.Letter.Topic,
                    ConsumerGroup = l.Letter.ConsumerGroup,
                    OriginalEntryId = l.Letter.OriginalEntryId,
                    Error = l.Letter.Error,
                    Attempts = l.Letter.Attempts,
                    EventId = l.Event?.Id ?? "",
                    EventType = l.Event?.Type ?? "",
                }),
            },
        };
    }

    [Allow(Roles.Operator)]
    public override async Task<RedriveDeadLettersResponse> RedriveDeadLetters(RedriveDeadLettersRequest request, ServerCallContext context) =>
        new() { Redriven = await operations.RedriveAsync(request.Topic, request.EntryIds) };
}
