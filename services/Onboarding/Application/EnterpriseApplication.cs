using FaceId.Common;

namespace FaceId.Onboarding.Application;

/// <summary>
/// Enterprise verification (R-ONB-4) and E证通 merchant ids (R-ONB-5) of main accounts.
/// A verification is accepted when the submission is well formed (the credit code passes
/// GB 32100-2015); checking it against the business registry is outside the platform.
/// </summary>
public sealed class EnterpriseApplication(AccountStore accounts, EnterpriseStore store, TimeProvider time)
{
    public const int MaxCompanyNameLength = FieldLimits.CompanyName;
    public const int MaxLegalRepresentativeLength = FieldLimits.PersonOrDisplayName;
    public const int MaxReasonLength = FieldLimits.Reason;

    public async Task<EnterpriseVerificationRecord> SubmitVerificationAsync(string idempotencyKey, string accountId, string companyName, string code, string legalRepresentative)
    {
        var v = new InputValidator()
            .Id("idempotency_key", idempotencyKey)
            .Id("account_id", accountId)
            .Text("company_name", companyName, MaxCompanyNameLength)
            .Text("legal_representative", legalRepresentative, MaxLegalRepresentativeLength);
        if (UnifiedSocialCreditCode.Problem(code) is { } problem) v.Add("unified_social_credit_code", problem);
        v.ThrowIfInvalid();
        await RequireMainAccountAsync(accountId);
        // Later submissions update the verification, so the key keeps a fingerprint of what this one asked.
        var fingerprint = IdempotentRequest.Fingerprint(("company_name", companyName), ("unified_social_credit_code", code),
            ("legal_representative", legalRepresentative));
        var result = await store.SubmitVerificationAsync(idempotencyKey, accountId, companyName, code, legalRepresentative, fingerprint);
        switch (result.Outcome)
        {
            case VerificationOutcome.Verified or VerificationOutcome.Updated: break;
            case VerificationOutcome.Duplicate: IdempotentRequest.ThrowIfReused("idempotency_key", result.Fingerprint, fingerprint); break;
            case VerificationOutcome.NoAccount: throw new NotFoundException("account", accountId);
            case VerificationOutcome.SubAccount: throw NotMain(accountId);
            case VerificationOutcome.Conflict:
                throw new PreconditionFailedException("ENTERPRISE_ALREADY_VERIFIED", accountId,
                    "The account is already verified as another enterprise (different unified social credit code).");
            case var other: throw new InvalidOperationException($"unknown verification outcome '{other}'");
        }
        return await GetVerificationAsync(accountId);
    }

    public async Task<EnterpriseVerificationRecord> GetVerificationAsync(string accountId)
    {
        new InputValidator().Id("account_id", accountId).ThrowIfInvalid();
        await RequireMainAccountAsync(accountId);
        return await store.GetVerificationAsync(accountId) ?? throw new NotFoundException("enterprise_verification", accountId);
    }

    /// <summary>Applies for an E证通 merchant id: enterprise-verified accounts with an opened service only.</summary>
    public async Task<MerchantIdRecord> ApplyMerchantIdAsync(string idempotencyKey, string accountId)
    {
        new InputValidator().Id("idempotency_key", idempotencyKey).Id("account_id", accountId).ThrowIfInvalid();
        await RequireMainAccountAsync(accountId);
        var (outcome, id) = await store.ApplyMerchantIdAsync(idempotencyKey, accountId);
        return outcome switch
        {
            MerchantApplyOutcome.Filed or MerchantApplyOutcome.Duplicate => await GetMerchantApplicationAsync(id),
            MerchantApplyOutcome.NoAccount => throw new NotFoundException("account", accountId),
            MerchantApplyOutcome.SubAccount => throw NotMain(accountId),
            MerchantApplyOutcome.NotVerified => throw EnterpriseOnly.NotVerified(accountId),
            MerchantApplyOutcome.NotOpened => throw new PreconditionFailedException("SERVICE_NOT_OPENED", accountId,
                "The service must be opened (an approved application) before applying for an E证通 merchant id."),
            MerchantApplyOutcome.Issued => throw new PreconditionFailedException("MERCHANT_ID_ALREADY_ISSUED", accountId,
                $"The account already has an E证通 merchant id (application {id})."),
            MerchantApplyOutcome.Pending => throw new PreconditionFailedException("MERCHANT_ID_PENDING", accountId,
                $"Merchant-id application {id} is still waiting for review."),
            var other => throw new InvalidOperationException($"unknown merchant-id apply outcome '{other}'"),
        };
    }

