using System.Globalization;
using FaceId.Billing.Domain;
using FaceId.Common;
using FaceId.Redis;
using Google.Protobuf.Reflection;
using StackExchange.Redis;

namespace FaceId.Billing.Infrastructure.Scripts;

/// <summary>
/// How a usage record was charged, or why the ledger refused it (R-BIL-1): apply-usage.lua stores it with the
/// record and counts it, apply-backdate.lua compares it (R-PKG-4). Billing's own words, not the ledger's.
/// </summary>
public enum UsageKind { Package, Postpaid, NotBillable, RefusedSuspended, RefusedNotOpened, RefusedNotVerified }

/// <summary>
/// The formats Billing's scripts write and C# reads (or C# writes and the scripts compare), in one
/// place: the scripts get them as constants of a generated preamble (<see cref="Preamble"/>), the
/// C# readers use the same members. docs/redis-keys.md describes the keys.
/// </summary>
public static class BillingFormats
{
    /// <summary>Separates the parts of a composite field or stored record.</summary>
    public const char Separator = '|';

    /// <summary>Boolean flags in hashes (the account's <c>suspended</c>).</summary>
    public const string Yes = "1", No = "0";

    /// <summary>Fields of the account hash <c>{acct:M}:bil:acct</c>.</summary>
    public static class Account
    {
        public const string ActivatedAt = "activated_at", PriceBook = "price_book", Cycle = "cycle", Seq = "seq",
            SettledThrough = "settled_through", LastBillAt = "last_bill_at", BalanceFen = "balance_fen", ArrearsFen = "arrears_fen",
            ArrearsSince = "arrears_since", Suspended = "suspended", SuspendedAt = "suspended_at", ResumedAt = "resumed_at";

        public const string Daily = "daily", Monthly = "monthly";

        public static string CycleName(Settlement cycle) => cycle switch
        {
            Settlement.Daily => Daily,
            Settlement.Monthly => Monthly,
            _ => throw new ArgumentOutOfRangeException(nameof(cycle), cycle, "unknown settlement cycle"),
        };

        public static Settlement CycleOf(string name) => name switch
        {
            Daily => Settlement.Daily,
            Monthly => Settlement.Monthly,
            _ => throw new InvalidOperationException($"account hash field '{Cycle}' holds unknown cycle '{name}'"),
        };
    }

    /// <summary>
    /// A usage record's kind as stored with its request id in <c>{acct:M}:bil:rid:g&lt;generation&gt;</c> (a postpaid
    /// record followed by "yyyymmdd|label|mode|sub"), the mark of a request id backdated before its usage arrived, and
    /// the refusals (a refused call made while suspended, before the service was opened, an E证通 call before the
    /// enterprise verification).
    /// </summary>
    public static class UsageKinds
    {
        public const char Package = 'P', Postpaid = 'O', NotBillable = 'N', Backdated = 'B',
            RefusedSuspended = 'S', RefusedNotOpened = 'U', RefusedNotVerified = 'E';

        public static char Code(UsageKind kind) => kind switch
        {
            UsageKind.Package => Package,
            UsageKind.Postpaid => Postpaid,
            UsageKind.NotBillable => NotBillable,
            UsageKind.RefusedSuspended => RefusedSuspended,
            UsageKind.RefusedNotOpened => RefusedNotOpened,
            UsageKind.RefusedNotVerified => RefusedNotVerified,
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown usage kind"),
        };
    }

    /// <summary>
    /// Prepaid charges and refund credits not yet on a bill: members "pkg:&lt;id&gt;" / "ref:&lt;id&gt;" of
    /// <c>{acct:M}:bil:unbilled</c>, each with its hash <c>{acct:M}:bil:item:&lt;member&gt;</c>.
    /// </summary>
    public static class Items
    {
        public const string PackagePrefix = "pkg:", RefundPrefix = "ref:";

