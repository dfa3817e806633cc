using System.Text.Json;
using FaceId.Common;
using FaceId.Onboarding.Application.Notifications;
using FaceId.Redis;
using StackExchange.Redis;
using F = FaceId.Onboarding.Application.Webhooks.WebhookDeliveryRecordFormat;

namespace FaceId.Onboarding.Application.Webhooks;

/// <summary>
/// The words and numbers the webhook scripts share with <see cref="WebhookStore"/> and
/// <see cref="WebhooksApplication"/> (docs/redis-keys.md): one source, given to the scripts in the preamble.
/// </summary>
public static class WebhookWords
{
    /// <summary>A delivery's <c>state</c>.</summary>
    public const string Pending = "pending", Delivered = "delivered", Failed = "failed";

    /// <summary>An endpoint's <c>enabled</c> flag and <c>disabled_reason</c>.</summary>
    public const string Enabled = "1", Disabled = "0", DisabledFailing = "failing", DisabledByCustomer = "by_customer";

    /// <summary>How long an endpoint's idempotency key is kept.</summary>
    public static readonly TimeSpan IdempotencyRetention = TimeSpan.FromDays(400);

    public static readonly IReadOnlyDictionary<string, WebhookDeliveryState> DeliveryStates = new Dictionary<string, WebhookDeliveryState>
    {
        [Pending] = WebhookDeliveryState.Pending, [Delivered] = WebhookDeliveryState.Delivered, [Failed] = WebhookDeliveryState.Failed,
    };

    internal static readonly (string Name, object Value)[] Lua =
    [
        ("DL_PENDING", Pending), ("DL_DELIVERED", Delivered), ("DL_FAILED", Failed),
        ("EP_ENABLED", Enabled), ("EP_DISABLED", Disabled), ("EP_DISABLED_FAILING", DisabledFailing),
        ("IDEM_TTL_S", (long)IdempotencyRetention.TotalSeconds),
    ];

    /// <summary>A webhook script with its preamble: these words, the endpoint's and delivery's field names, and <paramref name="more"/>.</summary>
    internal static RedisScript Load(string name, params (string Name, object Value)[] more) =>
        RedisScript.FromResource(typeof(WebhookWords).Assembly, name,
            LuaPreamble.Of([.. Lua, .. WebhookDeliveryRecordFormat.Lua, .. WebhookEndpointRecordFormat.Lua, .. more]));
}

/// <summary>
/// The field names of a webhook endpoint hash (docs/redis-keys.md): one source for <see cref="WebhookStore"/>
/// and the scripts (<c>F_EP_*</c> in their preamble).
/// </summary>
public static class WebhookEndpointRecordFormat
{
    public const string Url = "url", Events = "events", Description = "description", Enabled = "enabled", DisabledReason = "disabled_reason",
        CreatedAt = "created_at", UpdatedAt = "updated_at", Secret = "secret", PreviousSecret = "previous_secret",
        PreviousUntil = "previous_until", Failures = "failures";

    internal static readonly (string Name, object Value)[] Lua =
    [
        ("F_EP_ENABLED", Enabled), ("F_EP_DISABLED_REASON", DisabledReason), ("F_EP_UPDATED_AT", UpdatedAt), ("F_EP_FAILURES", Failures),
    ];
}

/// <summary>
/// The field names of a webhook delivery hash (docs/redis-keys.md): one source for <see cref="WebhookStore"/>,
/// <see cref="WebhookEnqueueScript"/> and the scripts (<c>F_DL_*</c> in their preamble).
/// </summary>
public static class WebhookDeliveryRecordFormat
{
    public const string Endpoint = "endpoint", EventId = "event_id", Type = "type", Payload = "payload", State = "state",
        CreatedAt = "created_at", NextAt = "next_at", Attempts = "attempts", RoundStart = "round_start",
        TraceParent = "traceparent", TraceState = "tracestate", Redeliveries = "redeliveries";

    internal static readonly (string Name, object Value)[] Lua =
    [
        ("F_DL_ENDPOINT", Endpoint), ("F_DL_STATE", State), ("F_DL_NEXT_AT", NextAt), ("F_DL_ATTEMPTS", Attempts), ("F_DL_ROUND_START", RoundStart),
        ("F_DL_REDELIVERIES", Redeliveries),
    ];
}

public enum EndpointCreateOutcome { Created, Replayed, Limit }

