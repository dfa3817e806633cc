using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.Onboarding.Application.Webhooks;

namespace FaceId.Onboarding.Application.Notifications;

/// <summary>
/// The integration events Onboarding turns into notices for the main account (R-PKG-6, R-ONB-1,
/// arrears R-BIL-4, refunds R-REF-3) and into customer webhooks (docs/webhooks.md). Idempotent per
/// (event id, channel) in <see cref="NotificationDelivery"/> and per delivery id in <see cref="WebhookOutbox"/>;
/// webhooks are queued first, so a notice that must be retried queues nothing twice.
/// </summary>
public sealed class NotificationHandlers(NotificationDelivery delivery, AccountStore accounts, WebhookOutbox webhooks) :
    IEventHandler<PackageAlert>,
    IEventHandler<PackageDelivered>,
    IEventHandler<ApplicationReviewed>,
    IEventHandler<RefundCompleted>,
    IEventHandler<RefundRejected>,
    IEventHandler<BillIssued>,
    IEventHandler<ServiceSuspended>,
    IEventHandler<ServiceResumed>,
    IEventHandler<MerchantIdIssued>,
    IEventHandler<MerchantIdRejected>
{
    public async Task HandleAsync(PackageAlert e, EventContext context, CancellationToken ct)
    {
        await webhooks.EnqueueAsync(context.EventId, WebhookEvents.From(e));
        await delivery.DeliverAsync(Notices.For(context.EventId, e), ct);
    }

    public async Task HandleAsync(PackageDelivered e, EventContext context, CancellationToken ct)
    {
        await webhooks.EnqueueAsync(context.EventId, WebhookEvents.From(e));
        await delivery.DeliverAsync(Notices.For(context.EventId, e), ct);
    }

    /// <summary>The result goes to the contact given on the application (R-ONB-1).</summary>
    public async Task HandleAsync(ApplicationReviewed e, EventContext context, CancellationToken ct)
    {
        await webhooks.EnqueueAsync(context.EventId, WebhookEvents.From(e));
        var application = string.IsNullOrEmpty(e.ApplicationId) ? null : await accounts.GetApplicationAsync(e.ApplicationId);
        await delivery.DeliverAsync(Notices.For(context.EventId, e, application?.Contact.Email, application?.Contact.Mobile), ct);
    }

    public async Task HandleAsync(RefundCompleted e, EventContext context, CancellationToken ct)
    {
        await webhooks.EnqueueAsync(context.EventId, WebhookEvents.From(e));
        await delivery.DeliverAsync(Notices.For(context.EventId, e), ct);
    }

    public async Task HandleAsync(BillIssued e, EventContext context, CancellationToken ct)
    {
        await webhooks.EnqueueAsync(context.EventId, WebhookEvents.From(e));
        if (Notices.For(context.EventId, e) is { } notice) await delivery.DeliverAsync(notice, ct);
    }

    public async Task HandleAsync(ServiceSuspended e, EventContext context, CancellationToken ct)
    {
        await webhooks.EnqueueAsync(context.EventId, WebhookEvents.From(e));
        await delivery.DeliverAsync(Notices.For(context.EventId, e), ct);
    }

    /// <summary>Webhook only (no notice).</summary>
    public Task HandleAsync(ServiceResumed e, EventContext context, CancellationToken ct) =>
        webhooks.EnqueueAsync(context.EventId, WebhookEvents.From(e));

    /// <summary>Webhook only (no notice).</summary>
    public Task HandleAsync(MerchantIdIssued e, EventContext context, CancellationToken ct) =>
        webhooks.EnqueueAsync(context.EventId, WebhookEvents.From(e));

    /// <summary>Webhook only (no notice: the caller got the refusal as the answer to its request).</summary>
    public Task HandleAsync(RefundRejected e, EventContext context, CancellationToken ct) =>
        webhooks.EnqueueAsync(context.EventId, WebhookEvents.From(e));

    /// <summary>Webhook only (no notice).</summary>
    public Task HandleAsync(MerchantIdRejected e, EventContext context, CancellationToken ct) =>
        webhooks.EnqueueAsync(context.EventId, WebhookEvents.From(e));
}
