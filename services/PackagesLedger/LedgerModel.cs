using System.Globalization;
using FaceId.Common;

namespace FaceId.Packages.Ledger;

public enum PackageState { Active, Exhausted, Expired, Refunding, Refunded }

/// <summary>One package as stored (R-PKG-1, R-PKG-2, R-PKG-7).</summary>
public sealed record PackageRecord(
    string Id,
    string AccountId,
    string Label,
    long Size,
    long Used,
    long PriceFen,
    bool Free,
    DateTimeOffset PurchasedAt,
    DateTimeOffset ValidFrom,
    DateTimeOffset ExpiresAt,
    string StoredStatus,
    string PriceBook,
    string OrderId,
    long Backdated)
{
    public long Remaining => Math.Max(0, Size - Used);

    /// <summary>
    /// Reads a stored record as lib-usage.lua writes it (PKG_FORMAT): joined by '|' —
    /// label, size, used, price_fen, free, purchased_at, expires_at (ms), price_book, status,
    /// alerts raised, backdated, refund_id, order_id. Keep both in step.
    /// </summary>
    public static PackageRecord Parse(string accountId, string id, string stored)
    {
        var f = stored.Split('|');
        if (f.Length != 13) throw new FormatException($"package record of {id} has {f.Length} fields, not 13: '{stored}'");
        long N(int i) => long.Parse(f[i], CultureInfo.InvariantCulture);
        var purchased = DateTimeOffset.FromUnixTimeMilliseconds(N(5));
        return new PackageRecord(id, accountId, f[0], N(1), N(2), N(3), f[4] == "1", purchased, ChinaCalendar.StartOfDay(purchased),
            DateTimeOffset.FromUnixTimeMilliseconds(N(6)), f[8], f[7], f[12], N(10));
    }

    public PackageState StateAt(DateTimeOffset now) => StoredStatus switch
    {
        "refunded" => PackageState.Refunded,
        "refunding" => PackageState.Refunding,
        "active" when Used >= Size => PackageState.Exhausted,
        "active" when now >= ExpiresAt => PackageState.Expired,
        "active" => PackageState.Active,
        var other => throw new InvalidOperationException($"package {Id} has unknown stored status '{other}'"),
    };
}

/// <summary>The ledger's view of an account's service (written from Onboarding's events).</summary>
public sealed record ServiceView(string AccountId, string? MainAccountId, string? State, DateTimeOffset? ActivatedAt, string? PriceBook)
{
    public bool IsSubAccount => MainAccountId is not null;
}

/// <summary>A package to create: from the catalog for a purchase, or a free grant.</summary>
public sealed record NewPackage(string Label, long Size, long PriceFen, bool Free, string PriceBook);

public enum ChargeStatus { New, Duplicate, UnknownAccount, NotOpened, Suspended }

public enum ChargeKind { Package, Postpaid, NotBillable }

/// <summary>One usage record, ready for the deduction script (label resolved, billable decided).</summary>
public sealed record ChargeRequest(
    string RequestId,
    string Label,
    DateTimeOffset OccurredAt,
    bool Billable,
    string SubAccountId,
    string AccessMode,
    string ReturnCode);

public sealed record ChargeOutcome(ChargeKind Kind, string Label, string PackageId, long PackageRemaining, string PriceBook)
{
    /// <summary>
    /// The package a kept outcome names, or null for a postpaid or not billable one. deduct.lua keeps each
    /// request id's outcome short (lib-usage.lua's rid_value): "P&lt;package id without pkg_&gt;|&lt;remaining&gt;",
    /// else "&lt;kind&gt;&lt;label&gt;"; a package charge's label is its package's.
    /// </summary>
    public static string? KeptPackageId(string kept) => kept[0] == 'P' ? "pkg_" + kept[1..kept.IndexOf('|')] : null;

    /// <summary>A kept outcome (see <see cref="KeptPackageId"/>) made whole with its package's label; the price book is the account's.</summary>
    public static ChargeOutcome FromKept(string kept, string priceBook, string packageLabel) => kept[0] switch
    {
        'P' => new ChargeOutcome(ChargeKind.Package, packageLabel, KeptPackageId(kept)!,
            long.Parse(kept.AsSpan(kept.IndexOf('|') + 1), CultureInfo.InvariantCulture), priceBook),
        'O' => new ChargeOutcome(ChargeKind.Postpaid, kept[1..], "", 0, priceBook),
        'N' => new ChargeOutcome(ChargeKind.NotBillable, kept[1..], "", 0, priceBook),
        _ => throw new InvalidOperationException($"kept charge outcome '{kept}' has an unknown kind"),
    };

    /// <summary>Parses "kind|label|package|remaining" as deduct.lua answers it for a duplicate; the price book is the account's.</summary>
    public static ChargeOutcome Parse(ReadOnlySpan<char> stored, string priceBook)
    {
        Span<Range> p = stackalloc Range[5];
        var count = stored.Split(p, '|');
        if (count != 4) throw new FormatException($"charge outcome '{stored}' is not kind|label|package|remaining");
        var kind = stored[p[0]] switch
        {
            "P" => ChargeKind.Package,
            "O" => ChargeKind.Postpaid,
            "N" => ChargeKind.NotBillable,
            _ => throw new InvalidOperationException($"charge outcome '{stored}' has an unknown kind"),
        };
        return new ChargeOutcome(kind, stored[p[1]].ToString(), stored[p[2]].ToString(), Math.Max(0, long.Parse(stored[p[3]], CultureInfo.InvariantCulture)), priceBook);
    }
}

public sealed record ChargeResult(ChargeStatus Status, ChargeOutcome? Outcome);
