using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.EventBus.Outbox;
using FaceId.Packages.Ledger;
using FaceId.Redis;
using Google.Protobuf.WellKnownTypes;
using StackExchange.Redis;

namespace FaceId.Refund.Application;

/// <summary>
/// The refund record as the scripts write it and <see cref="RefundStore"/> reads it
/// (<c>{acct:M}:ref:&lt;id&gt;</c>): its field names and state words, one source for both languages.
/// </summary>
public static class RefundRecordFormat
{
    public const string Id = "id", Package = "package", Label = "label", AmountFen = "amount_fen", State = "state",
        RequestedAt = "requested_at", CreditedAt = "credited_at", RejectedAt = "rejected_at", RejectionReason = "rejection_reason";

    /// <summary><c>F_*</c> (field names) and <c>STATE_*</c> (stored states) for the scripts.</summary>
    internal static readonly (string Name, object Value)[] Lua =
    [
        ("F_ID", Id), ("F_PACKAGE", Package), ("F_LABEL", Label), ("F_AMOUNT_FEN", AmountFen), ("F_STATE", State),
        ("F_REQUESTED_AT", RequestedAt), ("F_CREDITED_AT", CreditedAt), ("F_REJECTED_AT", RejectedAt), ("F_REJECTION_REASON", RejectionReason),
        ("STATE_APPROVED", RefundStates.ToStored(RefundState.Approved)), ("STATE_CREDITED", RefundStates.ToStored(RefundState.Credited)),
        ("STATE_REJECTED", RefundStates.ToStored(RefundState.Rejected)),
    ];
}

/// <summary>
/// The refusal reasons of R-REF-1 as <c>REASON_*</c> for lib-refund-rules.lua, the rule the freeze and the
/// eligibility preview share (both scripts get them in their preamble).
/// </summary>
public static class RefundReasons
{
    internal static readonly (string Name, object Value)[] Lua =
    [
        ("REASON_NOT_FOUND", RefundApplication.ReasonNotFound), ("REASON_FREE", RefundApplication.ReasonFree),
        ("REASON_ALREADY_REQUESTED", RefundApplication.ReasonAlreadyRequested), ("REASON_USED", RefundApplication.ReasonUsed),
        ("REASON_WINDOW_CLOSED", RefundApplication.ReasonWindowClosed),
    ];
}

/// <summary>What freeze-for-refund.lua decided: accepted (new or the key's earlier refund) or refused with a reason.</summary>
public sealed record FreezeResult(bool Accepted, bool Duplicate, string RefundId, string? RefusalReason);

/// <summary>freeze-for-refund.lua (R-REF-1, R-REF-2): accepts the refund and freezes its package in one step, or names the failed condition.</summary>
public sealed class FreezeForRefundScript() : ScriptContract<FreezeForRefundScript.Request, FreezeResult>(Loaded)
{
    private const string Frozen = "ok", Duplicate = "dup";

    /// <summary>The refusals the script can answer (the reasons of <see cref="RefundApplication"/>).</summary>
    private static readonly string[] Refusals =
    [
        RefundApplication.ReasonNotFound, RefundApplication.ReasonFree, RefundApplication.ReasonAlreadyRequested,
        RefundApplication.ReasonUsed, RefundApplication.ReasonWindowClosed,
    ];

    private static readonly RedisScript Loaded = RedisScript.FromResource(typeof(FreezeForRefundScript).Assembly, "freeze-for-refund.lua",
        PackageScriptLibrary.Preamble + LuaPreamble.Of(
        [
            .. RefundRecordFormat.Lua, ("ST_OK", Frozen), ("ST_DUP", Duplicate), .. RefundReasons.Lua,
        ]),
        PackageScriptLibrary.Assembly);

    public static readonly FreezeForRefundScript Instance = new();

    /// <param name="Deadline">The refund window's end, exclusive (<see cref="RefundLedger.RefundDeadline"/>).</param>
    public sealed record Request(
        string AccountId, string RefundId, string PackageId, string IdempotencyKey, DateTimeOffset Now, DateTimeOffset Deadline,
        RefundTransition Requested, RefundTransition Approved);

    public override ScriptCall Bind(Request r) => new(
        [RefundKeys.Refund(r.AccountId, r.RefundId), RefundKeys.Idempotency(r.AccountId, r.IdempotencyKey), RefundKeys.List(r.AccountId)],
        [
            RefundKeys.Tag(r.AccountId), r.RefundId, r.PackageId, r.Now.ToUnixTimeMilliseconds(), r.Deadline.ToUnixTimeMilliseconds(),
            RefundHistoryEntry.Json(r.Requested), RefundHistoryEntry.Json(r.Approved),
        ]);

    public override FreezeResult Parse(RedisResult reply)
    {
        var r = Array(reply);
        var (status, id) = ((string?)r[0] ?? "", (string)r[1]!);
        return status switch
        {
            Frozen => new FreezeResult(true, false, id, null),
            Duplicate => new FreezeResult(true, true, id, null),
            _ when Refusals.Contains(status) => new FreezeResult(false, false, id, status),
            _ => throw Unexpected($"status '{status}'"),
        };
    }
}

