using System.ComponentModel.DataAnnotations;

namespace FaceId.EventBus;

public enum EventTransportKind
{
    /// <summary>Redis Streams in Dapr pubsub.redis layout; no sidecar needed (default).</summary>
    RedisStreams,
    /// <summary>A Dapr sidecar: publish through DaprClient, receive through Dapr.AspNetCore subscriptions.</summary>
    Dapr,
}

/// <summary>Configuration section "EventBus".</summary>
public sealed class EventBusOptions
{
    public const string Section = "EventBus";

    public EventTransportKind Transport { get; set; } = EventTransportKind.RedisStreams;

    /// <summary>The service's app id: CloudEvent source, Redis consumer group, Dapr app id.</summary>
    [Required, RegularExpression("^[a-z][a-z0-9-]{1,62}$")]
    public string AppId { get; set; } = "";

    /// <summary>Name of the Dapr pub/sub component (deploy/dapr/components/pubsub.yaml).</summary>
    [Required]
    public string PubSubName { get; set; } = "pubsub";

    /// <summary>Delivery attempts before an event goes to the dead-letter stream.</summary>
    [Range(1, 100)]
    public int MaxDeliveryAttempts { get; set; } = 5;

    /// <summary>A pending entry idle this long is reclaimed and delivered again (Dapr: processingTimeout).</summary>
    [Range(10, 3_600_000)]
    public int ProcessingTimeoutMs { get; set; } = 30_000;

    /// <summary>How often pending entries are checked for reclaim (Dapr: redeliverInterval).</summary>
    [Range(10, 600_000)]
    public int RedeliverIntervalMs { get; set; } = 5_000;

    /// <summary>Entries read per XREADGROUP.</summary>
    [Range(1, 10_000)]
    public int ReadBatchSize { get; set; } = 100;

    /// <summary>Longest sleep between polls of an idle stream.</summary>
    [Range(1, 10_000)]
    public int MaxPollDelayMs { get; set; } = 100;

    /// <summary>Approximate cap of a topic stream (XADD MAXLEN ~); size it above the consumer lag you tolerate.</summary>
    [Range(1_000, long.MaxValue)]
    public long StreamMaxLength { get; set; } = 10_000_000;

    /// <summary>How often the outbox relay sweeps every registered outbox (crash recovery); notifications drain at once.</summary>
    [Range(10, 600_000)]
    public int OutboxSweepIntervalMs { get; set; } = 2_000;

    /// <summary>
    /// Whether this process relays outbox entries. Off pauses publication without losing anything
    /// (entries wait in their outboxes for any relay); fault tests use it to stop between a state
    /// change and its relay.
    /// </summary>
    public bool OutboxRelayEnabled { get; set; } = true;

    /// <summary>How often consumer lag (pending, oldest pending age, undelivered, dead letters) is sampled for the gauges.</summary>
    [Range(10, 600_000)]
    public int LagSampleIntervalMs { get; set; } = 5_000;

    /// <summary>How long a consumed event id is remembered for de-duplication.</summary>
    [Range(1, 365)]
    public int ProcessedEventRetentionDays { get; set; } = 30;
}
