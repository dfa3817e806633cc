using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FaceId.EventBus.Transports;

/// <summary>
/// Consumes every subscribed topic from Redis Streams: consumer group = app id (created at the
/// stream's start, so nothing published before the first start is missed), XACK only after the
/// handler succeeded, entries idle longer than the processing timeout reclaimed and delivered again,
/// and after N attempts moved to the dead-letter stream.
/// </summary>
public sealed class RedisStreamsSubscriber(
    EventSubscriptions subscriptions,
    EventDispatcher dispatcher,
    DeadLetters deadLetters,
    IDatabase redis,
    IOptions<EventBusOptions> options,
    TimeProvider time,
    ILogger<RedisStreamsSubscriber> logger) : BackgroundService
{
    // Unique per process: a restarted process reclaims its predecessor's pending entries after the timeout.
    private readonly string _consumer = $"{options.Value.AppId}-{Environment.ProcessId}-{Guid.NewGuid():N}";
    private string Group => options.Value.AppId;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (subscriptions.All.Count == 0) return;
        foreach (var s in subscriptions.All) await EnsureGroupAsync(s.Topic);
        var lastReclaim = time.GetTimestamp();
        var idleDelay = 1;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var handled = 0;
                foreach (var s in subscriptions.All)
                    handled += await ReadNewAsync(s.Topic, stoppingToken);
                if (time.GetElapsedTime(lastReclaim).TotalMilliseconds >= options.Value.RedeliverIntervalMs)
                {
                    foreach (var s in subscriptions.All)
                        handled += await ReclaimAsync(s.Topic, stoppingToken);
                    lastReclaim = time.GetTimestamp();
                }
                // Poll fast while busy, back off to MaxPollDelayMs while idle.
                idleDelay = handled > 0 ? 1 : Math.Min(options.Value.MaxPollDelayMs, idleDelay * 2);
                if (handled == 0) await Task.Delay(idleDelay, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                logger.LogWarning(e, "Event consumption paused: Redis error");
                await Task.Delay(500, stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
            }
        }
    }

    private async Task EnsureGroupAsync(string topic)
    {
        try
        {
            await redis.StreamCreateConsumerGroupAsync(topic, Group, StreamPosition.Beginning, createStream: true);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            // The group exists: keep its position.
        }
    }

    private async Task<int> ReadNewAsync(string topic, CancellationToken ct)
    {
        StreamEntry[] entries;
        try
        {
            entries = await redis.StreamReadGroupAsync(topic, Group, _consumer, StreamPosition.NewMessages, options.Value.ReadBatchSize);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
        {
            await EnsureGroupAsync(topic); // the stream was deleted under us
            return 0;
        }
        foreach (var entry in entries) await ProcessAsync(topic, entry, attempts: 1, ct);
        return entries.Length;
    }

    private async Task<int> ReclaimAsync(string topic, CancellationToken ct)
    {
        var pending = await redis.StreamPendingMessagesAsync(topic, Group, options.Value.ReadBatchSize, RedisValue.Null);
        var reclaimed = 0;
        foreach (var p in pending.Where(p => p.IdleTimeInMilliseconds >= options.Value.ProcessingTimeoutMs))
        {
            var claimed = await redis.StreamClaimAsync(topic, Group, _consumer, options.Value.ProcessingTimeoutMs, [p.MessageId]);
            if (claimed.Length == 0) continue; // another consumer took it
            reclaimed++;
            // XCLAIM counted this delivery too.
            var attempts = p.DeliveryCount + 1;
            if (p.DeliveryCount >= options.Value.MaxDeliveryAttempts)
                await DeadLetterAsync(topic, claimed[0], $"gave up after {p.DeliveryCount} failed deliveries", p.DeliveryCount);
            else
                await ProcessAsync(topic, claimed[0], attempts, ct);
        }
        return reclaimed;
    }

    private async Task ProcessAsync(string topic, StreamEntry entry, int attempts, CancellationToken ct)
    {
        if (entry.IsNull) return; // deleted (trimmed) while pending
        var data = entry[RedisStreamsTransport.DataField];
        CloudEvent cloudEvent;
        try
        {
            if (data.IsNull) throw new MalformedEventException("stream entry has no 'data' field");
            cloudEvent = CloudEvent.Parse((byte[])data!);
        }
        catch (MalformedEventException e)
        {
            await DeadLetterAsync(topic, entry, e.Message, attempts);
            return;
        }
        DispatchResult result;
        string? error;
        try
        {
            (result, error) = await dispatcher.DispatchAsync(topic, cloudEvent, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException and not RedisException)
        {
            // Never let one entry stop the consumer: treat it as a failed delivery.
            logger.LogWarning(e, "Dispatch of {EntryId} on {Topic} failed", entry.Id, topic);
            (result, error) = (DispatchResult.Retry, e.Message);
        }
        switch (result)
        {
            case DispatchResult.Handled:
                await redis.StreamAcknowledgeAsync(topic, Group, entry.Id);
                break;
            case DispatchResult.Poison:
                await DeadLetterAsync(topic, entry, error ?? "poison", attempts);
                break;
            case DispatchResult.Retry:
                break; // stays pending; reclaimed after the processing timeout
        }
    }

    private async Task DeadLetterAsync(string topic, StreamEntry entry, string error, long attempts)
    {
        await deadLetters.AddAsync(topic, Group, entry.Id!, entry[RedisStreamsTransport.DataField], error, attempts);
        await redis.StreamAcknowledgeAsync(topic, Group, entry.Id);
        EventBusTelemetry.DeadLettered.Add(1, new KeyValuePair<string, object?>("topic", topic));
        logger.LogError("Event {EntryId} on {Topic} dead-lettered for group {Group}: {Error}", entry.Id, topic, Group, error);
    }
}
