using FaceId.Billing.Domain;
using FaceId.Common;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus.Outbox;
using FaceId.Redis;
using StackExchange.Redis;
using static FaceId.Billing.Infrastructure.Scripts.BillingScriptReplies;

namespace FaceId.Billing.Infrastructure.Scripts;

/// <summary>activate.lua: records an account's activation (date, price book, cycle) once (R-ONB-2).</summary>
public sealed class ActivateScript() : ScriptContract<ActivateScript.Request, bool>(Loaded)
{
    private static readonly RedisScript Loaded =
        RedisScript.FromResource(typeof(ActivateScript).Assembly, "activate.lua", BillingFormats.Preamble());

    public static readonly ActivateScript Instance = new();

    public sealed record Request(string AccountId, DateTimeOffset ActivatedAt, string PriceBook, Settlement Cycle);

    public override ScriptCall Bind(Request r) => new(
        [BillingKeys.Account(r.AccountId)],
        [r.ActivatedAt.ToUnixTimeMilliseconds(), r.PriceBook, BillingFormats.Account.CycleName(r.Cycle)]);

    /// <summary>True the first time, false when the account was known.</summary>
    public override bool Parse(RedisResult reply) => OneOrZero(Script, reply);
}

/// <summary>add-prepaid.lua: a bought package as a prepaid charge for the next bill, once per package id (R-BIL-2).</summary>
public sealed class AddPrepaidScript() : ScriptContract<AddPrepaidScript.Request, bool>(Loaded)
{
    private static readonly RedisScript Loaded =
        RedisScript.FromResource(typeof(AddPrepaidScript).Assembly, "add-prepaid.lua", BillingFormats.Preamble());

    public static readonly AddPrepaidScript Instance = new();

    public sealed record Request(string AccountId, PrepaidCharge Charge, string PriceBook);

    public override ScriptCall Bind(Request r)
    {
        var member = BillingFormats.Items.Package(r.Charge.PackageId);
        var purchasedAt = r.Charge.PurchasedAt.ToUnixTimeMilliseconds();
        return new(
            [BillingKeys.Item(r.AccountId, member), BillingKeys.Unbilled(r.AccountId)],
            [
                member, purchasedAt,
                BillingFormats.Items.Label, r.Charge.Label, BillingFormats.Items.Size, r.Charge.Size,
                BillingFormats.Items.PriceFen, r.Charge.PriceFen, BillingFormats.Items.PurchasedAt, purchasedAt,
                BillingFormats.Items.PriceBook, r.PriceBook,
            ]);
    }

    /// <summary>True when recorded now, false when the package was known.</summary>
    public override bool Parse(RedisResult reply) => OneOrZero(Script, reply);
}

/// <summary>credit-refund.lua: a completed refund credited to the balance and queued for the next bill, once per refund id (R-REF-3).</summary>
public sealed class CreditRefundScript() : ScriptContract<CreditRefundScript.Request, bool>(Loaded)
{
    private static readonly OutboxScript Loaded = OutboxScript.FromResource(typeof(CreditRefundScript).Assembly, "credit-refund.lua",
        BillingFormats.Preamble(BillingFormats.JsonNames("SR", ServiceResumed.Descriptor)));

    public static readonly CreditRefundScript Instance = new();

    public sealed record Request(string AccountId, string RefundId, string PackageId, long AmountFen, DateTimeOffset CompletedAt, DateTimeOffset Now);

    public override ScriptCall Bind(Request r)
    {
        var member = BillingFormats.Items.Refund(r.RefundId);
        return new(
            [
                BillingKeys.Account(r.AccountId), BillingKeys.Item(r.AccountId, member), BillingKeys.Unbilled(r.AccountId),
                BillingKeys.Due(r.AccountId), BillingKeys.Outbox(r.AccountId),
            ],
            [
                r.AccountId, member, r.PackageId, r.AmountFen, r.CompletedAt.ToUnixTimeMilliseconds(), r.Now.ToUnixTimeMilliseconds(), Iso(r.Now),
                EventTopics.ServiceResumed, ServiceResumed.Descriptor.FullName,
            ]);
    }

    /// <summary>True when credited now, false when it was credited before.</summary>
    public override bool Parse(RedisResult reply) => OneOrZero(Script, reply);
}

/// <summary>top-up.lua: cash onto the balance once per idempotency key, paying what is due; may resume the account (R-BIL-4).</summary>
public sealed class TopUpScript() : ScriptContract<TopUpScript.Request, TopUpOutcome?>(Loaded)
{
    /// <summary>The script's status words (ST_OK, ST_DUP, ST_UNKNOWN in Lua).</summary>
    public const string Ok = "ok", Duplicate = "dup", UnknownAccount = "unknown";

    private static readonly OutboxScript Loaded = OutboxScript.FromResource(typeof(TopUpScript).Assembly, "top-up.lua",
        BillingFormats.Preamble(
            [("ST_OK", Ok), ("ST_DUP", Duplicate), ("ST_UNKNOWN", UnknownAccount)],
            Positions<TopUpSnapshotPart>("SNAP"),
            Positions<TopUpLogPart>("LOG"),
            BillingFormats.JsonNames("SR", ServiceResumed.Descriptor)));

    public static readonly TopUpScript Instance = new();

