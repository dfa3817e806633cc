using System.Runtime.CompilerServices;
using FaceId.Common;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Onboarding.Application;
using FaceId.Onboarding.Application.Notifications;
using FaceId.Onboarding.Application.Webhooks;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using ApplicationForm = FaceId.Onboarding.Application.ApplicationForm;
using FaceId.Auth;
using FaceId.ServiceDefaults.Security;
using Microsoft.AspNetCore.RateLimiting;

namespace FaceId.Onboarding.Grpc;

/// <summary>Maps messages to the onboarding application classes and back; no rules here.</summary>
public sealed class OnboardingGrpcService(
    AccountsApplication accounts,
    ServiceApplications applications,
    EnterpriseApplication enterprise,
    InboxApplication inbox,
    WebhooksApplication webhooks) : OnboardingService.OnboardingServiceBase
{
    [EnableRateLimiting(RateLimits.PerCaller)]
    [Allow(Roles.Service)]
    public override async Task<Account> CreateAccount(CreateAccountRequest request, ServerCallContext context) =>
        ToProto(await accounts.CreateAsync(request.IdempotencyKey, request.DisplayName, ToContact(request.Contacts)));

    [Allow(Roles.Console, Roles.Service, AccountField = "main_account_id")]
    public override async Task<Account> CreateSubAccount(CreateSubAccountRequest request, ServerCallContext context) =>
        ToProto(await accounts.CreateSubAsync(request.IdempotencyKey, request.MainAccountId, request.DisplayName));

    [Allow(Roles.Console, Roles.SubAccount, Roles.Reviewer, Roles.BillingOperator, Roles.Service, AccountField = "account_id")]
    public override async Task<Account> GetAccount(GetAccountRequest request, ServerCallContext context) =>
        ToProto(await accounts.GetAsync(request.AccountId));

    [Allow(Roles.Console, Roles.Service, AccountField = "main_account_id")]
    public override async Task<ListSubAccountsResponse> ListSubAccounts(ListSubAccountsRequest request, ServerCallContext context)
    {
        var all = await accounts.ListSubAccountsAsync(request.MainAccountId);
        var (page, next) = Paging.Take(all, request.Page?.PageSize ?? 0, request.Page?.PageToken ?? "");
        return new ListSubAccountsResponse { Accounts = { page.Select(ToProto) }, NextPageToken = next };
    }

    [Allow(Roles.Console, Roles.Service, AccountField = "account_id")]
    public override async Task<Account> UpdateContacts(UpdateContactsRequest request, ServerCallContext context) =>
        ToProto(await accounts.UpdateContactsAsync(request.AccountId, ToContact(request.Contacts)));

    [EnableRateLimiting(RateLimits.PerCaller)]
    [Allow(Roles.Console, Roles.Service, AccountField = "form.account_id")]
    public override async Task<Contracts.Onboarding.V1.Application> SubmitApplication(IAsyncStreamReader<SubmitApplicationChunk> requestStream, ServerCallContext context)
    {
        ApplicationForm? form = null;
        if (await requestStream.MoveNext(context.CancellationToken) && requestStream.Current.PartCase == SubmitApplicationChunk.PartOneofCase.Form)
        {
            var f = requestStream.Current.Form;
            form = new ApplicationForm(f.IdempotencyKey, f.AccountId, f.BusinessScenario, ToContact(f.Contact), f.LicenseFileName);
        }
        return ToProto(await applications.SubmitAsync(form, LicenseChunks(requestStream, context.CancellationToken), context.CancellationToken));
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> LicenseChunks(IAsyncStreamReader<SubmitApplicationChunk> stream, [EnumeratorCancellation] CancellationToken ct)
    {
        while (await stream.MoveNext(ct))
        {
            if (stream.Current.PartCase != SubmitApplicationChunk.PartOneofCase.LicenseChunk)
                throw new InvalidInputException("form", "the form may only be sent in the first message");
            yield return stream.Current.LicenseChunk.Memory;
        }
    }

    [Allow(Roles.Reviewer, Roles.Service)]
    public override async Task<Contracts.Onboarding.V1.Application> GetApplication(GetApplicationRequest request, ServerCallContext context) =>
        ToProto(await applications.GetAsync(request.ApplicationId));

    [Allow(Roles.Reviewer, Roles.Console, Roles.Service, AccountField = "account_id")]
    public override async Task ReadLicenseDocument(ReadLicenseDocumentRequest request, IServerStreamWriter<LicenseDocumentChunk> responseStream, ServerCallContext context)
    {
        var caller = CallerIdentity.From(context.GetHttpContext().User);
        await using var license = await applications.OpenLicenseAsync(request.AccountId, request.ApplicationId, new LicenseReader(caller.Subject, caller.Roles));
        var doc = license.Application.License;
        await responseStream.WriteAsync(new LicenseDocumentChunk
        {
            Info = new LicenseDocumentInfo
            {
                ContentType = license.ContentType,
                Type = ToProto(doc.Kind),
                SizeBytes = doc.SizeBytes,
                Sha256 = doc.Sha256,
                FileName = license.Application.LicenseFileName,
            },
        });
        var buffer = new byte[applications.MaxChunkBytes];
        int read;
        while ((read = await license.Content.ReadAsync(buffer, context.CancellationToken)) > 0)
            await responseStream.WriteAsync(new LicenseDocumentChunk { Data = Google.Protobuf.ByteString.CopyFrom(buffer, 0, read) });
    }

    [Allow(Roles.Console, Roles.Reviewer, Roles.Service, AccountField = "account_id")]
    public override async Task<ListApplicationsResponse> ListApplications(ListApplicationsRequest request, ServerCallContext context)
    {
        var all = await applications.ListForAccountAsync(request.AccountId);
        var (page, next) = Paging.Take(all, request.Page?.PageSize ?? 0, request.Page?.PageToken ?? "");
        return new ListApplicationsResponse { Applications = { page.Select(ToProto) }, NextPageToken = next };
    }

    [Allow(Roles.Reviewer, Roles.Service)]
    public override async Task<ListPendingApplicationsResponse> ListPendingApplications(ListPendingApplicationsRequest request, ServerCallContext context)
    {
        var (page, next) = await applications.ListPendingAsync(request.Page?.PageSize ?? 0, request.Page?.PageToken ?? "");
        return new ListPendingApplicationsResponse
        {
            Applications = { page.Select(p => new PendingApplication { Application = ToProto(p.Application), AgeWorkingDays = p.AgeWorkingDays, Overdue = p.Overdue }) },
            NextPageToken = next,
            TargetWorkingDays = ReviewSla.TargetWorkingDays,
        };
    }

    [Allow(Roles.Reviewer)]
    public override async Task<Contracts.Onboarding.V1.Application> ReviewApplication(ReviewApplicationRequest request, ServerCallContext context)
    {
        return ToProto(await applications.ReviewAsync(request.IdempotencyKey, request.ApplicationId, ToDecision(request.Decision), request.Reason, request.ReviewerId));
    }

    [EnableRateLimiting(RateLimits.PerCaller)]
    [Allow(Roles.Console, Roles.Service, AccountField = "account_id")]
    public override async Task<EnterpriseVerification> SubmitEnterpriseVerification(SubmitEnterpriseVerificationRequest request, ServerCallContext context) =>
        ToProto(await enterprise.SubmitVerificationAsync(request.IdempotencyKey, request.AccountId, request.CompanyName,
            request.UnifiedSocialCreditCode, request.LegalRepresentative));

    [Allow(Roles.Console, Roles.Reviewer, Roles.Service, AccountField = "account_id")]
    public override async Task<EnterpriseVerification> GetEnterpriseVerification(GetEnterpriseVerificationRequest request, ServerCallContext context) =>
        ToProto(await enterprise.GetVerificationAsync(request.AccountId));

    [EnableRateLimiting(RateLimits.PerCaller)]
    [Allow(Roles.Console, Roles.Service, AccountField = "account_id")]
    public override async Task<MerchantIdApplication> ApplyMerchantId(ApplyMerchantIdRequest request, ServerCallContext context) =>
        ToProto(await enterprise.ApplyMerchantIdAsync(request.IdempotencyKey, request.AccountId));

    [Allow(Roles.Reviewer)]
    public override async Task<MerchantIdApplication> ReviewMerchantId(ReviewMerchantIdRequest request, ServerCallContext context) =>
        ToProto(await enterprise.ReviewMerchantIdAsync(request.IdempotencyKey, request.ApplicationId, ToDecision(request.Decision), request.Reason, request.ReviewerId));

    [Allow(Roles.Reviewer)]
    public override async Task<ListPendingMerchantIdsResponse> ListPendingMerchantIds(ListPendingMerchantIdsRequest request, ServerCallContext context)
    {
        var (page, next) = await enterprise.ListPendingMerchantIdsAsync(request.Page?.PageSize ?? 0, request.Page?.PageToken ?? "");
        return new ListPendingMerchantIdsResponse
        {
            Requests = { page.Select(p => new PendingMerchantId { Request = ToProto(p.Request), AgeWorkingDays = p.AgeWorkingDays, Overdue = p.Overdue }) },
            NextPageToken = next,
            TargetWorkingDays = ReviewSla.TargetWorkingDays,
        };
    }

    [Allow(Roles.Console, Roles.Reviewer, Roles.Service, AccountField = "account_id")]
    public override async Task<MerchantIdApplication> GetMerchantId(GetMerchantIdRequest request, ServerCallContext context) =>
        ToProto(await enterprise.GetMerchantIdAsync(request.AccountId));

    [Allow(Roles.Console, Roles.Service, AccountField = "account_id")]
    public override async Task<ListInboxResponse> ListInbox(ListInboxRequest request, ServerCallContext context)
    {
        var (page, next) = await inbox.ListAsync(request.AccountId, request.UnreadOnly, request.Page?.PageSize ?? 0, request.Page?.PageToken ?? "");
        return new ListInboxResponse { Messages = { page.Messages.Select(ToProto) }, UnreadCount = page.UnreadCount, NextPageToken = next };
    }

    [Allow(Roles.Console, Roles.Service, AccountField = "account_id")]
    public override async Task<MarkInboxReadResponse> MarkInboxRead(MarkInboxReadRequest request, ServerCallContext context) =>
        new() { UnreadCount = await inbox.MarkReadAsync(request.AccountId, request.MessageIds) };

    [Allow(Roles.Console, AccountField = "account_id")]
    public override async Task<WebhookEndpointWithSecret> CreateWebhookEndpoint(CreateWebhookEndpointRequest request, ServerCallContext context)
    {
        var (endpoint, secret) = await webhooks.CreateAsync(request.IdempotencyKey, request.AccountId, request.Url, request.EventTypes, request.Description, context.CancellationToken);
        return new WebhookEndpointWithSecret { Endpoint = ToProto(endpoint), Secret = secret };
    }

    [Allow(Roles.Console, AccountField = "account_id")]
    public override async Task<ListWebhookEndpointsResponse> ListWebhookEndpoints(ListWebhookEndpointsRequest request, ServerCallContext context) =>
        new() { Endpoints = { (await webhooks.ListAsync(request.AccountId)).Select(ToProto) } };

    [Allow(Roles.Console, AccountField = "account_id")]
    public override async Task<WebhookEndpoint> UpdateWebhookEndpoint(UpdateWebhookEndpointRequest request, ServerCallContext context) =>
        ToProto(await webhooks.UpdateAsync(request.AccountId, request.EndpointId, request.Url, request.EventTypes, request.Description, context.CancellationToken));

    [Allow(Roles.Console, AccountField = "account_id")]
    public override async Task<WebhookEndpoint> SetWebhookEndpointEnabled(SetWebhookEndpointEnabledRequest request, ServerCallContext context) =>
        ToProto(await webhooks.SetEnabledAsync(request.AccountId, request.EndpointId, request.Enabled));

    [Allow(Roles.Console, AccountField = "account_id")]
    public override async Task<DeleteWebhookEndpointResponse> DeleteWebhookEndpoint(DeleteWebhookEndpointRequest request, ServerCallContext context)
    {
        await webhooks.DeleteAsync(request.AccountId, request.EndpointId);
        return new DeleteWebhookEndpointResponse();
    }

    [Allow(Roles.Console, AccountField = "account_id")]
    public override async Task<WebhookEndpointWithSecret> RotateWebhookSecret(RotateWebhookSecretRequest request, ServerCallContext context)
    {
        var (endpoint, secret) = await webhooks.RotateSecretAsync(request.AccountId, request.EndpointId, request.GraceSeconds);
        return new WebhookEndpointWithSecret { Endpoint = ToProto(endpoint), Secret = secret };
    }

    [Allow(Roles.Console, AccountField = "account_id")]
    public override async Task<ListWebhookDeliveriesResponse> ListWebhookDeliveries(ListWebhookDeliveriesRequest request, ServerCallContext context)
    {
        var (page, next) = await webhooks.ListDeliveriesAsync(request.AccountId, request.EndpointId, request.Page?.PageSize ?? 0, request.Page?.PageToken ?? "");
        return new ListWebhookDeliveriesResponse { Deliveries = { page.Select(ToProto) }, NextPageToken = next };
    }

    [Allow(Roles.Console, AccountField = "account_id")]
    public override async Task<WebhookDelivery> RedeliverWebhook(RedeliverWebhookRequest request, ServerCallContext context) =>
        ToProto(await webhooks.RedeliverAsync(request.AccountId, request.EndpointId, request.DeliveryId));

    private static WebhookEndpoint ToProto(WebhookEndpointRecord e) => new()
    {
        EndpointId = e.Id,
        AccountId = e.AccountId,
        Url = e.Url,
        EventTypes = { e.EventTypes },
        Enabled = e.Enabled,
        DisabledReason = e.DisabledReason,
        CreatedAt = Timestamp.FromDateTimeOffset(e.CreatedAt),
        UpdatedAt = Timestamp.FromDateTimeOffset(e.UpdatedAt),
        PreviousSecretExpiresAt = e.PreviousSecretUntil is { } u ? Timestamp.FromDateTimeOffset(u) : null,
        ConsecutiveFailures = e.Failures,
        Description = e.Description,
    };

    private static WebhookDelivery ToProto(WebhookDeliveryRecord d) => new()
    {
        DeliveryId = d.Id,
        EndpointId = d.EndpointId,
        EventId = d.EventId,
        EventType = d.EventType,
        State = d.State switch
        {
            Application.Webhooks.WebhookDeliveryState.Delivered => Contracts.Onboarding.V1.WebhookDeliveryState.Delivered,
            Application.Webhooks.WebhookDeliveryState.Failed => Contracts.Onboarding.V1.WebhookDeliveryState.Failed,
            Application.Webhooks.WebhookDeliveryState.Pending => Contracts.Onboarding.V1.WebhookDeliveryState.Pending,
            var other => throw new InvalidOperationException($"unknown webhook delivery state '{other}' from the onboarding application"),
        },
        CreatedAt = Timestamp.FromDateTimeOffset(d.CreatedAt),
        NextAttemptAt = d.State == Application.Webhooks.WebhookDeliveryState.Pending && d.NextAttemptAt is { } n ? Timestamp.FromDateTimeOffset(n) : null,
        Attempts =
        {
            d.Log.Select(a => new WebhookAttempt
            {
                At = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(a.AtMs)), StatusCode = a.StatusCode, LatencyMs = a.LatencyMs, Error = a.Error,
            }),
        },
        Payload = d.Payload,
    };

    private static bool? ToDecision(ReviewDecision d) => d switch { ReviewDecision.Approve => true, ReviewDecision.Reject => false, _ => null };

    private static EnterpriseVerification ToProto(EnterpriseVerificationRecord v) => new()
    {
        AccountId = v.AccountId,
        Verified = true,
        CompanyName = v.CompanyName,
        UnifiedSocialCreditCode = v.UnifiedSocialCreditCode,
        LegalRepresentative = v.LegalRepresentative,
        VerifiedAt = Timestamp.FromDateTimeOffset(v.VerifiedAt),
    };

    private static MerchantIdApplication ToProto(MerchantIdRecord m) => new()
    {
        ApplicationId = m.ApplicationId,
        AccountId = m.AccountId,
        Status = m.State switch
        {
            MerchantIdState.Issued => MerchantIdStatus.Issued,
            MerchantIdState.Rejected => MerchantIdStatus.Rejected,
            MerchantIdState.Pending => MerchantIdStatus.Pending,
            var other => throw new InvalidOperationException($"unknown merchant-id application state '{other}' from the onboarding application"),
        },
        MerchantId = m.MerchantId,
        ReviewReason = m.ReviewReason,
        SubmittedAt = Timestamp.FromDateTimeOffset(m.SubmittedAt),
        ReviewedAt = m.ReviewedAt is { } r ? Timestamp.FromDateTimeOffset(r) : null,
        ReviewerId = m.Reviewer,
    };

    private static InboxMessage ToProto(InboxMessageRecord m) => new()
    {
        MessageId = m.Id,
        AccountId = m.AccountId,
        Kind = m.Kind,
        Title = m.Title,
        Body = m.Body,
        CreatedAt = Timestamp.FromDateTimeOffset(m.CreatedAt),
        Read = m.Read,
    };

    private static ContactInfo ToContact(Contacts? c) => new(c?.Email ?? "", c?.Mobile ?? "", c?.Name ?? "");

    private static Contacts ToProto(ContactInfo c) => new() { Email = c.Email, Mobile = c.Mobile, Name = c.Name };

    private static Account ToProto(AccountRecord a) => new()
    {
        AccountId = a.Id,
        MainAccountId = a.MainAccountId ?? "",
        DisplayName = a.DisplayName,
        Contacts = ToProto(a.Contacts),
        ServiceState = a.MainAccountId is not null ? ServiceState.Unspecified : a.State switch
        {
            ServiceStateKind.PendingReview => ServiceState.PendingReview,
            ServiceStateKind.Opened => ServiceState.Opened,
            ServiceStateKind.Suspended => ServiceState.Suspended,
            ServiceStateKind.NotApplied => ServiceState.NotApplied,
            var other => throw new InvalidOperationException($"unknown service state '{other}' from the onboarding application"),
        },
        ActivatedAt = a.ActivatedAt is { } at ? Timestamp.FromDateTimeOffset(at) : null,
        PriceBook = a.PriceBook,
        SettlementCycle = a.Cycle switch
        {
            "daily" => Contracts.Common.V1.SettlementCycle.Daily,
            "monthly" => Contracts.Common.V1.SettlementCycle.Monthly,
            "" => Contracts.Common.V1.SettlementCycle.Unspecified, // not opened yet
            var other => throw new InvalidOperationException($"unknown stored settlement cycle '{other}' of account {a.Id}"),
        },
        EnterpriseVerified = a.EnterpriseVerified,
        CreatedAt = Timestamp.FromDateTimeOffset(a.CreatedAt),
    };

    private static Contracts.Onboarding.V1.Application ToProto(ApplicationRecord a) => new()
    {
        ApplicationId = a.Id,
        AccountId = a.AccountId,
        BusinessScenario = a.BusinessScenario,
        Contact = ToProto(a.Contact),
        License = new LicenseDocument
        {
            Type = ToProto(a.License.Kind),
            SizeBytes = a.License.SizeBytes,
            Sha256 = a.License.Sha256,
            FileName = a.LicenseFileName,
        },
        Status = ToProto(a.State),
        ReviewReason = a.ReviewReason,
        SubmittedAt = Timestamp.FromDateTimeOffset(a.SubmittedAt),
        ReviewedAt = a.ReviewedAt is { } r ? Timestamp.FromDateTimeOffset(r) : null,
        History =
        {
            a.History.Select(h => new ApplicationEvent
            {
                Status = ToProto(StoredWords.ToApplicationState(h.Status, a.Id)),
                At = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(h.AtMs)),
                Actor = h.Actor,
                Reason = h.Reason,
            }),
        },
        LicenseReads =
        {
            a.LicenseReads.Select(r => new LicenseRead
            {
                Subject = r.Subject,
                Roles = { r.Roles },
                At = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(r.AtMs)),
                Sha256 = r.Sha256,
            }),
        },
    };

    private static DocumentType ToProto(DocumentKind k) => k switch
    {
        DocumentKind.Pdf => DocumentType.Pdf,
        DocumentKind.Jpeg => DocumentType.Jpeg,
        DocumentKind.Png => DocumentType.Png,
        _ => throw new InvalidOperationException($"unknown document kind '{k}' from the onboarding application"),
    };

    private static ApplicationStatus ToProto(ApplicationState s) => s switch
    {
        ApplicationState.Approved => ApplicationStatus.Approved,
        ApplicationState.Rejected => ApplicationStatus.Rejected,
        ApplicationState.Pending => ApplicationStatus.Pending,
        _ => throw new InvalidOperationException($"unknown application state '{s}' from the onboarding application"),
    };
}
