using FaceId.Packages.Ledger;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FaceId.Refund.Application;

/// <summary>
/// A refund's lifecycle (R-REF-3): requested → approved (the package is frozen) → credited (the
/// price is back on the balance, the package refunded); or requested → rejected with a reason.
/// </summary>
public enum RefundState { Requested, Approved, Credited, Rejected }

public sealed record RefundTransition(RefundState State, DateTimeOffset At, string Note);

/// <summary>One refund as stored in <c>{acct:M}:ref:&lt;id&gt;</c> and its history list.</summary>
public sealed record RefundRecord(
    string Id,
    string AccountId,
    string PackageId,
    string Label,
    long AmountFen,
    RefundState State,
    string RejectionReason,
    DateTimeOffset RequestedAt,
    IReadOnlyList<RefundTransition> History);

/// <summary>
/// Whether a package may be refunded now (R-REF-1): <see cref="Refusal"/> null when it may, else the
/// reason RequestRefund would refuse with, its <see cref="Description"/>, and for
/// REFUND_ALREADY_REQUESTED the package's <see cref="RefundId"/>. <see cref="WindowClosesAt"/> is
/// null for a free package.
/// </summary>
public sealed record RefundEligibilityRecord(
    PackageRecord Package,
    string? Refusal,
    string Description,
    string RefundId,
    DateTimeOffset? WindowClosesAt)
{
    public bool Refundable => Refusal is null;
}

/// <summary>What one completion attempt found.</summary>
public enum CompletionOutcome
{
    /// <summary>Credited now: RefundCompleted entered the account's outbox.</summary>
    Credited,
    /// <summary>An earlier attempt credited it; nothing changed.</summary>
    AlreadyCredited,
    /// <summary>Rejected refunds are never credited.</summary>
    Rejected,
    /// <summary>No such refund (its freeze was refused or never ran).</summary>
    Missing,
}

/// <summary>The JSON of one history list entry: <c>{"state":"approved","at":1613284200000,"note":"…"}</c> (at = unix ms).</summary>
internal sealed record RefundHistoryEntry(
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("at")] long At,
    [property: JsonPropertyName("note")] string Note)
{
    public static string Json(RefundTransition t) =>
        JsonSerializer.Serialize(new RefundHistoryEntry(RefundStates.ToStored(t.State), t.At.ToUnixTimeMilliseconds(), t.Note));

    public RefundTransition ToTransition() => new(RefundStates.FromStored(State), DateTimeOffset.FromUnixTimeMilliseconds(At), Note);
}

internal static class RefundStates
{
    public static string ToStored(RefundState state) => state switch
    {
        RefundState.Requested => "requested",
        RefundState.Approved => "approved",
        RefundState.Credited => "credited",
        RefundState.Rejected => "rejected",
        _ => throw new InvalidOperationException($"Unknown refund state '{state}' to store."),
    };

    public static RefundState FromStored(string state) => state switch
    {
        "requested" => RefundState.Requested,
        "approved" => RefundState.Approved,
        "credited" => RefundState.Credited,
        "rejected" => RefundState.Rejected,
        _ => throw new InvalidOperationException($"Unknown stored refund state '{state}'."),
    };
}
