using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace FaceId.Onboarding.Application.Webhooks;

/// <summary>
/// The consumer side: turns an integration event's webhook events into one delivery per
/// subscribed, enabled endpoint of the main account, recorded durably (once per delivery id) and
/// due now. The delivery keeps the event's trace context, so its spans join the event's trace.
/// </summary>
public sealed class WebhookOutbox(AccountStore accounts, WebhookStore store, TimeProvider time, ILogger<WebhookOutbox> logger)
{
    public async Task EnqueueAsync(string eventId, IEnumerable<WebhookEvent> events)
    {
        foreach (var e in events)
        {
            var account = await accounts.GetAccountAsync(e.AccountId);
            if (account is null) continue;
            var main = account.MainAccountId ?? account.Id;
            var endpoints = (await store.ListEndpointsAsync(main)).Where(ep => ep.Enabled && ep.Wants(e.Type)).ToList();
            if (endpoints.Count == 0) continue;
            var payload = WebhookEvents.Payload(e, eventId, main);
            var now = time.GetUtcNow();
            foreach (var endpoint in endpoints)
            {
                var delivery = new WebhookDeliveryRecord(WebhookStore.DeliveryId(eventId, e.Type, endpoint.Id), main, endpoint.Id, eventId, e.Type, payload,
                    WebhookDeliveryState.Pending, now, now, 0, 0, Activity.Current?.Id ?? "", Activity.Current?.TraceStateString ?? "", []);
                if (await store.EnqueueAsync(delivery))
                    logger.LogInformation("Webhook {Type} of event {EventId} queued for endpoint {EndpointId} of {AccountId} as {WebhookId}",
                        e.Type, eventId, endpoint.Id, main, delivery.Id);
            }
        }
    }
}
