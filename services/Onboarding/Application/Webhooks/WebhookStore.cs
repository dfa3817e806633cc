using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FaceId.Onboarding.Application.Notifications;
using FaceId.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

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
}

/// <summary>
/// Webhook endpoints and deliveries in the main account's slot, and the global due index
/// <c>wh:due</c> (docs/redis-keys.md). Endpoint and delivery changes are Lua scripts; the due index
/// is a pointer written before the data it points at and dropped by the worker when the data is gone.
/// </summary>
public sealed class WebhookStore(IDatabase redis, IOptions<WebhookOptions> options)
{
    public const string DueKey = "wh:due";
    public const int LogLength = 1_000;

    private static readonly RedisScript CreateScript = Script("webhook-create.lua");
    private static readonly RedisScript EnqueueScript = Script("webhook-enqueue.lua");
    private static readonly RedisScript ClaimScript = Script("webhook-claim-due.lua");
    private static readonly RedisScript ReleaseScript = Script("webhook-release-due.lua");
    private static readonly RedisScript RecordScript = Script("webhook-record-attempt.lua");
    private static readonly RedisScript RedeliverScript = Script("webhook-redeliver.lua");

    private static RedisScript Script(string name) => RedisScript.FromResource(typeof(WebhookStore).Assembly, name);

    private static string EndpointKey(string main, string id) => RedisKeys.ForAccount(main, $"wh:ep:{id}");
    private static string EndpointsKey(string main) => RedisKeys.ForAccount(main, "wh:eps");
    private static string IdempotencyKey(string main, string key) => RedisKeys.ForAccount(main, $"wh:idem:{key}");
    private static string DeliveryKey(string main, string id) => RedisKeys.ForAccount(main, $"wh:dl:{id}");
    private static string AttemptsKey(string main, string id) => RedisKeys.ForAccount(main, $"wh:dl:{id}:attempts");
    private static string LogKey(string main, string endpointId) => RedisKeys.ForAccount(main, $"wh:log:{endpointId}");

    private long RetentionSeconds => (long)TimeSpan.FromDays(options.Value.DeliveryRetentionDays).TotalSeconds;

    /// <summary>The webhook-id of an event's delivery to an endpoint: the same for every attempt and redelivery.</summary>
    public static string DeliveryId(string eventId, string eventType, string endpointId) =>
        "msg_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(eventId + "\n" + eventType + "\n" + endpointId)))[..26];

    public static string DueMember(string main, string deliveryId) => main + "|" + deliveryId;

    // ---- endpoints

