namespace FaceId.Onboarding.Application;

public enum ServiceStateKind { NotApplied, PendingReview, Opened, Suspended }

public sealed record ContactInfo(string Email, string Mobile, string Name);

public sealed record AccountRecord(
    string Id,
    string? MainAccountId,
    string DisplayName,
    ContactInfo Contacts,
    ServiceStateKind State,
    DateTimeOffset? ActivatedAt,
    string PriceBook,
    string Cycle,
    bool EnterpriseVerified,
    DateTimeOffset CreatedAt);

public enum ApplicationState { Pending, Approved, Rejected }

public sealed record ApplicationHistoryEntry(string Status, long AtMs, string Actor, string Reason);

public sealed record ApplicationRecord(
    string Id,
    string AccountId,
    string BusinessScenario,
    ContactInfo Contact,
    StoredDocument License,
    string LicenseFileName,
    ApplicationState State,
    string ReviewReason,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? ReviewedAt,
    IReadOnlyList<ApplicationHistoryEntry> History)
{
    /// <summary>Reads of the business license, newest first (the latest <see cref="AccountStore.LicenseReadsKept"/>).</summary>
    public IReadOnlyList<LicenseReadEntry> LicenseReads { get; init; } = [];

    /// <summary>Who decided the application ("" while pending).</summary>
    public string Reviewer { get; init; } = "";

    /// <summary>The idempotency key of the review that decided it ("" while pending).</summary>
    public string ReviewKey { get; init; } = "";
}

/// <summary>One read of an application's business license: who (token subject and roles), when, which document.</summary>
public sealed record LicenseReadEntry(string Subject, IReadOnlyList<string> Roles, long AtMs, string Sha256);

public sealed record ApplicationForm(string IdempotencyKey, string AccountId, string BusinessScenario, ContactInfo Contact, string LicenseFileName);

public sealed record EnterpriseVerificationRecord(
    string AccountId,
    string CompanyName,
    string UnifiedSocialCreditCode,
    string LegalRepresentative,
    DateTimeOffset VerifiedAt);

public enum MerchantIdState { Pending, Issued, Rejected }

public sealed record MerchantIdRecord(
    string ApplicationId,
    string AccountId,
    MerchantIdState State,
    string MerchantId,
    string ReviewReason,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? ReviewedAt)
{
    /// <summary>Who decided; empty while pending.</summary>
    public string Reviewer { get; init; } = "";

    /// <summary>The idempotency key of the review that decided it ("" while pending).</summary>
    public string ReviewKey { get; init; } = "";
}

/// <summary>An application waiting for review, with its age against the review target (<see cref="Common.ReviewSla"/>).</summary>
public sealed record PendingApplicationRecord(ApplicationRecord Application, int AgeWorkingDays, bool Overdue);

/// <summary>A merchant-id application waiting for review, with its age against the review target (<see cref="Common.ReviewSla"/>).</summary>
public sealed record PendingMerchantIdRecord(MerchantIdRecord Request, int AgeWorkingDays, bool Overdue);
