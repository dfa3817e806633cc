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

    /// <summary>Reads a stored record (<see cref="PackageRecordFormat"/>, the format lib-package.lua's pkg_write writes).</summary>
    public static PackageRecord Parse(string accountId, string id, string stored)
    {
        var f = stored.Split(PackageRecordFormat.Separator);
        if (f.Length != PackageRecordFormat.Fields.Count)
            throw new FormatException($"package record of {id} has {f.Length} fields, not {PackageRecordFormat.Fields.Count}: '{stored}'");
        long N(int i) => long.Parse(f[i], CultureInfo.InvariantCulture);
        var purchased = DateTimeOffset.FromUnixTimeMilliseconds(N(PackageRecordFormat.PurchasedAt));
        return new PackageRecord(id, accountId, f[PackageRecordFormat.Label], N(PackageRecordFormat.Size), N(PackageRecordFormat.Used),
            N(PackageRecordFormat.PriceFen), f[PackageRecordFormat.Free] == PackageRecordFormat.FlagOn, purchased, ChinaCalendar.StartOfDay(purchased),
            DateTimeOffset.FromUnixTimeMilliseconds(N(PackageRecordFormat.ExpiresAt)), f[PackageRecordFormat.Status],
            f[PackageRecordFormat.PriceBook], f[PackageRecordFormat.OrderId], N(PackageRecordFormat.Backdated));
    }

    public PackageState StateAt(DateTimeOffset now) => StoredStatus switch
    {
        PackageStatuses.Refunded => PackageState.Refunded,
        PackageStatuses.Refunding => PackageState.Refunding,
        PackageStatuses.Active when Used >= Size => PackageState.Exhausted,
        PackageStatuses.Active when now >= ExpiresAt => PackageState.Expired,
        PackageStatuses.Active => PackageState.Active,
        var other => throw new InvalidOperationException($"package {Id} has unknown stored status '{other}'"),
    };
}

/// <summary>The ledger's view of an account's service (written from Onboarding's events).</summary>
/// <param name="EnterpriseVerifiedAt">When the main account was verified as an enterprise (R-ONB-4); null: not (yet) known to be.</param>
public sealed record ServiceView(string AccountId, string? MainAccountId, string? State, DateTimeOffset? ActivatedAt, string? PriceBook,
    DateTimeOffset? EnterpriseVerifiedAt)
{
    public bool IsSubAccount => MainAccountId is not null;

    /// <summary>May the account use E证通 at <paramref name="at"/> (R-ONB-4)?</summary>
    public bool EnterpriseVerifiedBy(DateTimeOffset at) => EnterpriseVerifiedAt is { } verified && verified <= at;
}

/// <summary>A package to create: from the catalog for a purchase, or a free grant.</summary>
public sealed record NewPackage(string Label, long Size, long PriceFen, bool Free, string PriceBook);

/// <summary>KeyReused: the request id is kept for a call with another label, access mode, return code, account or time (refused, nothing changed).</summary>
public enum ChargeStatus { New, Duplicate, KeyReused, UnknownAccount, NotOpened, Suspended, EnterpriseNotVerified }

public enum ChargeKind { Package, Postpaid, NotBillable }

/// <summary>One usage record, ready for the deduction script (label resolved, billable decided).</summary>
/// <param name="EnterpriseOnly">The label is E证通's: charged only if the account was enterprise-verified by the call's time (R-ONB-4).</param>
public sealed record ChargeRequest(
    string RequestId,
    string Label,
    DateTimeOffset OccurredAt,
    bool Billable,
    string SubAccountId,
    string AccessMode,
    string ReturnCode,
    bool EnterpriseOnly = false);

public sealed record ChargeOutcome(ChargeKind Kind, string Label, string PackageId, long PackageRemaining, string PriceBook)
{
    /// <summary>Between the parts of a kept outcome and of a duplicate's answer (OUTCOME_SEP in Lua).</summary>
    public const char Separator = '|';

    /// <summary>
    /// The package a kept outcome names, or null for a postpaid or not billable one. deduct.lua keeps each
    /// request id's outcome short (lib-usage.lua's rid_value): "P&lt;package id without its prefix&gt;|&lt;remaining&gt;",
    /// else "&lt;kind&gt;&lt;label&gt;" (kind letters: <see cref="ChargeKinds"/>); a package charge's label is its package's.
    /// </summary>
    public static string? KeptPackageId(string kept) =>
        kept[0] == ChargeKinds.Package ? PackageLedger.PackageIdPrefix + kept[1..kept.IndexOf(Separator)] : null;

    /// <summary>A request id's kept value without its fingerprint (<see cref="UsageFingerprint"/>; ids kept before it have none).</summary>
    public static string WithoutFingerprint(string kept) => kept.IndexOf(UsageFingerprint.Separator) is var sep and >= 0 ? kept[..sep] : kept;

    /// <summary>A kept outcome (see <see cref="KeptPackageId"/>) made whole with its package's label; the price book is the account's.</summary>
    public static ChargeOutcome FromKept(string kept, string priceBook, string packageLabel) => ChargeKinds.Of(kept[0], $"kept charge outcome '{kept}'") switch
    {
        ChargeKind.Package => new ChargeOutcome(ChargeKind.Package, packageLabel, KeptPackageId(kept)!,
            long.Parse(kept.AsSpan(kept.IndexOf(Separator) + 1), CultureInfo.InvariantCulture), priceBook),
        var kind => new ChargeOutcome(kind, kept[1..], "", 0, priceBook),
    };

    /// <summary>
    /// The label of a whole outcome as deduct.lua answers it ("kind|label|package|remaining"), a charge's or a kept
    /// refusal's (<see cref="RefusedKinds"/>: its kind letter, its label, no package).
    /// </summary>
    public static string LabelOf(ReadOnlySpan<char> whole)
    {
        Span<Range> p = stackalloc Range[5];
        if (whole.Split(p, Separator) != 4) throw new FormatException($"outcome '{whole}' is not kind|label|package|remaining");
        return whole[p[1]].ToString();
    }

    /// <summary>Parses "kind|label|package|remaining" as deduct.lua answers it for a duplicate; the price book is the account's.</summary>
    public static ChargeOutcome Parse(ReadOnlySpan<char> stored, string priceBook)
    {
        Span<Range> p = stackalloc Range[5];
        var count = stored.Split(p, Separator);
        if (count != 4 || stored[p[0]].Length != 1) throw new FormatException($"charge outcome '{stored}' is not kind|label|package|remaining");
        var kind = ChargeKinds.Of(stored[p[0]][0], $"charge outcome '{stored}'");
        return new ChargeOutcome(kind, stored[p[1]].ToString(), stored[p[2]].ToString(), Math.Max(0, long.Parse(stored[p[3]], CultureInfo.InvariantCulture)), priceBook);
    }
}

/// <param name="DifferingFields">For <see cref="ChargeStatus.KeyReused"/>: the fields that differ from the kept call's (UsageFingerprint's names).</param>
/// <param name="Duplicate">A refusal answered from its kept request id (<see cref="RefusedKinds"/>): a retry, neither judged again nor
/// published nor counted again (a charge's retry is <see cref="ChargeStatus.Duplicate"/>).</param>
public sealed record ChargeResult(ChargeStatus Status, ChargeOutcome? Outcome, IReadOnlyList<string>? DifferingFields = null, bool Duplicate = false);