    public sealed record Request(string AccountId, string IdempotencyKey, long AmountFen, DateTimeOffset Now, TimeSpan KeyRetention);

    private enum Answer { Ok, Duplicate, UnknownAccount }

    private static readonly Dictionary<string, Answer> Words = new()
    {
        [Ok] = Answer.Ok, [Duplicate] = Answer.Duplicate, [UnknownAccount] = Answer.UnknownAccount,
    };

    public override ScriptCall Bind(Request r) => new(
        [
            BillingKeys.Account(r.AccountId), BillingKeys.TopUp(r.AccountId, r.IdempotencyKey), BillingKeys.Due(r.AccountId), BillingKeys.Outbox(r.AccountId),
            BillingKeys.TopUps(r.AccountId),
        ],
        [
            r.AccountId, r.AmountFen, r.Now.ToUnixTimeMilliseconds(), Iso(r.Now), EventTopics.ServiceResumed, ServiceResumed.Descriptor.FullName,
            (long)r.KeyRetention.TotalSeconds, r.IdempotencyKey,
        ]);

    /// <summary>The outcome (applied now or, for a known key, the first one's); null when the account is not activated.</summary>
    public override TopUpOutcome? Parse(RedisResult reply)
    {
        var r = Array(reply);
        var status = Status(r[0], Words);
        if (status == Answer.UnknownAccount) return null;
        var parts = ((string)r[1]!).Split(BillingFormats.Separator);
        if (parts.Length != Enum.GetValues<TopUpSnapshotPart>().Length) throw Unexpected($"snapshot '{(string?)r[1]}'");
        string Part(TopUpSnapshotPart p) => parts[(int)p];
        var since = Part(TopUpSnapshotPart.ArrearsSince);
        return new TopUpOutcome(
            status == Answer.Duplicate,
            Long(Part(TopUpSnapshotPart.Amount)),
            Long(Part(TopUpSnapshotPart.Balance)),
            Long(Part(TopUpSnapshotPart.Arrears)),
            Part(TopUpSnapshotPart.Suspended) switch
            {
                BillingFormats.Yes => true,
                BillingFormats.No => false,
                var flag => throw Unexpected($"suspended flag '{flag}'"),
            },
            since.Length > 0 ? Ms(since) : null);
    }
}

/// <summary>suspend.lua: suspends an account whose arrears stayed unpaid for the grace time, with ServiceSuspended (R-BIL-4).</summary>
public sealed class SuspendScript() : ScriptContract<SuspendScript.Request, SuspendScript.Result>(Loaded)
{
    /// <summary>The script's status words (ST_SUSPENDED… in Lua).</summary>
    public const string Suspended = "suspended", Later = "later", Already = "already", Clear = "clear";

    private static readonly OutboxScript Loaded = OutboxScript.FromResource(typeof(SuspendScript).Assembly, "suspend.lua",
        BillingFormats.Preamble(
            [("ST_SUSPENDED", Suspended), ("ST_LATER", Later), ("ST_ALREADY", Already), ("ST_CLEAR", Clear)],
            BillingFormats.JsonNames("SS", ServiceSuspended.Descriptor)));

    public static readonly SuspendScript Instance = new();

    public sealed record Request(string AccountId, DateTimeOffset Now, TimeSpan SuspendAfter);

    /// <param name="DueAt">When the suspension becomes due (<see cref="SuspendStatus.Later"/> only).</param>
    public sealed record Result(SuspendStatus Status, DateTimeOffset? DueAt);

    private static readonly Dictionary<string, SuspendStatus> Words = new()
    {
        [Suspended] = SuspendStatus.Suspended, [Later] = SuspendStatus.Later, [Already] = SuspendStatus.Already, [Clear] = SuspendStatus.Clear,
    };

    public override ScriptCall Bind(Request r) => new(
        [BillingKeys.Account(r.AccountId), BillingKeys.Due(r.AccountId), BillingKeys.Outbox(r.AccountId)],
        [
            r.AccountId, r.Now.ToUnixTimeMilliseconds(), Iso(r.Now), (long)r.SuspendAfter.TotalMilliseconds,
            EventTopics.ServiceSuspended, ServiceSuspended.Descriptor.FullName,
        ]);

    public override Result Parse(RedisResult reply)
    {
        var r = Array(reply);
        var status = Status(r[0], Words);
        return new(status, status == SuspendStatus.Later ? Ms((string)r[1]!) : null);
    }
}

/// <summary>unindex-arrears.lua: drops an account from the arrears index only if its entry still has the score seen.</summary>
public sealed class UnindexArrearsScript() : ScriptContract<UnindexArrearsScript.Request, bool>(Loaded)
{
    private static readonly RedisScript Loaded = RedisScript.FromResource(typeof(UnindexArrearsScript).Assembly, "unindex-arrears.lua");

    public static readonly UnindexArrearsScript Instance = new();

    public sealed record Request(string AccountId, double SeenScore);

    public override ScriptCall Bind(Request r) => new([BillingKeys.ArrearsIndex], [r.AccountId, r.SeenScore]);

    /// <summary>True when removed, false when the entry is gone or was moved meanwhile.</summary>
    public override bool Parse(RedisResult reply) => OneOrZero(Script, reply);
}
