using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FaceId.Onboarding.Application.Notifications;
using FaceId.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Dl = FaceId.Onboarding.Application.Webhooks.WebhookDeliveryRecordFormat;
using Ep = FaceId.Onboarding.Application.Webhooks.WebhookEndpointRecordFormat;

namespace FaceId.Onboarding.Application.Webhooks;

public sealed record WebhookEndpointRecord(
    string Id, string AccountId, string Url, IReadOnlyList<string> EventTypes, string Description, bool Enabled, string DisabledReason,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string Secret, string PreviousSecret, DateTimeOffset? PreviousSecretUntil, int Failures)
{
    /// <summary>The secrets that sign now: the current one, and the previous one during its grace.</summary>
    public IReadOnlyList<string> SigningSecrets(DateTimeOffset now) =>
        PreviousSecret.Length > 0 && PreviousSecretUntil > now ? [Secret, PreviousSecret] : [Secret];

    public bool Wants(string eventType) => EventTypes.Contains(eventType);
}

public sealed record WebhookAttemptRecord(long AtMs, int StatusCode, long LatencyMs, string Error);

public enum WebhookDeliveryState { Pending, Delivered, Failed }

public sealed record WebhookDeliveryRecord(
    string Id, string AccountId, string EndpointId, string EventId, string EventType, string Payload, WebhookDeliveryState State,
    DateTimeOffset CreatedAt, DateTimeOffset? NextAttemptAt, int Attempts, int RoundStart, string TraceParent, string TraceState,
    IReadOnlyList<WebhookAttemptRecord> Log)
{
    /// <summary>Attempts made in the current round (a manual redelivery starts a new round).</summary>
    public int AttemptsThisRound => Attempts - RoundStart;

    /// <summary>Manual redeliveries asked for so far: the worker's record of an attempt compares it to tell one asked for meanwhile.</summary>
    public int Redeliveries { get; init; }
}

/// <summary>
/// Webhook endpoints and deliveries in the main account's slot, and the global due index
/// <c>wh:due</c> (docs/redis-keys.md). Endpoint and delivery changes are Lua scripts; the due index
/// is a pointer written after the data it points at (again on an event's redelivery) and dropped by
/// the worker when the data is gone.
/// </summary>
public sealed class WebhookStore(IDatabase redis, IOptions<WebhookOptions> options)
{
    public const string DueKey = "wh:due";
    public const int LogLength = 1_000;

    public static string EndpointKey(string main, string id) => RedisKeys.ForAccount(main, $"wh:ep:{id}");
    public static string EndpointsKey(string main) => RedisKeys.ForAccount(main, "wh:eps");
    public static string IdempotencyKey(string main, string key) => RedisKeys.ForAccount(main, $"wh:idem:{key}");
    public static string DeliveryKey(string main, string id) => RedisKeys.ForAccount(main, $"wh:dl:{id}");
    public static string AttemptsKey(string main, string id) => RedisKeys.ForAccount(main, $"wh:dl:{id}:attempts");
    public static string LogKey(string main, string endpointId) => RedisKeys.ForAccount(main, $"wh:log:{endpointId}");

    private TimeSpan Retention => TimeSpan.FromDays(options.Value.DeliveryRetentionDays);

    /// <summary>The webhook-id of an event's delivery to an endpoint: the same for every attempt and redelivery.</summary>
    public static string DeliveryId(string eventId, string eventType, string endpointId) =>
        "msg_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(eventId + "\n" + eventType + "\n" + endpointId)))[..26];

    public static string DueMember(string main, string deliveryId) => main + "|" + deliveryId;

    // ---- endpoints

    /// <summary>
    /// Creates the endpoint unless the key was used before; returns the endpoint id, whether it is new and the fingerprint
    /// of the key's first request, or null over the limit.
    /// </summary>
    public async Task<(string Id, bool Created, string Fingerprint)?> CreateEndpointAsync(string main, string idempotencyKey, WebhookEndpointRecord e, string fingerprint)
    {
        var r = await WebhookCreateScript.Instance.RunAsync(redis, new(idempotencyKey, e with { AccountId = main }, options.Value.MaxEndpointsPerAccount, fingerprint));
        return r.Outcome switch
        {
            EndpointCreateOutcome.Limit => null,
            EndpointCreateOutcome.Created or EndpointCreateOutcome.Replayed => (r.EndpointId, r.Outcome == EndpointCreateOutcome.Created, r.Fingerprint),
            var other => throw new InvalidOperationException($"unknown endpoint create outcome '{other}'"),
        };
    }

    public async Task<WebhookEndpointRecord?> GetEndpointAsync(string main, string id)
    {
        var h = await redis.HashGetAllAsync(EndpointKey(main, id));
        return h.Length == 0 ? null : ToEndpoint(main, id, h.ToDictionary(x => (string)x.Name!, x => (string)x.Value!));
    }

