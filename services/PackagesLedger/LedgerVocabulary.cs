using System.Globalization;
using FaceId.Common;
using FaceId.Contracts.Events.V1;

namespace FaceId.Packages.Ledger;

/// <summary>
/// The stored words and letters the ledger's Lua scripts and C# share, each spelled once here and
/// given to Lua by <see cref="PackageScriptLibrary.Preamble"/> (docs/redis-keys.md).
/// </summary>
public static class PackageStatuses
{
    /// <summary>A package record's <c>status</c> (PKG_ACTIVE, PKG_REFUNDING, PKG_REFUNDED in Lua).</summary>
    public const string Active = "active", Refunding = "refunding", Refunded = "refunded";
}

/// <summary>
/// The fields of an account's service hash {acct:M}:svc (SVC_F_STATE, SVC_F_STATES, SVC_F_STATE_AT, SVC_F_ACTIVATED_AT, SVC_F_PRICE_BOOK,
/// SVC_F_CYCLE, SVC_F_ENTERPRISE_VERIFIED_AT in Lua). <see cref="State"/>: the state now; <see cref="States"/>: its suspensions
/// and resumptions as instants (<see cref="ServiceHistory"/>); <see cref="StateAt"/>: the last change of a hash written before
/// the history (read once to start it, then removed). <see cref="EnterpriseVerifiedAt"/>: when Onboarding verified the main
/// account as an enterprise (ms, from EnterpriseVerified), the condition of E证通 (R-ONB-4).
/// </summary>
public static class ServiceFields
{
    public const string Kind = "kind", Main = "main", State = "state", States = "states", StateAt = "state_at", ActivatedAt = "activated_at",
        PriceBook = "price_book", Cycle = "cycle", EnterpriseVerifiedAt = "enterprise_verified_at";

    /// <summary>The fields the scripts read or write, for their preamble.</summary>
    public static readonly (string Name, object Value)[] Lua =
    [
        ("SVC_F_STATE", State), ("SVC_F_STATES", States), ("SVC_F_STATE_AT", StateAt), ("SVC_F_ACTIVATED_AT", ActivatedAt), ("SVC_F_PRICE_BOOK", PriceBook),
        ("SVC_F_CYCLE", Cycle), ("SVC_F_ENTERPRISE_VERIFIED_AT", EnterpriseVerifiedAt),
    ];
}

/// <summary>
/// The suspensions and resumptions of an account's service (R-BIL-4) as instants, after its activation (<c>activated_at</c>):
/// the service hash's <see cref="ServiceFields.States"/>, one entry per change, oldest first, each a letter
/// (<see cref="Suspended"/>, <see cref="Resumed"/>) and 13 digits of unix ms ("s1770000000000o1770003600000"). deduct.lua
/// judges each record by the latest change at or before its time (R-MET-4); set-service-state.lua keeps the changes within
/// <see cref="Window"/> before now and the last one before them, the state at the window's start (HIST_* in Lua).
/// </summary>
public static class ServiceHistory
{
    public const char Suspended = 's', Resumed = 'o';

    /// <summary>How far back a record can be judged: the late window (R-MET-4).</summary>
    public static readonly TimeSpan Window = LateRecords.Window;

    /// <summary>The preamble's constants: the letters, an entry's Lua pattern, the window.</summary>
    public static readonly (string Name, object Value)[] Lua =
    [
        ("HIST_SUSPENDED", Suspended), ("HIST_RESUMED", Resumed), ("HIST_ENTRY", "(%a)(%d+)"), ("HIST_WINDOW_MS", Window),
    ];