        /// <summary>Fields of a prepaid charge.</summary>
        public const string Label = "label", Size = "size", PriceFen = "price_fen", PurchasedAt = "purchased_at", PriceBook = "price_book";

        /// <summary>Fields of a refund credit.</summary>
        public const string PackageId = "package_id", AmountFen = "amount_fen", CompletedAt = "completed_at";

        public static string Package(string packageId) => PackagePrefix + packageId;

        public static string Refund(string refundId) => RefundPrefix + refundId;
    }

    /// <summary>Counters of a day statistics field "label|mode|sub|counter" (<c>{acct:M}:bil:st:&lt;yyyymmdd&gt;</c>).</summary>
    public static class StatCounters
    {
        public const string Calls = "c", Billable = "b", Package = "p", Postpaid = "o";

        /// <summary>Refused calls (never in the counters above): while suspended, before the service opened, E证通 before the verification.</summary>
        public const string RefusedSuspended = "rs", RefusedNotOpened = "ru", RefusedNotVerified = "re";

        /// <summary>The field's parts: label, mode, sub-account, counter.</summary>
        public const int Parts = 4;
    }

    /// <summary>Fields of <c>{acct:M}:bil:billed:&lt;yyyymm&gt;</c>: "label|calls", "label|fen", and the month version.</summary>
    public static class Billed
    {
        public const string Version = "ver", Calls = "calls", Fen = "fen";
    }

    /// <summary>A day key is "yyyyMMdd"; its month ("yyyyMM") is its first <see cref="MonthKeyLength"/> characters.</summary>
    public const int MonthKeyLength = 6;

    /// <summary>Stable event ids (the outbox dedupes on them): "&lt;prefix&gt;:account:…".</summary>
    public const string BillIssuedEventId = "bill-issued", ResumedEventId = "resumed", SuspendedEventId = "suspended";

    /// <summary>
    /// Lua constants of the formats above, for every Billing script: <c>SEP</c>, <c>YES</c>/<c>NO</c>,
    /// <c>A_*</c> account fields, <c>I_*</c> refund credit fields, <c>KIND_*</c>, <c>C_*</c> statistics counters, <c>BILLED_*</c>,
    /// <c>MONTH_LEN</c>, <c>EID_*</c> event id prefixes, <c>BILL_ID_PREFIX</c>.
    /// </summary>
    public static IEnumerable<(string Name, object Value)> Constants =>
    [
        ("SEP", Separator), ("YES", Yes), ("NO", No),
        ("A_ACTIVATED_AT", Account.ActivatedAt), ("A_PRICE_BOOK", Account.PriceBook), ("A_CYCLE", Account.Cycle), ("A_SEQ", Account.Seq),
        ("A_SETTLED_THROUGH", Account.SettledThrough), ("A_LAST_BILL_AT", Account.LastBillAt), ("A_BALANCE", Account.BalanceFen),
        ("A_ARREARS", Account.ArrearsFen), ("A_ARREARS_SINCE", Account.ArrearsSince), ("A_SUSPENDED", Account.Suspended),
        ("A_SUSPENDED_AT", Account.SuspendedAt), ("A_RESUMED_AT", Account.ResumedAt),
        ("KIND_PACKAGE", UsageKinds.Package), ("KIND_POSTPAID", UsageKinds.Postpaid), ("KIND_NOT_BILLABLE", UsageKinds.NotBillable),
        ("KIND_BACKDATED", UsageKinds.Backdated),
        ("KIND_REFUSED_SUSPENDED", UsageKinds.RefusedSuspended), ("KIND_REFUSED_NOT_OPENED", UsageKinds.RefusedNotOpened),
        ("KIND_REFUSED_NOT_VERIFIED", UsageKinds.RefusedNotVerified),
        ("C_CALLS", StatCounters.Calls), ("C_BILLABLE", StatCounters.Billable), ("C_PACKAGE", StatCounters.Package), ("C_POSTPAID", StatCounters.Postpaid),
        ("C_REFUSED_SUSPENDED", StatCounters.RefusedSuspended), ("C_REFUSED_NOT_OPENED", StatCounters.RefusedNotOpened),
        ("C_REFUSED_NOT_VERIFIED", StatCounters.RefusedNotVerified),
        ("BILLED_VERSION", Billed.Version), ("BILLED_CALLS", Billed.Calls), ("BILLED_FEN", Billed.Fen),
        ("I_PACKAGE_ID", Items.PackageId), ("I_AMOUNT", Items.AmountFen), ("I_COMPLETED_AT", Items.CompletedAt),
        ("MONTH_LEN", MonthKeyLength),
        ("EID_BILL_ISSUED", BillIssuedEventId), ("EID_RESUMED", ResumedEventId), ("EID_SUSPENDED", SuspendedEventId),
        ("BILL_ID_PREFIX", BillingPeriod.BillIdPrefix),
    ];

