using System.Diagnostics;
using FaceId.Onboarding.Application.Notifications;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FaceId.Onboarding.Application.Webhooks;

/// <summary>
/// Sends due deliveries: claims them from <c>wh:due</c> with a lease, makes one attempt each, and
/// records it with its consequences in one script (next attempt with exponential back-off and
/// jitter, failed when the schedule is used up, the endpoint disabled with an inbox notice after
/// too many failures in a row). A worker killed mid-attempt loses nothing: after the lease the
/// delivery is taken again and sent with the same webhook-id (at least once).
/// </summary>
public sealed class WebhookDeliveryWorker(
    WebhookStore store, WebhookSender sender, IOptions<WebhookOptions> options, TimeProvider time, ILogger<WebhookDeliveryWorker> logger) : BackgroundService
{
    private const int Parallelism = 8;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.WorkerEnabled) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var claimed = await store.ClaimDueAsync(time.GetUtcNow());
                if (claimed.Count > 0)
                {
                    await Parallel.ForEachAsync(claimed, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = stoppingToken },
                        async (c, ct) => await ProcessAsync(c.Member, c.ClaimedUntil, ct));
                    continue;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Redis unreachable or a bug: claimed deliveries come back after their lease.
                logger.LogWarning(e, "Webhook delivery round failed; retrying");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(options.Value.PollIntervalMs), time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>The wait before attempt <paramref name="attemptsMade"/> + 1 of a round, or null when the schedule is used up.</summary>
    public static TimeSpan? Backoff(IReadOnlyList<long> delaysMs, double jitter, int attemptsMade, Random random)
    {
        if (attemptsMade < 1 || attemptsMade > delaysMs.Count) return null;
        var factor = 1 + jitter * (2 * random.NextDouble() - 1);
        return TimeSpan.FromMilliseconds(Math.Max(0, delaysMs[attemptsMade - 1] * factor));
    }

    private async Task ProcessAsync(string member, DateTimeOffset claimedUntil, CancellationToken ct)
    {
        var bar = member.IndexOf('|');
        var (main, id) = (member[..bar], member[(bar + 1)..]);
        var delivery = await store.GetDeliveryAsync(main, id);
        var endpoint = delivery is null ? null : await store.GetEndpointAsync(main, delivery.EndpointId);
        // Gone, done, its endpoint deleted or disabled (parked until it is enabled): not due any more.
        if (delivery is not { State: WebhookDeliveryState.Pending } || endpoint is not { Enabled: true })
        {
            await store.ReleaseDueAsync(member, claimedUntil);
            return;
        }

        var tags = new TagList { { "event_type", delivery.EventType } };
        var parent = ActivityContext.TryParse(delivery.TraceParent, delivery.TraceState, out var p) ? p : default;
        using var activity = WebhookTelemetry.Source.StartActivity($"webhook send {delivery.EventType}", ActivityKind.Client, parent);
        activity?.SetTag("faceid.webhook.id", delivery.Id);
        activity?.SetTag("faceid.webhook.endpoint", endpoint.Id);
        activity?.SetTag("faceid.event.id", delivery.EventId);
        activity?.SetTag("faceid.account", main);

        var now = time.GetUtcNow();
        var result = await sender.SendAsync(new Uri(endpoint.Url), delivery.Id, delivery.Payload, endpoint.SigningSecrets(now), now, ct);
        activity?.SetTag("http.response.status_code", result.StatusCode);
        activity?.SetTag("faceid.webhook.attempt", delivery.Attempts + 1);
        WebhookTelemetry.Latency.Record(result.Latency.TotalSeconds, tags);
        var wait = result.Success ? null : Backoff(options.Value.RetrySchedule, options.Value.JitterFraction, delivery.AttemptsThisRound + 1, Random.Shared);
        var nextAt = wait is { } w ? time.GetUtcNow() + w : (DateTimeOffset?)null;
        var notice = new Notice($"webhook-disabled:{endpoint.Id}:{now.ToUnixTimeMilliseconds()}", main, "webhook.endpoint_disabled",
            "Webhook 端点已停用 / Webhook endpoint disabled",
            $"Webhook 端点 {endpoint.Id}（{endpoint.Url}）连续 {options.Value.DisableAfterConsecutiveFailures} 次投递失败，已停用；修复后请重新启用。" +
            $"Webhook endpoint {endpoint.Id} ({endpoint.Url}) failed {options.Value.DisableAfterConsecutiveFailures} deliveries in a row and was disabled; enable it again once it is fixed.");
        var (outcome, disabled) = await store.RecordAttemptAsync(delivery,
            new WebhookAttemptRecord(now.ToUnixTimeMilliseconds(), result.StatusCode, (long)result.Latency.TotalMilliseconds, result.Error),
            result.Success, nextAt, now, notice);

        if (result.Success) WebhookTelemetry.Delivered.Add(1, tags);
        else
        {
            activity?.SetStatus(ActivityStatusCode.Error, result.Error);
            WebhookTelemetry.Failed.Add(1, new TagList { { "event_type", delivery.EventType }, { "error", ErrorKind(result) } });
        }
        switch (outcome)
        {
            case WebhookStore.AttemptOutcome.Retry:
                WebhookTelemetry.Retried.Add(1, tags);
                await store.RescheduleAsync(member, nextAt!.Value);
                break;
            case WebhookStore.AttemptOutcome.Failed:
                WebhookTelemetry.GaveUp.Add(1, tags);
                await store.ReleaseDueAsync(member, claimedUntil);
                break;
            case WebhookStore.AttemptOutcome.Redelivered:
                break; // the redelivery made it due now, for the attempt it asked for
            default:
                await store.ReleaseDueAsync(member, claimedUntil);
                break;
        }
        logger.LogInformation("Webhook {WebhookId} ({Type}) to endpoint {EndpointId}: attempt {Attempt} {Status} in {LatencyMs} ms {Error} → {Outcome}",
            delivery.Id, delivery.EventType, endpoint.Id, delivery.Attempts + 1, result.StatusCode, (long)result.Latency.TotalMilliseconds, result.Error, outcome);
        if (disabled)
        {
            WebhookTelemetry.EndpointsDisabled.Add(1);
            logger.LogWarning("Webhook endpoint {EndpointId} of {AccountId} disabled after {Failures} failed attempts in a row", endpoint.Id, main, options.Value.DisableAfterConsecutiveFailures);
        }
    }

    private static string ErrorKind(AttemptResult r) => r.StatusCode > 0 ? (r.StatusCode / 100) + "xx" : r.Error.Split(':')[0];
}