    public async Task<IReadOnlyList<WebhookEndpointRecord>> ListEndpointsAsync(string main)
    {
        var ids = await redis.SortedSetRangeByRankAsync(EndpointsKey(main));
        var list = new List<WebhookEndpointRecord>();
        foreach (var id in ids)
            if (await GetEndpointAsync(main, id!) is { } e) list.Add(e);
        return list;
    }

    /// <summary>Writes the given fields of an existing endpoint; false when it does not exist (any more).</summary>
    public async Task<bool> UpdateEndpointAsync(string main, string id, params (string Name, RedisValue Value)[] fields)
    {
        var tran = redis.CreateTransaction();
        tran.AddCondition(Condition.KeyExists(EndpointKey(main, id)));
        _ = tran.HashSetAsync(EndpointKey(main, id), fields.Select(f => new HashEntry(f.Name, f.Value)).ToArray());
        return await tran.ExecuteAsync();
    }

    public async Task<bool> DeleteEndpointAsync(string main, string id)
    {
        var tran = redis.CreateTransaction();
        var removed = tran.SortedSetRemoveAsync(EndpointsKey(main), id);
        _ = tran.KeyDeleteAsync(EndpointKey(main, id));
        _ = tran.KeyDeleteAsync(LogKey(main, id));
        await tran.ExecuteAsync();
        return await removed;
    }

    internal static IEnumerable<(string Name, string Value)> Fields(WebhookEndpointRecord e) =>
    [
        (Ep.Url, e.Url), (Ep.Events, string.Join(',', e.EventTypes)), (Ep.Description, e.Description),
        (Ep.Enabled, e.Enabled ? WebhookWords.Enabled : WebhookWords.Disabled), (Ep.DisabledReason, e.DisabledReason),
        (Ep.CreatedAt, e.CreatedAt.ToUnixTimeMilliseconds().ToString()), (Ep.UpdatedAt, e.UpdatedAt.ToUnixTimeMilliseconds().ToString()),
        (Ep.Secret, e.Secret), (Ep.PreviousSecret, e.PreviousSecret),
        (Ep.PreviousUntil, e.PreviousSecretUntil?.ToUnixTimeMilliseconds().ToString() ?? ""), (Ep.Failures, e.Failures.ToString()),
    ];