/// <param name="EndpointId">The endpoint created now or by the key's first request; "" over the limit.</param>
/// <param name="Fingerprint">The fingerprint of the key's first request ("" over the limit or for a key kept before fingerprints were).</param>
public sealed record EndpointCreateResult(EndpointCreateOutcome Outcome, string EndpointId, string Fingerprint);

/// <summary>webhook-create.lua: creates an endpoint once per idempotency key, within the account's limit.</summary>
public sealed class WebhookCreateScript() : ScriptContract<WebhookCreateScript.Request, EndpointCreateResult>(Loaded)
{
    private static readonly Dictionary<string, EndpointCreateOutcome> Outcomes = new()
    {
        ["created"] = EndpointCreateOutcome.Created, ["replayed"] = EndpointCreateOutcome.Replayed, ["limit"] = EndpointCreateOutcome.Limit,
    };

    private static readonly RedisScript Loaded = WebhookWords.Load("webhook-create.lua", [.. ReplyWords.Lua(Outcomes)]);

    public static readonly WebhookCreateScript Instance = new();

    /// <param name="Fingerprint">The request's meaningful fields (<see cref="IdempotentRequest.Fingerprint"/>), kept with the key.</param>
    public sealed record Request(string IdempotencyKey, WebhookEndpointRecord Endpoint, int MaxEndpoints, string Fingerprint);

    public override ScriptCall Bind(Request r)
    {
        var (main, e) = (r.Endpoint.AccountId, r.Endpoint);
        return new(
            [WebhookStore.IdempotencyKey(main, r.IdempotencyKey), WebhookStore.EndpointKey(main, e.Id), WebhookStore.EndpointsKey(main)],
            [
                e.Id, e.CreatedAt.ToUnixTimeMilliseconds(), r.MaxEndpoints, IdempotentRequest.Keep(e.Id, r.Fingerprint),
                .. WebhookStore.Fields(e).SelectMany(f => new RedisValue[] { f.Name, f.Value }),
            ]);
    }

    public override EndpointCreateResult Parse(RedisResult reply)
    {
        var r = Array(reply);
        var (id, fingerprint) = IdempotentRequest.Kept((string)r[1]!);
        return new EndpointCreateResult(Status(r[0], Outcomes), id, fingerprint);
    }
}

/// <summary>webhook-enqueue.lua: records one delivery once per delivery id, with its place in the endpoint's log.</summary>
public sealed class WebhookEnqueueScript() : ScriptContract<WebhookEnqueueScript.Request, bool>(Loaded)
{
    private static readonly RedisScript Loaded = WebhookWords.Load("webhook-enqueue.lua");

    public static readonly WebhookEnqueueScript Instance = new();

    /// <param name="LogLength">How many deliveries the endpoint's log keeps.</param>
    public sealed record Request(WebhookDeliveryRecord Delivery, TimeSpan Retention, int LogLength);

    public override ScriptCall Bind(Request r)
    {
        var (d, created) = (r.Delivery, r.Delivery.CreatedAt.ToUnixTimeMilliseconds());
        return new(
            [WebhookStore.DeliveryKey(d.AccountId, d.Id), WebhookStore.LogKey(d.AccountId, d.EndpointId)],
            [
                d.Id, created, (long)r.Retention.TotalSeconds, r.LogLength,
                F.Endpoint, d.EndpointId, F.EventId, d.EventId, F.Type, d.EventType, F.Payload, d.Payload, F.State, WebhookWords.Pending,
                F.CreatedAt, created, F.NextAt, created, F.Attempts, 0, F.RoundStart, 0,
                F.TraceParent, d.TraceParent, F.TraceState, d.TraceState,
            ]);
    }

    /// <summary>True when recorded now, false when the delivery existed.</summary>
    public override bool Parse(RedisResult reply) => (long)reply switch { 1 => true, 0 => false, var n => throw Unexpected($"{n}") };
}

/// <summary>webhook-redeliver.lua: puts a delivery of this endpoint back to pending with a fresh retry round.</summary>
public sealed class WebhookRedeliverScript() : ScriptContract<WebhookRedeliverScript.Request, bool>(Loaded)
{
    private static readonly RedisScript Loaded = WebhookWords.Load("webhook-redeliver.lua");

    public static readonly WebhookRedeliverScript Instance = new();

    public sealed record Request(string Main, string EndpointId, string DeliveryId, DateTimeOffset Now);