    /// <summary>The changes of a stored history, oldest first; an entry it does not know is a fault naming it.</summary>
    public static IReadOnlyList<(bool Suspended, DateTimeOffset At)> Parse(string stored)
    {
        const int entry = 14;
        if (stored.Length % entry != 0) throw new FormatException($"service history '{stored}' is not made of {entry}-character entries");
        var changes = new List<(bool, DateTimeOffset)>(stored.Length / entry);
        for (var i = 0; i < stored.Length; i += entry)
        {
            var suspended = stored[i] switch
            {
                Suspended => true,
                Resumed => false,
                var c => throw new FormatException($"service history '{stored}' has an unknown change '{c}'"),
            };
            changes.Add((suspended, DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(stored.AsSpan(i + 1, entry - 1), CultureInfo.InvariantCulture))));
        }
        return changes;
    }
}


/// <summary>The <c>state</c> of an account's service hash {acct:M}:svc (SVC_OPENED, SVC_SUSPENDED in Lua).</summary>
public static class ServiceStates
{
    public const string Opened = "opened", Suspended = "suspended";
}

/// <summary>
/// The letter of a <see cref="ChargeKind"/> (KIND_PACKAGE, KIND_POSTPAID, KIND_NOT_BILLABLE in Lua): the first
/// character of a kept outcome (lib-usage.lua's rid_value) and the suffix of a day counter field ("label|P").
/// </summary>
public static class ChargeKinds
{
    public const char Package = LedgerDayCounterFormat.Package, Postpaid = LedgerDayCounterFormat.Postpaid, NotBillable = LedgerDayCounterFormat.NotBillable;

    /// <summary>The kind a letter stands for; an unknown letter is a fault naming it, never a kind.</summary>
    public static ChargeKind Of(char letter, string where) => letter switch
    {
        Package => ChargeKind.Package,
        Postpaid => ChargeKind.Postpaid,
        NotBillable => ChargeKind.NotBillable,
        _ => throw new InvalidOperationException($"{where} has an unknown charge kind '{letter}'"),
    };

    public static char Letter(ChargeKind kind) => kind switch
    {
        ChargeKind.Package => Package,
        ChargeKind.Postpaid => Postpaid,
        ChargeKind.NotBillable => NotBillable,
        _ => throw new InvalidOperationException($"unknown charge kind '{kind}'"),
    };
}

/// <summary>
/// The letter of a refusal whose request id the ledger keeps (deduct.lua): the first character of its kept value
/// ("&lt;letter&gt;&lt;label&gt;", as a postpaid outcome's), and the suffix of its day counter field ("label|S"), one per reason
/// so that reconciliation compares them with Billing's refused calls per reason. An unknown account's refusal keeps
/// nothing: there is no account to keep it under (keeping ids for any account id would let anyone fill Redis).
/// </summary>
public static class RefusedKinds
{
    public static readonly IReadOnlyDictionary<ChargeStatus, char> Letters = new Dictionary<ChargeStatus, char>
    {
        [ChargeStatus.NotOpened] = LedgerDayCounterFormat.RefusedNotOpened,
        [ChargeStatus.Suspended] = LedgerDayCounterFormat.RefusedSuspended,
        [ChargeStatus.EnterpriseNotVerified] = LedgerDayCounterFormat.RefusedNotVerified,
    };

    /// <summary>The refusal a kept value's first letter stands for, or null (a charge kind's letter).</summary>
    public static ChargeStatus? Of(char letter)
    {
        foreach (var (status, l) in Letters)
            if (l == letter) return status;
        return null;
    }
}

/// <summary>
/// The alerts a package record remembers as raised (R-PKG-6: once per package and kind): one letter
/// per kind in its <c>alerts</c> field (PKG_ALERT_FLAG in Lua, keyed by the kind's protobuf name).
/// </summary>
public static class PackageAlertFlags
{
    public static readonly IReadOnlyDictionary<PackageAlertKind, char> Letters = new Dictionary<PackageAlertKind, char>
    {
        [PackageAlertKind.LowBalance] = 'L',
        [PackageAlertKind.Exhausted] = 'X',
        [PackageAlertKind.Expiring7D] = '7',
        [PackageAlertKind.Expiring1D] = '1',
        [PackageAlertKind.Expired] = 'E',
    };

