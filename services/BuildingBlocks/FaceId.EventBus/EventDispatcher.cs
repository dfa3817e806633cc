using System.Diagnostics;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FaceId.EventBus;

public enum DispatchResult
{
    /// <summary>Handled now, or earlier (duplicate delivery): acknowledge.</summary>
    Handled,
    /// <summary>The handler failed; deliver again later.</summary>
    Retry,
    /// <summary>The event can never be handled (malformed, unknown type): dead-letter it.</summary>
    Poison,
}

/// <summary>
/// Transport-independent consumption: de-duplicates on the CloudEvent id, parses the data into
/// the subscribed protobuf type, runs the handler in a consumer span parented by the event's
/// trace context, and remembers the id only after the handler succeeded.
/// </summary>
public sealed class EventDispatcher(
    EventSubscriptions subscriptions,
    IServiceScopeFactory scopes,
    IDatabase redis,
    IOptions<EventBusOptions> options,
    ILogger<EventDispatcher> logger)
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public string ProcessedKey(string eventId) => $"evt:done:{options.Value.AppId}:{eventId}";

    public async Task<(DispatchResult Result, string? Error)> DispatchAsync(string topic, CloudEvent cloudEvent, CancellationToken cancellationToken)
    {
        var tags = new KeyValuePair<string, object?>("topic", topic);
        var subscription = subscriptions.Find(topic);
        if (subscription is null) return (DispatchResult.Poison, $"no subscription for topic {topic}");
        if (cloudEvent.Type != subscription.Descriptor.FullName)
            return (DispatchResult.Poison, $"event type {cloudEvent.Type} does not match topic {topic} ({subscription.Descriptor.FullName})");

        using var activity = EventBusTelemetry.StartFromTraceParent($"process {topic}", ActivityKind.Consumer, cloudEvent.TraceParent, cloudEvent.TraceState);
        activity?.SetTag("messaging.destination.name", topic);
        activity?.SetTag("messaging.consumer.group.name", options.Value.AppId);
        activity?.SetTag("messaging.operation.type", "process");
        var started = Stopwatch.GetTimestamp();

        if (await redis.KeyExistsAsync(ProcessedKey(cloudEvent.Id)))
        {
            activity?.SetTag("faceid.event.duplicate", true);
            EventBusTelemetry.Consumed.Add(1, tags, new("duplicate", true));
            EventBusTelemetry.ProcessDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
            return (DispatchResult.Handled, null);
        }

        IMessage message;
        try
        {
            message = Parser.Parse(cloudEvent.DataJson, subscription.Descriptor);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidJsonException or FormatException)
        {
            return (DispatchResult.Poison, $"data is not a valid {subscription.Descriptor.FullName}: {e.Message}");
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await subscription.Invoke(scope.ServiceProvider, message, new EventContext(cloudEvent.Id, topic, cloudEvent.Source, cloudEvent.Time), cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            EventBusTelemetry.Failed.Add(1, tags);
            EventBusTelemetry.ProcessDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
            logger.LogWarning(e, "Handler for {Topic} failed on event {EventId}; it will be redelivered", topic, cloudEvent.Id);
            return (DispatchResult.Retry, e.GetType().Name + ": " + e.Message);
        }

        await redis.StringSetAsync(ProcessedKey(cloudEvent.Id), 1, TimeSpan.FromDays(options.Value.ProcessedEventRetentionDays));
        EventBusTelemetry.Consumed.Add(1, tags, new("duplicate", false));
        EventBusTelemetry.ProcessDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        return (DispatchResult.Handled, null);
    }
}