/// <summary>complete-refund.lua (R-REF-3): credits an approved refund once, with RefundCompleted in the account's outbox.</summary>
public sealed class CompleteRefundScript() : ScriptContract<CompleteRefundScript.Request, CompletionOutcome>(Loaded)
{
    private const string CreditedNow = "credited", Already = "already", Missing = "missing";

    private static readonly OutboxScript Loaded = OutboxScript.FromResource(typeof(CompleteRefundScript).Assembly, "complete-refund.lua",
        PackageScriptLibrary.Preamble + LuaPreamble.Of([.. RefundRecordFormat.Lua, ("RE_CREDITED", CreditedNow), ("RE_ALREADY", Already), ("RE_MISSING", Missing)]),
        PackageScriptLibrary.Assembly);

    public static readonly CompleteRefundScript Instance = new();

    /// <summary>The script's answers; any other refund state it echoes cannot be credited and is a fault.</summary>
    private static readonly Dictionary<string, CompletionOutcome> Outcomes = new()
    {
        [CreditedNow] = CompletionOutcome.Credited,
        [Already] = CompletionOutcome.AlreadyCredited,
        [Missing] = CompletionOutcome.Missing,
        [RefundStates.ToStored(RefundState.Rejected)] = CompletionOutcome.Rejected,
    };

    /// <param name="Note">The history note of the credit.</param>
    public sealed record Request(string AccountId, string RefundId, string PackageId, long AmountFen, DateTimeOffset Now, string Note);

    /// <summary>The event id of a refund's RefundCompleted: one per refund, whoever credits it.</summary>
    public static string EventId(string refundId) => "refund-completed:" + refundId;

    public override ScriptCall Bind(Request r)
    {
        var completed = new RefundCompleted
        {
            RefundId = r.RefundId, AccountId = r.AccountId, PackageId = r.PackageId, AmountFen = r.AmountFen, CompletedAt = Timestamp.FromDateTimeOffset(r.Now),
        };
        return new(
            [RefundKeys.Refund(r.AccountId, r.RefundId), RefundKeys.Outbox(r.AccountId)],
            [
                r.Now.ToUnixTimeMilliseconds(), RefundHistoryEntry.Json(new RefundTransition(RefundState.Credited, r.Now, r.Note)),
                EventTopics.RefundCompleted, RefundCompleted.Descriptor.FullName, EventJson.Format(completed), EventId(r.RefundId),
                RefundKeys.Tag(r.AccountId), r.PackageId,
            ]);
    }

    public override CompletionOutcome Parse(RedisResult reply) => Status(reply, Outcomes);
}

/// <summary>record-rejection.lua (R-REF-1): records a refusal under its idempotency key, with RefundRejected in the account's outbox.</summary>
public sealed class RecordRejectionScript() : ScriptContract<RecordRejectionScript.Request, string>(Loaded)
{
    private static readonly OutboxScript Loaded = OutboxScript.FromResource(typeof(RecordRejectionScript).Assembly, "record-rejection.lua",
        LuaPreamble.Of(RefundRecordFormat.Lua));

    public static readonly RecordRejectionScript Instance = new();

    public sealed record Request(
        string AccountId, string IdempotencyKey, string RefundId, PackageRecord Package, DateTimeOffset Now, string Reason,
        RefundTransition Requested, RefundTransition Rejected);

    /// <summary>The event id of a refusal's RefundRejected.</summary>
    public static string EventId(string refundId) => "refund-rejected:" + refundId;

    public override ScriptCall Bind(Request r)
    {
        var rejected = new RefundRejected
        {
            RefundId = r.RefundId, AccountId = r.AccountId, PackageId = r.Package.Id, Label = r.Package.Label, AmountFen = r.Package.PriceFen,
            Reason = r.Reason, RejectedAt = Timestamp.FromDateTimeOffset(r.Now),
        };
        return new(
            [RefundKeys.Idempotency(r.AccountId, r.IdempotencyKey), RefundKeys.Refund(r.AccountId, r.RefundId), RefundKeys.List(r.AccountId), RefundKeys.Outbox(r.AccountId)],
            [
                r.RefundId, r.Package.Id, r.Package.Label, r.Package.PriceFen, r.Now.ToUnixTimeMilliseconds(), r.Reason,
                RefundHistoryEntry.Json(r.Requested), RefundHistoryEntry.Json(r.Rejected),
                EventTopics.RefundRejected, RefundRejected.Descriptor.FullName, EventJson.Format(rejected), EventId(r.RefundId),
            ]);
    }

    /// <summary>The refund id the key stands for: the request's own when recorded now, else an earlier request's.</summary>
    public override string Parse(RedisResult reply) =>
        reply.Resp2Type == ResultType.BulkString && (string?)reply is { Length: > 0 } id ? id : throw Unexpected($"'{reply}'");
}
