using System.Text.Json.Nodes;
using FaceId.Common;
using FaceId.Contracts.Events.V1;
using Google.Protobuf.WellKnownTypes;

namespace FaceId.Onboarding.Application.Webhooks;

/// <summary>One webhook event made from an integration event: its type, the account it is for, when it happened, and its data.</summary>
public sealed record WebhookEvent(string Type, string AccountId, DateTimeOffset OccurredAt, JsonObject Data);

/// <summary>
/// The webhook event types and their payloads (docs/webhooks.md): money as integer fen plus an
/// exact decimal CNY string, instants as RFC 3339. Built only from the integration events the
/// services publish.
/// </summary>
public static class WebhookEvents
{
    public const string PackageDelivered = "package.delivered";
    public const string PackageLowBalance = "package.low_balance";
    public const string PackageExhausted = "package.exhausted";
    public const string PackageExpiring7D = "package.expiring_7d";
    public const string PackageExpiring1D = "package.expiring_1d";
    public const string PackageExpired = "package.expired";
    public const string BillIssued = "billing.bill_issued";
    public const string Arrears = "billing.arrears";
    public const string ServiceSuspended = "service.suspended";
    public const string ServiceResumed = "service.resumed";
    public const string RefundCompleted = "refund.completed";
    public const string RefundRejected = "refund.rejected";
    public const string ApplicationReviewed = "application.reviewed";
    public const string MerchantIdIssued = "merchant_id.issued";
    public const string MerchantIdRejected = "merchant_id.rejected";

    public static readonly IReadOnlyList<string> All =
    [
        PackageDelivered, PackageLowBalance, PackageExhausted, PackageExpiring7D, PackageExpiring1D, PackageExpired,
        BillIssued, Arrears, ServiceSuspended, ServiceResumed, RefundCompleted, RefundRejected, ApplicationReviewed,
        MerchantIdIssued, MerchantIdRejected,
    ];

    public static IEnumerable<WebhookEvent> From(PackageDelivered e)
    {
        yield return new(PackageDelivered, e.AccountId, Instant(e.PurchasedAt), new JsonObject
        {
            ["package_id"] = e.PackageId, ["label"] = e.Label, ["size"] = e.Size, ["free"] = e.Free,
            ["price_fen"] = e.PriceFen, ["price_cny"] = Cny.FromFen(e.PriceFen), ["price_book"] = e.PriceBook,
            ["purchased_at"] = Text(e.PurchasedAt), ["valid_from"] = Text(e.ValidFrom), ["expires_at"] = Text(e.ExpiresAt),
            ["backdated_calls"] = e.BackdatedCalls,
        });
    }

    public static IEnumerable<WebhookEvent> From(PackageAlert e)
    {
        var type = e.Kind switch
        {
            PackageAlertKind.LowBalance => PackageLowBalance,
            PackageAlertKind.Exhausted => PackageExhausted,
            PackageAlertKind.Expiring7D => PackageExpiring7D,
            PackageAlertKind.Expiring1D => PackageExpiring1D,
            PackageAlertKind.Expired => PackageExpired,
            _ => throw new InvalidOperationException($"unknown package alert kind '{e.Kind}'"),
        };
        yield return new(type, e.AccountId, Instant(e.RaisedAt), new JsonObject
        {
            ["package_id"] = e.PackageId, ["label"] = e.Label, ["size"] = e.Size, ["remaining"] = e.Remaining,
            ["expires_at"] = Text(e.ExpiresAt), ["raised_at"] = Text(e.RaisedAt),
        });
    }

    /// <summary>Every bill is <c>billing.bill_issued</c>; one the balance did not cover is also <c>billing.arrears</c>.</summary>
    public static IEnumerable<WebhookEvent> From(BillIssued e)
    {
        JsonObject Data() => new()
        {
            ["bill_id"] = e.BillId, ["period_start"] = Text(e.PeriodStart), ["period_end"] = Text(e.PeriodEnd),
            ["total_fen"] = e.TotalFen, ["total_cny"] = Cny.FromFen(e.TotalFen), ["in_arrears"] = e.InArrears,
        };
        yield return new(BillIssued, e.AccountId, Instant(e.PeriodEnd), Data());
        if (e.InArrears) yield return new(Arrears, e.AccountId, Instant(e.PeriodEnd), Data());
    }

    public static IEnumerable<WebhookEvent> From(ServiceSuspended e)
    {
        yield return new(ServiceSuspended, e.AccountId, Instant(e.SuspendedAt), new JsonObject
        {
            ["suspended_at"] = Text(e.SuspendedAt), ["bill_id"] = e.BillId,
        });
    }

    public static IEnumerable<WebhookEvent> From(ServiceResumed e)
    {
        yield return new(ServiceResumed, e.AccountId, Instant(e.ResumedAt), new JsonObject { ["resumed_at"] = Text(e.ResumedAt) });
    }

    public static IEnumerable<WebhookEvent> From(RefundCompleted e)
    {
        yield return new(RefundCompleted, e.AccountId, Instant(e.CompletedAt), new JsonObject
        {
            ["refund_id"] = e.RefundId, ["package_id"] = e.PackageId,
            ["amount_fen"] = e.AmountFen, ["amount_cny"] = Cny.FromFen(e.AmountFen), ["completed_at"] = Text(e.CompletedAt),
        });
    }

    public static IEnumerable<WebhookEvent> From(RefundRejected e)
    {
        yield return new(RefundRejected, e.AccountId, Instant(e.RejectedAt), new JsonObject
        {
            ["refund_id"] = e.RefundId, ["package_id"] = e.PackageId, ["label"] = e.Label,
            ["amount_fen"] = e.AmountFen, ["amount_cny"] = Cny.FromFen(e.AmountFen), ["reason"] = e.Reason, ["rejected_at"] = Text(e.RejectedAt),
        });
    }

    public static IEnumerable<WebhookEvent> From(ApplicationReviewed e)
    {
        yield return new(ApplicationReviewed, e.AccountId, Instant(e.ReviewedAt), new JsonObject
        {
            ["application_id"] = e.ApplicationId, ["approved"] = e.Approved, ["reason"] = e.Reason, ["reviewed_at"] = Text(e.ReviewedAt),
        });
    }

    public static IEnumerable<WebhookEvent> From(MerchantIdIssued e)
    {
        yield return new(MerchantIdIssued, e.AccountId, Instant(e.IssuedAt), new JsonObject
        {
            ["merchant_id"] = e.MerchantId, ["issued_at"] = Text(e.IssuedAt),
        });
    }

    public static IEnumerable<WebhookEvent> From(MerchantIdRejected e)
    {
        yield return new(MerchantIdRejected, e.AccountId, Instant(e.RejectedAt), new JsonObject
        {
            ["application_id"] = e.ApplicationId, ["reason"] = e.Reason, ["rejected_at"] = Text(e.RejectedAt),
        });
    }

    /// <summary>The signed body: <c>{"type", "timestamp", "event_id", "account_id", "data"}</c>.</summary>
    public static string Payload(WebhookEvent e, string eventId, string mainAccountId) => new JsonObject
    {
        ["type"] = e.Type,
        ["timestamp"] = InstantText.Format(e.OccurredAt),
        ["event_id"] = eventId,
        ["account_id"] = mainAccountId,
        ["data"] = e.Data,
    }.ToJsonString();

    private static DateTimeOffset Instant(Timestamp? t) => t?.ToDateTimeOffset() ?? DateTimeOffset.UnixEpoch;

    private static string? Text(Timestamp? t) => t is null ? null : InstantText.Format(t.ToDateTimeOffset());
}
