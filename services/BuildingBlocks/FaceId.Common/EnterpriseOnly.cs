namespace FaceId.Common;

/// <summary>
/// R-ONB-4: only enterprise-verified main accounts may use E证通 — apply for its merchant id (Onboarding),
/// buy its packages (Packages) or meter its calls (Metering). One refusal for the three.
/// </summary>
public static class EnterpriseOnly
{
    /// <summary>The ErrorInfo reason of the refusal.</summary>
    public const string NotVerifiedReason = "ENTERPRISE_NOT_VERIFIED";

    public static PreconditionFailedException NotVerified(string accountId) => new(NotVerifiedReason, accountId,
        "Only enterprise-verified accounts may use E证通; submit an enterprise verification first (R-ONB-4).");
}
