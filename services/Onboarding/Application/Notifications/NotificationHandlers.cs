using FaceId.Contracts.Events.V1;
using FaceId.EventBus;

namespace FaceId.Onboarding.Application.Notifications;

/// <summary>
/// The integration events Onboarding turns into notices for the main account (R-PKG-6, R-ONB-1,
/// arrears R-BIL-4, refunds R-REF-3). Idempotent per (event id, channel) in <see cref="NotificationDelivery"/>.
/// </summary>
public sealed class NotificationHandlers(NotificationDelivery delivery, AccountStore accounts) :
    IEventHandler<PackageAlert>,
    IEventHandler<PackageDelivered>,
    IEventHandler<ApplicationReviewed>,
    IEventHandler<RefundCompleted>,
    IEventHandler<BillIssued>,
    IEventHandler<ServiceSuspended>
{
    public Task HandleAsync(PackageAlert e, EventContext context, CancellationToken ct) =>
        Notices.For(context.EventId, e) is { } notice ? delivery.DeliverAsync(notice, ct) : Task.CompletedTask;

    public Task HandleAsync(PackageDelivered e, EventContext context, CancellationToken ct) =>
        delivery.DeliverAsync(Notices.For(context.EventId, e), ct);

    /// <summary>The result goes to the contact given on the application (R-ONB-1).</summary>
    public async Task HandleAsync(ApplicationReviewed e, EventContext context, CancellationToken ct)
    {
        var application = string.IsNullOrEmpty(e.ApplicationId) ? null : await accounts.GetApplicationAsync(e.ApplicationId);
        await delivery.DeliverAsync(Notices.For(context.EventId, e, application?.Contact.Email, application?.Contact.Mobile), ct);
    }

    public Task HandleAsync(RefundCompleted e, EventContext context, CancellationToken ct) =>
        delivery.DeliverAsync(Notices.For(context.EventId, e), ct);

    public Task HandleAsync(BillIssued e, EventContext context, CancellationToken ct) =>
        Notices.For(context.EventId, e) is { } notice ? delivery.DeliverAsync(notice, ct) : Task.CompletedTask;

    public Task HandleAsync(ServiceSuspended e, EventContext context, CancellationToken ct) =>
        delivery.DeliverAsync(Notices.For(context.EventId, e), ct);
}
