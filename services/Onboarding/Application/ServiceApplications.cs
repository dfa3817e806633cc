using FaceId.Common;

namespace FaceId.Onboarding.Application;

/// <summary>Who reads a license: the caller's token subject and roles.</summary>
public sealed record LicenseReader(string Subject, IReadOnlyCollection<string> Roles);

/// <summary>An opened license: the application, the sniffed media type and the file, to stream and dispose.</summary>
public sealed record OpenedLicense(ApplicationRecord Application, string ContentType, FileStream Content) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Content.DisposeAsync();
}

/// <summary>Applications to open the service, with business-license upload and review (R-ONB-1, R-ONB-2).</summary>
public sealed class ServiceApplications(AccountStore store, DocumentStore documents, TimeProvider time)
{
    public const int MaxScenarioLength = FieldLimits.BusinessScenario;
    public const int MaxReasonLength = FieldLimits.Reason;

    /// <summary>Chunk size of a streamed license (<c>Documents:MaxChunkBytes</c>, at most 64 KiB).</summary>
    public int MaxChunkBytes => Math.Min(documents.Options.MaxChunkBytes, 64 * 1024);

    /// <summary>
    /// Validates the form and the account's state before any byte is stored, then streams the
    /// license into the document store and files the application.
    /// </summary>
    public async Task<ApplicationRecord> SubmitAsync(ApplicationForm? form, IAsyncEnumerable<ReadOnlyMemory<byte>> licenseChunks, CancellationToken ct)
    {
        if (form is null) throw new InvalidInputException("form", "the first message must carry the application form");
        var v = new InputValidator()
            .Id("form.idempotency_key", form.IdempotencyKey)
            .Id("form.account_id", form.AccountId)
            .Text("form.business_scenario", form.BusinessScenario, MaxScenarioLength)
            .Text("form.license_file_name", form.LicenseFileName, FieldLimits.FileName, required: false);
        AccountsApplication.ValidateContacts(form.Contact, v, "form.contact.", required: true);
        v.ThrowIfInvalid();
        var account = await store.GetAccountAsync(form.AccountId) ?? throw new NotFoundException("account", form.AccountId);
        if (account.MainAccountId is not null)
            throw new PreconditionFailedException("NOT_A_MAIN_ACCOUNT", form.AccountId, "Only a main account can apply to open the service.");

        await using var upload = documents.Begin("license_chunk");
        await foreach (var chunk in licenseChunks.WithCancellation(ct)) await upload.AppendAsync(chunk, ct);
        var license = await upload.CommitAsync(ct);

        var submitted = await store.SubmitApplicationAsync(form, license);
        ThrowIfRefused(submitted.Outcome, form.AccountId, submitted.ApplicationId);
        var filed = await GetAsync(submitted.ApplicationId);
        if (submitted.Outcome == SubmitOutcome.Duplicate) ThrowIfAnotherForm(filed, form, license);
        return filed;
    }

    /// <summary>A retry must repeat the form and license the key filed (an application keeps them unchanged).</summary>
    private static void ThrowIfAnotherForm(ApplicationRecord filed, ApplicationForm form, StoredDocument license) =>
        IdempotentRequest.ThrowIfDiffering("form.idempotency_key",
            ("form.business_scenario", filed.BusinessScenario, form.BusinessScenario),
            ("form.contact.email", filed.Contact.Email, form.Contact.Email),
            ("form.contact.mobile", filed.Contact.Mobile, form.Contact.Mobile),
            ("form.contact.name", filed.Contact.Name, form.Contact.Name),
            ("form.license_file_name", filed.LicenseFileName, form.LicenseFileName),
            ("license_chunk", filed.License.Sha256, license.Sha256));

    /// <summary>Turns submit-application.lua's refusals into their errors; returns for a filed or earlier application.</summary>
    public static void ThrowIfRefused(SubmitOutcome outcome, string accountId, string applicationId)
    {
        switch (outcome)
        {
            case SubmitOutcome.Filed or SubmitOutcome.Duplicate:
                return;
            case SubmitOutcome.Pending:
                throw new PreconditionFailedException("APPLICATION_PENDING", accountId, $"Application {applicationId} is still waiting for review.");
            case SubmitOutcome.Opened:
                throw new PreconditionFailedException("SERVICE_ALREADY_OPENED", accountId, "The service is already opened for this account.");
            case SubmitOutcome.SubAccount:
                throw new PreconditionFailedException("NOT_A_MAIN_ACCOUNT", accountId, "Only a main account can apply to open the service.");
            case SubmitOutcome.NoAccount:
                throw new NotFoundException("account", accountId);
            default:
                throw new InvalidOperationException($"unknown submit outcome '{outcome}'");
        }
    }

    public async Task<ApplicationRecord> GetAsync(string applicationId)
    {
        new InputValidator().Id("application_id", applicationId).ThrowIfInvalid();
        return await store.GetApplicationAsync(applicationId) ?? throw new NotFoundException("application", applicationId);
    }