    /// <summary>
    /// The JSON names of <paramref name="message"/>'s fields as Lua constants <c>&lt;prefix&gt;_&lt;FIELD_NAME&gt;</c>
    /// (e.g. <c>BI_ACCOUNT_ID = 'accountId'</c>): a script that builds the event's JSON takes its field
    /// names from the protobuf message, never spells them itself.
    /// </summary>
    public static IEnumerable<(string Name, object Value)> JsonNames(string prefix, MessageDescriptor message) =>
        message.Fields.InDeclarationOrder().Select(f => ($"{prefix}_{f.Name.ToUpperInvariant()}", (object)f.JsonName));

    /// <summary>The preamble of a Billing script: <see cref="Constants"/> plus the script's own.</summary>
    public static string Preamble(params IEnumerable<(string Name, object Value)>[] own) =>
        LuaPreamble.Of([.. Constants, .. own.SelectMany(c => c)]);
}

/// <summary>The parts of a top-up's outcome stored per idempotency key ("amount|balance|arrears|suspended|arrears_since"), in order.</summary>
public enum TopUpSnapshotPart { Amount, Balance, Arrears, Suspended, ArrearsSince }

/// <summary>
/// The parts of an entry of the account's top-up log <c>{acct:M}:bil:topups</c>
/// ("idempotency_key|at|amount|balance_after|arrears_after"), in order: top-up.lua writes one per top-up applied.
/// </summary>
public enum TopUpLogPart { IdempotencyKey, At, Amount, BalanceAfter, ArrearsAfter }

/// <summary>Reply and argument helpers shared by Billing's script contracts.</summary>
internal static class BillingScriptReplies
{
    /// <summary>A reply of 1 (done now) or 0 (done before / nothing to do); anything else fails loudly.</summary>
    public static bool OneOrZero(IRedisScript script, RedisResult reply) => (long)reply switch
    {
        1 => true,
        0 => false,
        var n => throw new UnexpectedScriptReplyException(script.Name, $"{n}"),
    };

    /// <summary>Event times as the events' JSON carries them (RFC 3339, UTC, milliseconds).</summary>
    public static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    /// <summary>
    /// Lua's 1-based positions of a stored record's parts and their count: <c>SNAP_AMOUNT = 1</c>… and
    /// <c>SNAP_COUNT</c> for <see cref="TopUpSnapshotPart"/> with the prefix "SNAP".
    /// </summary>
    public static IEnumerable<(string Name, object Value)> Positions<TPart>(string prefix) where TPart : struct, Enum =>
        Enum.GetValues<TPart>().Select(p => ($"{prefix}_{UpperSnake(p.ToString())}", (object)(Convert.ToInt32(p, CultureInfo.InvariantCulture) + 1)))
            .Append(($"{prefix}_COUNT", Enum.GetValues<TPart>().Length));

    private static string UpperSnake(string pascal) =>
        string.Concat(pascal.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : char.ToUpperInvariant(c).ToString()));
}