    /// <summary>Creates the endpoint unless the key was used before; returns the endpoint id and whether it is new, or null over the limit.</summary>
    public async Task<(string Id, bool Created)?> CreateEndpointAsync(string main, string idempotencyKey, WebhookEndpointRecord e)
    {
        var r = (RedisResult[])(await CreateScript.RunAsync(redis,
            [IdempotencyKey(main, idempotencyKey), EndpointKey(main, e.Id), EndpointsKey(main)],
            [e.Id, e.CreatedAt.ToUnixTimeMilliseconds(), options.Value.MaxEndpointsPerAccount, .. Fields(e).SelectMany(f => new[] { f.Name, f.Value })]))!;
        return (string)r[0]! switch
        {
            "limit" => null,
            var outcome => ((string)r[1]!, outcome == "created"),
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

    private static IEnumerable<(string Name, string Value)> Fields(WebhookEndpointRecord e) =>
    [
        ("url", e.Url), ("events", string.Join(',', e.EventTypes)), ("description", e.Description),
        ("enabled", e.Enabled ? "1" : "0"), ("disabled_reason", e.DisabledReason),
        ("created_at", e.CreatedAt.ToUnixTimeMilliseconds().ToString()), ("updated_at", e.UpdatedAt.ToUnixTimeMilliseconds().ToString()),
        ("secret", e.Secret), ("previous_secret", e.PreviousSecret),
        ("previous_until", e.PreviousSecretUntil?.ToUnixTimeMilliseconds().ToString() ?? ""), ("failures", e.Failures.ToString()),
    ];

    private static WebhookEndpointRecord ToEndpoint(string main, string id, Dictionary<string, string> h)
    {
        string F(string k) => h.GetValueOrDefault(k, "");
        static DateTimeOffset Ms(string s) => DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(s));
        return new WebhookEndpointRecord(id, main, F("url"), F("events").Split(',', StringSplitOptions.RemoveEmptyEntries), F("description"),
            F("enabled") == "1", F("disabled_reason"), Ms(F("created_at")), Ms(F("updated_at")), F("secret"), F("previous_secret"),
            F("previous_until") is { Length: > 0 } u ? Ms(u) : null, int.TryParse(F("failures"), out var n) ? n : 0);
    }

    // ---- deliveries

    /// <summary>Records a delivery (once per id) and makes it due now; the due pointer goes first.</summary>
    public async Task<bool> EnqueueAsync(WebhookDeliveryRecord d)
    {
        await redis.SortedSetAddAsync(DueKey, DueMember(d.AccountId, d.Id), d.CreatedAt.ToUnixTimeMilliseconds(), SortedSetWhen.NotExists);
        var r = await EnqueueScript.RunAsync(redis, [DeliveryKey(d.AccountId, d.Id), LogKey(d.AccountId, d.EndpointId)],
        [
            d.Id, d.CreatedAt.ToUnixTimeMilliseconds(), RetentionSeconds, LogLength,
            "endpoint", d.EndpointId, "event_id", d.EventId, "type", d.EventType, "payload", d.Payload, "state", "pending",
            "created_at", d.CreatedAt.ToUnixTimeMilliseconds(), "next_at", d.CreatedAt.ToUnixTimeMilliseconds(), "attempts", 0, "round_start", 0,
            "traceparent", d.TraceParent, "tracestate", d.TraceState,
        ]);
        return (long)r == 1;
    }

    public async Task<WebhookDeliveryRecord?> GetDeliveryAsync(string main, string id)
    {
        var h = await redis.HashGetAllAsync(DeliveryKey(main, id));
        if (h.Length == 0) return null;
        var f = h.ToDictionary(x => (string)x.Name!, x => (string)x.Value!);
        string F(string k) => f.GetValueOrDefault(k, "");
        var log = (await redis.ListRangeAsync(AttemptsKey(main, id))).Select(j => JsonSerializer.Deserialize<WebhookAttemptRecord>((string)j!)!).ToList();
        return new WebhookDeliveryRecord(id, main, F("endpoint"), F("event_id"), F("type"), F("payload"),
            F("state") switch { "delivered" => WebhookDeliveryState.Delivered, "failed" => WebhookDeliveryState.Failed, _ => WebhookDeliveryState.Pending },
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(F("created_at"))),
            F("next_at") is { Length: > 0 } n ? DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(n)) : null,
            int.Parse(F("attempts")), int.TryParse(F("round_start"), out var rs) ? rs : 0, F("traceparent"), F("tracestate"), log);
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
            if (await redis.HashGetAsync(DeliveryKey(main, id!), "state") == "pending")
                await redis.SortedSetAddAsync(DueKey, DueMember(main, id!), now.ToUnixTimeMilliseconds());
    }

    /// <summary>Makes a delivery of this endpoint pending and due now; false when there is none.</summary>
    public async Task<bool> RedeliverAsync(string main, string endpointId, string deliveryId, DateTimeOffset now)
    {
        if (await redis.HashGetAsync(DeliveryKey(main, deliveryId), "endpoint") != endpointId) return false;
        await redis.SortedSetAddAsync(DueKey, DueMember(main, deliveryId), now.ToUnixTimeMilliseconds());
        return (long)await RedeliverScript.RunAsync(redis, [DeliveryKey(main, deliveryId)], [endpointId, now.ToUnixTimeMilliseconds()]) == 1;
    }

    // ---- the worker's side

    public async Task<IReadOnlyList<(string Member, long ClaimScore)>> ClaimDueAsync(DateTimeOffset now)
    {
        var r = (RedisResult[])(await ClaimScript.RunAsync(redis, [DueKey],
            [now.ToUnixTimeMilliseconds(), options.Value.ClaimLeaseMs, options.Value.ClaimBatchSize]))!;
        var claimed = new List<(string, long)>();
        for (var i = 0; i + 1 < r.Length; i += 2) claimed.Add(((string)r[i]!, (long)r[i + 1]));
        return claimed;
    }

    public Task ReleaseDueAsync(string member, long claimScore) => ReleaseScript.RunAsync(redis, [DueKey], [member, claimScore]);

    public Task RescheduleAsync(string member, DateTimeOffset at) => redis.SortedSetAddAsync(DueKey, member, at.ToUnixTimeMilliseconds());

    public enum AttemptOutcome { Delivered, Retry, Failed, Stale }

    /// <summary>Records an attempt (see webhook-record-attempt.lua); <paramref name="disabledNotice"/> goes to the inbox if this attempt disables the endpoint.</summary>
    public async Task<(AttemptOutcome Outcome, bool EndpointDisabled)> RecordAttemptAsync(
        WebhookDeliveryRecord d, WebhookAttemptRecord attempt, bool success, DateTimeOffset? nextAt, DateTimeOffset now,
        string noticeMessageId, string noticeJson)
    {
        var r = (RedisResult[])(await RecordScript.RunAsync(redis,
            [
                DeliveryKey(d.AccountId, d.Id), AttemptsKey(d.AccountId, d.Id), EndpointKey(d.AccountId, d.EndpointId),
                NotificationStore.InboxKey(d.AccountId), NotificationStore.UnreadKey(d.AccountId), NotificationStore.MessagesKey(d.AccountId),
            ],
            [
                d.Attempts, JsonSerializer.Serialize(attempt), success ? 1 : 0, nextAt?.ToUnixTimeMilliseconds().ToString() ?? "",
                options.Value.DisableAfterConsecutiveFailures, now.ToUnixTimeMilliseconds(), noticeMessageId, noticeJson, RetentionSeconds,
            ]))!;
        var outcome = (string)r[0]! switch
        {
            "delivered" => AttemptOutcome.Delivered,
            "retry" => AttemptOutcome.Retry,
            "failed" => AttemptOutcome.Failed,
            "stale" => AttemptOutcome.Stale,
            var other => throw new InvalidOperationException($"webhook-record-attempt.lua answered '{other}'"),
        };
        return (outcome, (long)r[1] == 1);
    }
}