    /// <summary>The kind's name as protobuf JSON writes it (PACKAGE_ALERT_KIND_…).</summary>
    public static string ProtoName(PackageAlertKind kind) => PackageAlert.Descriptor.FindFieldByNumber(PackageAlert.KindFieldNumber).EnumType.FindValueByNumber((int)kind).Name;

    /// <summary>The kinds a stored <c>alerts</c> field says were raised.</summary>
    public static IReadOnlySet<PackageAlertKind> Raised(string stored) =>
        Letters.Where(l => stored.Contains(l.Value, StringComparison.Ordinal)).Select(l => l.Key).ToHashSet();
}

/// <summary>
/// The package record as stored: one field of {acct:M}:pk:&lt;bucket&gt; per package, its fields joined by '|' in the
/// order of <see cref="Fields"/>. lib-package.lua's pkg_read and pkg_write get the order, PKG_PATTERN and PKG_FORMAT
/// generated from this list (<see cref="PackageScriptLibrary.Preamble"/>); <see cref="PackageRecord.Parse"/> reads by
/// the same list. A field's name is also its name in the Lua table of a package (p.label, p.used, …).
/// </summary>
public static class PackageRecordFormat
{
    /// <summary>Text (any characters but '|'), Count (digits, a number in Lua) or Flag (<see cref="FlagOn"/> or <see cref="FlagOff"/>, kept as text in Lua).</summary>
    public enum FieldKind { Text, Count, Flag }

    public const char Separator = '|';

    /// <summary>A Flag field's values, also every yes/no argument of the ledger's scripts (FLAG_ON in Lua).</summary>
    public const string FlagOn = "1", FlagOff = "0";

    public static string Flag(bool value) => value ? FlagOn : FlagOff;

    /// <summary>Times in unix ms; status: <see cref="PackageStatuses"/>; alerts: <see cref="PackageAlertFlags"/>; backdated: the calls moved onto it at purchase (R-PKG-4).</summary>
    public static readonly IReadOnlyList<(string Name, FieldKind Kind)> Fields =
    [
        ("label", FieldKind.Text), ("size", FieldKind.Count), ("used", FieldKind.Count), ("price_fen", FieldKind.Text),
        ("free", FieldKind.Flag), ("purchased_at", FieldKind.Count), ("expires_at", FieldKind.Count), ("price_book", FieldKind.Text),
        ("status", FieldKind.Text), ("alerts", FieldKind.Text), ("backdated", FieldKind.Count), ("refund_id", FieldKind.Text),
        ("order_id", FieldKind.Text),
    ];

    public static readonly int Label = IndexOf("label"), Size = IndexOf("size"), Used = IndexOf("used"), PriceFen = IndexOf("price_fen"),
        Free = IndexOf("free"), PurchasedAt = IndexOf("purchased_at"), ExpiresAt = IndexOf("expires_at"), PriceBook = IndexOf("price_book"),
        Status = IndexOf("status"), Alerts = IndexOf("alerts"), Backdated = IndexOf("backdated"), RefundId = IndexOf("refund_id"),
        OrderId = IndexOf("order_id");

    /// <summary>The Lua pattern that splits a record into its fields (captures in list order).</summary>
    public static string LuaPattern => "^" + string.Join(Separator, Fields.Select(f => f.Kind switch
    {
        FieldKind.Count => "(%d+)",
        FieldKind.Flag => $"([{FlagOff}{FlagOn}])",
        FieldKind.Text => "([^" + Separator + "]*)",
        var kind => throw new InvalidOperationException($"unknown field kind '{kind}'"),
    })) + "$";

    /// <summary>The string.format format that joins the fields (numbers as integers).</summary>
    public static string LuaFormat => string.Join(Separator, Fields.Select(f => f.Kind == FieldKind.Count ? "%d" : "%s"));

    private static int IndexOf(string name)
    {
        for (var i = 0; i < Fields.Count; i++)
            if (Fields[i].Name == name) return i;
        throw new InvalidOperationException($"no package record field '{name}'");
    }
}
