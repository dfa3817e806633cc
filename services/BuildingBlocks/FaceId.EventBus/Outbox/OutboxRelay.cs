using System.Collections.Concurrent;
using System.Threading.Channels;
using FaceId.Redis;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FaceId.EventBus.Outbox;

/// <summary>
/// Moves outbox entries to the bus: publish first, then XDEL, so a crash in between publishes the
/// entries again with the same event ids (at-least-once; consumers dedupe, and do not depend on order). Outboxes are drained as
/// soon as a writer calls <see cref="Notify"/>, and every outbox in the registry set is swept
/// periodically, which finishes what a crashed process left behind. A per-outbox lock keeps
/// replicas from relaying the same entries concurrently.
/// </summary>
public sealed class OutboxRelay(
    IDatabase redis,
    IEventBus bus,
    IOptions<EventBusOptions> options,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    /// <summary>Set of every outbox key that may hold entries (no hash tag: its own slot).</summary>
    public const string RegistryKey = "outbox:registry";
    private const int PageSize = 200;

    /// <summary>How long a drain's lock lasts: a drain that outlives it may overlap another relay's (a duplicate publish).</summary>
    private static readonly TimeSpan LockFor = TimeSpan.FromSeconds(30);

    private readonly Channel<string> _dirty = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, bool> _registered = new();

    /// <summary>
    /// Records that <paramref name="hashTag"/>'s outbox may receive entries. Call before the first
    /// state change that writes to it, so the sweep finds it even if this process dies right after.
    /// </summary>
    public async ValueTask RegisterAsync(string hashTag)
    {
        var key = RedisKeys.Outbox(hashTag);
        if (_registered.ContainsKey(key)) return;
        await redis.SetAddAsync(RegistryKey, key);
        _registered.TryAdd(key, true);
    }

    /// <summary>Asks for an immediate drain of <paramref name="hashTag"/>'s outbox.</summary>
    public void Notify(string hashTag) => _dirty.Writer.TryWrite(RedisKeys.Outbox(hashTag));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.OutboxRelayEnabled)
        {
            logger.LogWarning("Outbox relay is disabled (EventBus:OutboxRelayEnabled=false): events wait in their outboxes");
            return;
        }
        var sweepEvery = TimeSpan.FromMilliseconds(options.Value.OutboxSweepIntervalMs);
        var nextSweep = DateTime.UtcNow; // sweep at start: finish a crashed predecessor's work
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (DateTime.UtcNow >= nextSweep)
                {
                    await SweepAsync(stoppingToken);
                    nextSweep = DateTime.UtcNow + sweepEvery;
                }
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                wait.CancelAfter(nextSweep - DateTime.UtcNow is var d && d > TimeSpan.Zero ? d : TimeSpan.Zero);
                try
                {
                    var key = await _dirty.Reader.ReadAsync(wait.Token);
                    var batch = new HashSet<string> { key };
                    while (_dirty.Reader.TryRead(out var more)) batch.Add(more);
                    foreach (var k in batch) await DrainAsync(k, stoppingToken);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    // Sweep time.
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Outbox relay error; retrying");
                await Task.Delay(250, stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
            }
        }
    }

    private async Task SweepAsync(CancellationToken ct)
    {
        await foreach (var member in redis.SetScanAsync(RegistryKey, pageSize: 500).WithCancellation(ct))
            await DrainAsync(member!, ct);
    }

    /// <summary>
    /// What waits in the registered outboxes (every relay sweeps them all): entries, outboxes
    /// holding any, and the oldest entry's age from its stream id.
    /// </summary>
    public async Task<OutboxBacklog> ReadBacklogAsync(CancellationToken ct = default)
    {
        long backlog = 0, nonEmpty = 0;
        double oldestAge = 0;
        var nowMs = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        await foreach (var member in redis.SetScanAsync(RegistryKey, pageSize: 500).WithCancellation(ct))
        {
            var key = (string)member!;
            var length = await redis.StreamLengthAsync(key);
            if (length == 0) continue;
            backlog += length;
            nonEmpty++;
            var first = await redis.StreamRangeAsync(key, count: 1);
            if (first.Length == 1) oldestAge = Math.Max(oldestAge, ConsumerLagMonitor.StreamIdAgeSeconds(first[0].Id, nowMs));
        }
        return new OutboxBacklog(backlog, nonEmpty, oldestAge);
    }

    /// <summary>Relays every entry of one outbox; returns how many were published.</summary>
    public async Task<int> DrainAsync(string outboxKey, CancellationToken ct)
    {
        var lockKey = outboxKey + ":lock";
        var token = Guid.NewGuid().ToString("N");
        // The lock and the first page in one round trip; an empty outbox is not locked at all.
        var entries = await ClaimOutboxScript.Instance.RunAsync(redis, new(outboxKey, lockKey, token, LockFor, PageSize));
        if (entries is not { Length: > 0 }) return 0;
        var relayed = 0;
        var released = false;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                // A page is published at once (the Redis transport pipelines the XADDs in entry order), then
                // deleted: a failure or a crash before the delete publishes the whole page again, with the same event ids.
                var published = new Task[entries.Length];
                var events = Array.ConvertAll(entries, e => OutboxEntry.ToCloudEvent(outboxKey, e, options.Value.AppId, options.Value.PubSubName));
                for (var i = 0; i < entries.Length; i++)
                    published[i] = bus.PublishAsync(events[i], ct);
                await Task.WhenAll(published);
                // The entries leave the outbox only once the replicas hold them on the bus (a no-op unless
                // Redis:ReplicaAcks > 0): a failover must not lose both copies. The Redis transport's stream key is the topic.
                foreach (var topic in events.Select(e => e.Topic).Distinct(StringComparer.Ordinal))
                    await ReplicaAcknowledgement.ConfirmAsync(redis, topic);
                // Delete, next page and (once drained) the lock's release in one round trip: per drain three round trips
                // instead of six (perf: the relay's round trips were a large part of the CPU per RecordUsage call).
                var next = await NextOutboxPageScript.Instance.RunAsync(redis, new(outboxKey, lockKey, token, PageSize, Array.ConvertAll(entries, e => e.Id)));
                relayed += entries.Length;
                entries = next;
                if (entries.Length == 0)
                {
                    released = true;
                    break;
                }
            }
        }
        finally
        {
            if (!released) await CompareAndDelete.Instance.RunAsync(redis, new CompareAndDelete.Request(lockKey, token));
        }
        return relayed;
    }
}

/// <summary>Entries waiting in the outboxes, how many outboxes hold any, the oldest entry's age (seconds, 0 when none).</summary>
public sealed record OutboxBacklog(long Entries, long NonEmptyOutboxes, double OldestEntryAgeSeconds);