    /// <summary>Issues (approve) or rejects with a reason; deciding twice the same way is a no-op.</summary>
    public async Task<MerchantIdRecord> ReviewMerchantIdAsync(string idempotencyKey, string applicationId, bool? approve, string reason, string reviewerId)
    {
        new InputValidator()
            .Id("idempotency_key", idempotencyKey)
            .Id("application_id", applicationId)
            .Id("reviewer_id", reviewerId)
            .Require(approve is not null, "decision", "must be APPROVE or REJECT")
            .Text("reason", reason, MaxReasonLength, required: approve == false)
            .ThrowIfInvalid();
        var app = await GetMerchantApplicationAsync(applicationId);
        var reviewed = await store.ReviewMerchantIdAsync(app, idempotencyKey, approve!.Value, reason, reviewerId, time.GetUtcNow());
        if (reviewed.Outcome is ReviewOutcome.Decided) return await GetMerchantApplicationAsync(applicationId);
        if (reviewed.Outcome is ReviewOutcome.Unchanged or ReviewOutcome.Conflict)
        {
            var decided = await GetMerchantApplicationAsync(applicationId);
            ReviewRetry.ThrowIfKeyReused(new(decided.ReviewKey, decided.State == MerchantIdState.Issued, decided.ReviewReason, decided.Reviewer),
                new(idempotencyKey, approve.Value, reason, reviewerId));
            if (reviewed.Outcome is ReviewOutcome.Unchanged) return decided;
        }
        return reviewed.Outcome switch
        {
            ReviewOutcome.Missing => throw new NotFoundException("merchant_id_application", applicationId),
            ReviewOutcome.Conflict => throw new PreconditionFailedException("MERCHANT_ID_ALREADY_REVIEWED", applicationId,
                $"Merchant-id application {applicationId} was already {(approve.Value ? "rejected" : "issued")}."),
            var other => throw new InvalidOperationException($"unknown review outcome '{other}'"),
        };
    }

    /// <summary>The account's merchant id application: the issued one, else the latest.</summary>
    public async Task<MerchantIdRecord> GetMerchantIdAsync(string accountId)
    {
        new InputValidator().Id("account_id", accountId).ThrowIfInvalid();
        await RequireMainAccountAsync(accountId);
        return await store.GetLatestMerchantApplicationAsync(accountId) ?? throw new NotFoundException("merchant_id", accountId);
    }

    /// <summary>
    /// The reviewers' queue of merchant-id applications, oldest first, paged (page.page_size,
    /// page.page_token), each with its age in working days against the review target (R-ONB-5).
    /// </summary>
    public async Task<(IReadOnlyList<PendingMerchantIdRecord> Page, string NextPageToken)> ListPendingMerchantIdsAsync(int pageSize, string pageToken)
    {
        var (size, offset) = Paging.Parse(pageSize, pageToken);
        var (pending, more) = await store.ListPendingMerchantIdsAsync(offset, size);
        var now = time.GetUtcNow();
        var page = pending.Select(m =>
        {
            var (days, overdue) = ReviewSla.AgeOf(m.SubmittedAt, now);
            return new PendingMerchantIdRecord(m, days, overdue);
        }).ToList();
        return (page, more ? Paging.Encode(offset + size) : "");
    }

    private async Task<MerchantIdRecord> GetMerchantApplicationAsync(string applicationId) =>
        await store.GetMerchantApplicationAsync(applicationId) ?? throw new NotFoundException("merchant_id_application", applicationId);

    private async Task RequireMainAccountAsync(string accountId)
    {
        var account = await accounts.GetAccountAsync(accountId) ?? throw new NotFoundException("account", accountId);
        if (account.MainAccountId is not null) throw NotMain(accountId);
    }

    private static PreconditionFailedException NotMain(string accountId) =>
        new("NOT_A_MAIN_ACCOUNT", accountId, "Enterprise verification and E证通 belong to main accounts (R-ACC-1).");
}