    private static WebhookEndpointRecord ToEndpoint(string main, string id, Dictionary<string, string> h)
    {
        string F(string k) => h.GetValueOrDefault(k, "");
        static DateTimeOffset Ms(string s) => DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(s));
        return new WebhookEndpointRecord(id, main, F(Ep.Url), F(Ep.Events).Split(',', StringSplitOptions.RemoveEmptyEntries), F(Ep.Description),
            F(Ep.Enabled) == WebhookWords.Enabled, F(Ep.DisabledReason), Ms(F(Ep.CreatedAt)), Ms(F(Ep.UpdatedAt)), F(Ep.Secret), F(Ep.PreviousSecret),
            F(Ep.PreviousUntil) is { Length: > 0 } u ? Ms(u) : null, int.TryParse(F(Ep.Failures), out var n) ? n : 0);
    }

    // ---- deliveries

    /// <summary>
    /// Records a delivery (once per id), then makes it due now. The pointer goes second: written first, the
    /// worker could claim it before the delivery existed, drop it as gone, and strand the delivery pending.
    /// A crash between the two leaves the event unacknowledged; its redelivery finds the delivery recorded
    /// and adds the pointer then (NX: a pointer already there, claimed or scheduled for a retry, is kept).
    /// </summary>
    public async Task<bool> EnqueueAsync(WebhookDeliveryRecord d)
    {
        var recorded = await WebhookEnqueueScript.Instance.RunAsync(redis, new(d, Retention, LogLength));
        await redis.SortedSetAddAsync(DueKey, DueMember(d.AccountId, d.Id), d.CreatedAt.ToUnixTimeMilliseconds(), SortedSetWhen.NotExists);
        return recorded;
    }

    public async Task<WebhookDeliveryRecord?> GetDeliveryAsync(string main, string id)
    {
        var h = await redis.HashGetAllAsync(DeliveryKey(main, id));
        if (h.Length == 0) return null;
        var f = h.ToDictionary(x => (string)x.Name!, x => (string)x.Value!);
        string F(string k) => f.GetValueOrDefault(k, "");
        var log = (await redis.ListRangeAsync(AttemptsKey(main, id))).Select(j => JsonSerializer.Deserialize<WebhookAttemptRecord>((string)j!)!).ToList();
        return new WebhookDeliveryRecord(id, main, F(Dl.Endpoint), F(Dl.EventId), F(Dl.Type), F(Dl.Payload),
            WebhookWords.DeliveryStates.TryGetValue(F(Dl.State), out var state) ? state
                : throw new InvalidOperationException($"unknown stored state '{F(Dl.State)}' of webhook delivery {id}"),
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(F(Dl.CreatedAt))),
            F(Dl.NextAt) is { Length: > 0 } n ? DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(n)) : null,
            int.Parse(F(Dl.Attempts)), int.TryParse(F(Dl.RoundStart), out var rs) ? rs : 0, F(Dl.TraceParent), F(Dl.TraceState), log)
        {
            Redeliveries = int.TryParse(F(Dl.Redeliveries), out var rd) ? rd : 0,
        };
    }

    /// <summary>A page of an endpoint's deliveries, newest first.</summary>
    public async Task<(IReadOnlyList<WebhookDeliveryRecord> Page, long Total)> ListDeliveriesAsync(string main, string endpointId, int offset, int count)
    {
        var ids = await redis.SortedSetRangeByRankAsync(LogKey(main, endpointId), offset, offset + count - 1, Order.Descending);
        var total = await redis.SortedSetLengthAsync(LogKey(main, endpointId));
        var page = new List<WebhookDeliveryRecord>();
        foreach (var id in ids)
            if (await GetDeliveryAsync(main, id!) is { } d) page.Add(d);
        return (page, total);
    }

    /// <summary>Pending deliveries of an endpoint (the newest <see cref="LogLength"/>), made due now: enabling an endpoint resumes them.</summary>
    public async Task ResumePendingAsync(string main, string endpointId, DateTimeOffset now)
    {
        foreach (var id in await redis.SortedSetRangeByRankAsync(LogKey(main, endpointId)))
            if (await redis.HashGetAsync(DeliveryKey(main, id!), Dl.State) == WebhookWords.Pending)
                await redis.SortedSetAddAsync(DueKey, DueMember(main, id!), now.ToUnixTimeMilliseconds());
    }

    /// <summary>Makes a delivery of this endpoint pending and due now; false when there is none.</summary>
    public async Task<bool> RedeliverAsync(string main, string endpointId, string deliveryId, DateTimeOffset now)
    {
        if (await redis.HashGetAsync(DeliveryKey(main, deliveryId), Dl.Endpoint) != endpointId) return false;
        await redis.SortedSetAddAsync(DueKey, DueMember(main, deliveryId), now.ToUnixTimeMilliseconds());
        return await WebhookRedeliverScript.Instance.RunAsync(redis, new(main, endpointId, deliveryId, now));
    }

    // ---- the worker's side

    /// <summary>Claims due deliveries until the lease's end (FaceId.Redis's claim-due.lua): each with the score its claim gave it.</summary>
    public async Task<IReadOnlyList<(string Member, DateTimeOffset ClaimedUntil)>> ClaimDueAsync(DateTimeOffset now)
    {
        var until = now.AddMilliseconds(options.Value.ClaimLeaseMs);
        var claimed = await ClaimDue.Instance.RunAsync(redis, new(DueKey, now, until, options.Value.ClaimBatchSize));
        return claimed.Select(m => (m, until)).ToList();
    }

    public Task ReleaseDueAsync(string member, DateTimeOffset claimedUntil) =>
        WebhookReleaseDueScript.Instance.RunAsync(redis, new(member, claimedUntil));

    public Task RescheduleAsync(string member, DateTimeOffset at) => redis.SortedSetAddAsync(DueKey, member, at.ToUnixTimeMilliseconds());

    /// <summary>
    /// What recording an attempt did; <see cref="AttemptOutcome.Redelivered"/>: a redelivery was asked for while the
    /// attempt was in flight, so the delivery stays pending and due for the attempt the redelivery asked for.
    /// </summary>
    public enum AttemptOutcome { Delivered, Retry, Failed, Redelivered, Stale }

    /// <summary>Records an attempt (see webhook-record-attempt.lua); <paramref name="disabledNotice"/> goes to the inbox if this attempt disables the endpoint.</summary>
    public async Task<(AttemptOutcome Outcome, bool EndpointDisabled)> RecordAttemptAsync(
        WebhookDeliveryRecord d, WebhookAttemptRecord attempt, bool success, DateTimeOffset? nextAt, DateTimeOffset now, Notice disabledNotice)
    {
        var r = await WebhookRecordAttemptScript.Instance.RunAsync(redis,
            new(d, attempt, success, nextAt, now, options.Value.DisableAfterConsecutiveFailures, disabledNotice, Retention));
        return (r.Outcome, r.EndpointDisabled);
    }
}
