using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FaceId.Onboarding.Application.Webhooks;

/// <summary>Spans and metrics of webhook delivery (docs/observability.md).</summary>
public static class WebhookTelemetry
{
    public const string Name = "FaceId.Webhooks";
    public static readonly ActivitySource Source = new(Name);
    private static readonly Meter Meter = new(Name);

    public static readonly Counter<long> Delivered = Meter.CreateCounter<long>("faceid.webhooks.delivered", "{delivery}", "Deliveries a receiver accepted (2xx), by event type.");
    public static readonly Counter<long> Failed = Meter.CreateCounter<long>("faceid.webhooks.failed", "{attempt}", "Failed attempts (non-2xx, timeout, refused address, connection error), by event type and error kind.");
    public static readonly Counter<long> Retried = Meter.CreateCounter<long>("faceid.webhooks.retried", "{attempt}", "Failed attempts scheduled for another try.");
    public static readonly Counter<long> GaveUp = Meter.CreateCounter<long>("faceid.webhooks.gave_up", "{delivery}", "Deliveries whose every attempt failed.");
    public static readonly Counter<long> EndpointsDisabled = Meter.CreateCounter<long>("faceid.webhooks.endpoints_disabled", "{endpoint}", "Endpoints disabled after failing DisableAfterConsecutiveFailures times in a row.");

    public static readonly Histogram<double> Latency = Meter.CreateHistogram<double>("faceid.webhooks.delivery.duration", "s",
        "Time of one delivery attempt: connect, send, status and the bounded body read.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
}