    /// <summary>
    /// Opens an application's business license for reading by <paramref name="reader"/> and records
    /// the read. The application must belong to <paramref name="accountId"/>: another account's
    /// application is NOT_FOUND, exactly like an unknown one. A document missing from the store is
    /// FAILED_PRECONDITION <c>LICENSE_DOCUMENT_MISSING</c>; nothing is recorded then. The caller
    /// streams <see cref="OpenedLicense.Content"/> and disposes it.
    /// </summary>
    public async Task<OpenedLicense> OpenLicenseAsync(string accountId, string applicationId, LicenseReader reader)
    {
        new InputValidator().Id("account_id", accountId).Id("application_id", applicationId).ThrowIfInvalid();
        var app = await store.GetApplicationAsync(applicationId);
        if (app is null || app.AccountId != accountId)
            throw new NotFoundException("application", applicationId) { Reason = "APPLICATION_NOT_FOUND" };
        var content = documents.OpenRead(app.License)
            ?? throw new PreconditionFailedException("LICENSE_DOCUMENT_MISSING", applicationId,
                $"The business license of application {applicationId} is missing from the document store; ask the account to submit a new application.");
        try
        {
            await store.RecordLicenseReadAsync(app.AccountId, app.Id,
                new LicenseReadEntry(reader.Subject, reader.Roles.Order(StringComparer.Ordinal).ToList(), time.GetUtcNow().ToUnixTimeMilliseconds(), app.License.Sha256));
        }
        catch
        {
            await content.DisposeAsync();
            throw;
        }
        return new OpenedLicense(app, DocumentStore.ContentTypeOf(app.License.Kind), content);
    }

    public async Task<IReadOnlyList<ApplicationRecord>> ListForAccountAsync(string accountId)
    {
        new InputValidator().Id("account_id", accountId).ThrowIfInvalid();
        _ = await store.GetAccountAsync(accountId) ?? throw new NotFoundException("account", accountId);
        var ids = await store.ListApplicationIdsAsync(accountId);
        return (await Task.WhenAll(ids.Select(store.GetApplicationAsync))).OfType<ApplicationRecord>().ToList();
    }

    /// <summary>
    /// The reviewers' queue, oldest first, paged (page.page_size, page.page_token), each application
    /// with its age in working days against the review target (R-ONB-1).
    /// </summary>
    public async Task<(IReadOnlyList<PendingApplicationRecord> Page, string NextPageToken)> ListPendingAsync(int pageSize, string pageToken)
    {
        var (size, offset) = Paging.Parse(pageSize, pageToken);
        var pending = await store.ListPendingAsync(offset, size);
        var now = time.GetUtcNow();
        var page = pending.Select(a =>
        {
            var (days, overdue) = ReviewSla.AgeOf(a.SubmittedAt, now);
            return new PendingApplicationRecord(a, days, overdue);
        }).ToList();
        return (page, pending.Count == size ? Paging.Encode(offset + size) : "");
    }

    /// <summary>
    /// Approve (opens the service once) or reject with a reason; deciding twice the same way is a no-op.
    /// The key that decided is kept: reused for another decision, reason or reviewer it is refused (<see cref="ReviewRetry"/>).
    /// </summary>
    public async Task<ApplicationRecord> ReviewAsync(string idempotencyKey, string applicationId, bool? approve, string reason, string reviewerId)
    {
        var v = new InputValidator().Id("idempotency_key", idempotencyKey).Id("application_id", applicationId).Id("reviewer_id", reviewerId)
            .Require(approve is not null, "decision", "must be APPROVE or REJECT")
            .Text("reason", reason, MaxReasonLength, required: approve == false);
        v.ThrowIfInvalid();
        var app = await GetAsync(applicationId);
        var now = time.GetUtcNow();
        var (priceBook, cycle) = PriceBookPolicy.For(now);
        var reviewed = await store.ReviewAsync(app, idempotencyKey, approve!.Value, reason, reviewerId, now, priceBook, cycle);
        if (reviewed.Outcome is ReviewOutcome.Decided) return await GetAsync(applicationId);
        if (reviewed.Outcome is ReviewOutcome.Unchanged or ReviewOutcome.Conflict)
        {
            var decided = await GetAsync(applicationId);
            ReviewRetry.ThrowIfKeyReused(new(decided.ReviewKey, decided.State == ApplicationState.Approved, decided.ReviewReason, decided.Reviewer),
                new(idempotencyKey, approve.Value, reason, reviewerId));
            if (reviewed.Outcome is ReviewOutcome.Unchanged) return decided;
        }
        return reviewed.Outcome switch
        {
            ReviewOutcome.Conflict => throw new PreconditionFailedException("APPLICATION_ALREADY_REVIEWED", applicationId,
                $"Application {applicationId} was already {(approve.Value ? "rejected" : "approved")}; submit a new application instead."),
            ReviewOutcome.Missing => throw new NotFoundException("application", applicationId),
            var other => throw new InvalidOperationException($"unknown review outcome '{other}'"),
        };
    }
}