    public override ScriptCall Bind(Request r) =>
        new([WebhookStore.DeliveryKey(r.Main, r.DeliveryId)], [r.EndpointId, r.Now.ToUnixTimeMilliseconds()]);

    /// <summary>False when there is no such delivery of this endpoint.</summary>
    public override bool Parse(RedisResult reply) => (long)reply switch { 1 => true, 0 => false, var n => throw Unexpected($"{n}") };
}

/// <summary>webhook-release-due.lua: removes a claimed due entry only while it still has the claim's score.</summary>
public sealed class WebhookReleaseDueScript() : ScriptContract<WebhookReleaseDueScript.Request, bool>(Loaded)
{
    private static readonly RedisScript Loaded = WebhookWords.Load("webhook-release-due.lua");

    public static readonly WebhookReleaseDueScript Instance = new();

    /// <param name="ClaimedUntil">The claim's lease end: the score the claim gave the member.</param>
    public sealed record Request(string Member, DateTimeOffset ClaimedUntil);

    public override ScriptCall Bind(Request r) => new([WebhookStore.DueKey], [r.Member, r.ClaimedUntil.ToUnixTimeMilliseconds()]);

    /// <summary>True when removed; false when gone or rescheduled since the claim.</summary>
    public override bool Parse(RedisResult reply) => (long)reply switch { 1 => true, 0 => false, var n => throw Unexpected($"{n}") };
}

/// <summary>webhook-record-attempt.lua: one attempt and its consequences (delivery state, endpoint failures, disabling with its notice).</summary>
public sealed class WebhookRecordAttemptScript() : ScriptContract<WebhookRecordAttemptScript.Request, WebhookRecordAttemptScript.Result>(Loaded)
{
    private static readonly Dictionary<string, WebhookStore.AttemptOutcome> Outcomes = new()
    {
        ["delivered"] = WebhookStore.AttemptOutcome.Delivered, ["retry"] = WebhookStore.AttemptOutcome.Retry,
        ["failed"] = WebhookStore.AttemptOutcome.Failed, ["redelivered"] = WebhookStore.AttemptOutcome.Redelivered,
        ["stale"] = WebhookStore.AttemptOutcome.Stale,
    };

    private static readonly RedisScript Loaded = WebhookWords.Load("webhook-record-attempt.lua", [.. ReplyWords.Lua(Outcomes), ScriptFlag.Lua]);

    public static readonly WebhookRecordAttemptScript Instance = new();

    /// <param name="Delivery">
    /// The delivery as the claimant read it: its attempts detect a stale claim, its redeliveries one asked for while this attempt was in flight.
    /// </param>
    /// <param name="NextAt">The next attempt's time; null when the schedule is used up.</param>
    /// <param name="DisabledNotice">The inbox notice if this attempt disables the endpoint.</param>
    public sealed record Request(
        WebhookDeliveryRecord Delivery, WebhookAttemptRecord Attempt, bool Success, DateTimeOffset? NextAt, DateTimeOffset Now,
        int FailureThreshold, Notice DisabledNotice, TimeSpan Retention);

    public sealed record Result(WebhookStore.AttemptOutcome Outcome, bool EndpointDisabled);

    public override ScriptCall Bind(Request r)
    {
        var d = r.Delivery;
        return new(
            [
                WebhookStore.DeliveryKey(d.AccountId, d.Id), WebhookStore.AttemptsKey(d.AccountId, d.Id), WebhookStore.EndpointKey(d.AccountId, d.EndpointId),
                NotificationStore.InboxKey(d.AccountId), NotificationStore.UnreadKey(d.AccountId), NotificationStore.MessagesKey(d.AccountId),
            ],
            [
                d.Attempts, JsonSerializer.Serialize(r.Attempt), ScriptFlag.Of(r.Success), r.NextAt?.ToUnixTimeMilliseconds().ToString() ?? "",
                r.FailureThreshold, r.Now.ToUnixTimeMilliseconds(), NotificationStore.MessageIdFor(r.DisabledNotice.EventId),
                NotificationStore.MessageJson(r.DisabledNotice, r.Now), (long)r.Retention.TotalSeconds, d.Redeliveries,
            ]);
    }

    public override Result Parse(RedisResult reply)
    {
        var r = Array(reply);
        return new Result(Status(r[0], Outcomes), (long)r[1] switch { 1 => true, 0 => false, var n => throw Unexpected($"disabled flag {n}") });
    }
}
