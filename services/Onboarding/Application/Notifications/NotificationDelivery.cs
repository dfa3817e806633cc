using Microsoft.Extensions.Logging;

namespace FaceId.Onboarding.Application.Notifications;

/// <summary>
/// Delivers a <see cref="Notice"/> to its main account on the three channels, each exactly once
/// per (event id, channel) however often the event arrives:
/// <list type="bullet">
/// <item>in-site inbox: the marker and the message are one atomic script (deliver-inbox.lua);</item>
/// <item>email, SMS: claimed → sent. A claim (a marker with a lease) is taken before sending and
/// turned into "sent" after; a duplicate delivery finds "sent" and skips, or a live claim and
/// retries later. A send that fails releases the claim and the event is retried. Only a crash
/// after the provider accepted the message and before "sent" was written leads, once the lease
/// ran out, to a second send: external channels are at-least-once by choice (a notice is never
/// lost), and that rare resend carries the same delivery key (email Message-ID, sink dedupe).</item>
/// </list>
/// A channel without an address (no email or mobile on file) is skipped. Addresses and message
/// texts are never logged.
/// </summary>
public sealed class NotificationDelivery(
    AccountStore accounts,
    NotificationStore store,
    IEmailSender email,
    ISmsSender sms,
    TimeProvider time,
    ILogger<NotificationDelivery> logger)
{
    public async Task DeliverAsync(Notice notice, CancellationToken ct)
    {
        var account = await accounts.GetAccountAsync(notice.AccountId);
        if (account is null)
        {
            logger.LogDebug("No account {AccountId} for notice {Kind} of event {EventId}; nothing to deliver", notice.AccountId, notice.Kind, notice.EventId);
            return;
        }
        var main = account.MainAccountId ?? account.Id;
        if (account.MainAccountId is not null) account = await accounts.GetAccountAsync(main) ?? account;

        if (await store.DeliverToInboxAsync(main, notice, time.GetUtcNow()))
            logger.LogInformation("Notice {Kind} of event {EventId} delivered to the inbox of {AccountId}", notice.Kind, notice.EventId, main);

        var to = Nonempty(notice.Email) ?? Nonempty(account.Contacts.Email);
        await DeliverExternalAsync(main, notice, Channels.Email, to, m => email.SendAsync(m, ct));
        to = Nonempty(notice.Mobile) ?? Nonempty(account.Contacts.Mobile);
        await DeliverExternalAsync(main, notice, Channels.Sms, to, m => sms.SendAsync(m, ct));
    }

    private async Task DeliverExternalAsync(string main, Notice notice, string channel, string? to, Func<OutboundMessage, Task> send)
    {
        if (to is null)
        {
            logger.LogDebug("No {Channel} address for {AccountId}; notice {Kind} of event {EventId} not sent on it", channel, main, notice.Kind, notice.EventId);
            return;
        }
        var token = Guid.NewGuid().ToString("N");
        switch (await store.ClaimAsync(main, notice.EventId, channel, token))
        {
            case ClaimResult.AlreadySent:
                return;
            case ClaimResult.Busy:
                throw new DeliveryInProgressException(notice.EventId, channel);
        }
        try
        {
            await send(new OutboundMessage(notice.EventId, channel, to, notice.Kind, notice.Title, notice.Body));
        }
        catch (Exception e)
        {
            await store.ReleaseAsync(main, notice.EventId, channel, token);
            if (e is OperationCanceledException) throw;
            // Provider errors may quote the address: the details go to Debug only, the bus (which
            // logs the failure at Warning and redelivers) sees the exception type.
            logger.LogDebug(e, "Sending notice {Kind} of event {EventId} by {Channel} failed", notice.Kind, notice.EventId, channel);
            throw new NotificationSendException(notice.EventId, channel, e.GetType().Name);
        }
        await store.MarkSentAsync(main, notice.EventId, channel);
        logger.LogInformation("Notice {Kind} of event {EventId} sent by {Channel} for {AccountId}", notice.Kind, notice.EventId, channel, main);
    }

    private static string? Nonempty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}

/// <summary>Another attempt holds a live claim on this (event, channel): the event is retried later.</summary>
public sealed class DeliveryInProgressException(string eventId, string channel)
    : Exception($"Delivery of event {eventId} on {channel} is claimed by another attempt; retry later.");

/// <summary>A provider failed to take a message; the event is retried. Carries no address or text.</summary>
public sealed class NotificationSendException(string eventId, string channel, string cause)
    : Exception($"Sending event {eventId} by {channel} failed ({cause}); it will be retried.");
