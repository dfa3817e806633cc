using FaceId.Contracts.Common.V1;

namespace FaceId.Metering.Application;

/// <summary>One reported call, as the gateway sent it (R-MET-1).</summary>
public sealed record UsageInput(
    string RequestId,
    string AccountId,
    string Label,
    string Channel,
    ComparisonLibrary Library,
    AccessMode AccessMode,
    string ReturnCode,
    DateTimeOffset? OccurredAt);

public enum UsageKind { Package, Postpaid, NotBillable, Refused }

public enum RefusalReason { None, UnknownAccount, ServiceNotOpened, ServiceSuspended, EnterpriseNotVerified, IdempotencyKeyReused }

/// <summary>What the platform decided for one call.</summary>
/// <param name="DifferingFields">For <see cref="RefusalReason.IdempotencyKeyReused"/>: the fields that differ from the call kept under the request id.</param>
public sealed record UsageResult(
    string RequestId,
    UsageKind Kind,
    bool Duplicate,
    string Label,
    string PackageId,
    long PackageRemaining,
    string ChargedAccountId,
    RefusalReason Refusal,
    string PriceBook,
    IReadOnlyList<string>? DifferingFields = null)
{
    public bool Billable => Kind is UsageKind.Package or UsageKind.Postpaid;

    public static UsageResult Refused(string requestId, string chargedAccountId, RefusalReason reason, IReadOnlyList<string>? differingFields = null) =>
        new(requestId, UsageKind.Refused, false, "", "", 0, chargedAccountId, reason, "", differingFields);
}
