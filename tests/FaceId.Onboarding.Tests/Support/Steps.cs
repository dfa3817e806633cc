using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Packages.V1;
using FaceId.TestKit;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace FaceId.Onboarding.Tests.Support;

/// <summary>Onboarding steps over gRPC, shared by the tests.</summary>
public static class Steps
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public const string Email = "ops@example.com";
    public const string Mobile = "13800138000";

    /// <summary>Real-format unified social credit codes (GB 32100-2015 check character verified).</summary>
    public const string CreditCode = "91350100M000100Y43";
    public const string OtherCreditCode = "9144030071526726XG";

    /// <summary>A 1×1 PNG standing in for a business license.</summary>
    public static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    public static OnboardingService.OnboardingServiceClient Client(GrpcChannel channel) => new(channel);

    public static Task<Account> CreateAccountAsync(GrpcChannel onboarding, string email = Email, string mobile = Mobile) =>
        Client(onboarding).CreateAccountAsync(new CreateAccountRequest
        {
            IdempotencyKey = TestIds.New("acct-key"),
            DisplayName = "Test Co.",
            Contacts = new Contacts { Email = email, Mobile = mobile, Name = "Han Meimei" },
        }).ResponseAsync;

    public static Task<Account> CreateSubAccountAsync(GrpcChannel onboarding, string mainId) =>
        Client(onboarding).CreateSubAccountAsync(new CreateSubAccountRequest
        {
            IdempotencyKey = TestIds.New("sub-key"), MainAccountId = mainId, DisplayName = "Branch",
        }).ResponseAsync;

    public static async Task<FaceId.Contracts.Onboarding.V1.Application> SubmitAsync(GrpcChannel onboarding, string accountId, Contacts? contact = null)
    {
        using var call = Client(onboarding).SubmitApplication();
        await call.RequestStream.WriteAsync(new SubmitApplicationChunk
        {
            Form = new ApplicationForm
            {
                IdempotencyKey = TestIds.New("app-key"),
                AccountId = accountId,
                BusinessScenario = "Remote account opening",
                Contact = contact ?? new Contacts { Email = Email, Mobile = Mobile, Name = "Han Meimei" },
                LicenseFileName = "license.png",
            },
        });
        await call.RequestStream.WriteAsync(new SubmitApplicationChunk { LicenseChunk = ByteString.CopyFrom(Png) });
        await call.RequestStream.CompleteAsync();
        return await call;
    }

    public static Task<FaceId.Contracts.Onboarding.V1.Application> ReviewAsync(GrpcChannel onboarding, string applicationId, bool approve, string reason = "") =>
        Client(onboarding).ReviewApplicationAsync(new ReviewApplicationRequest
        {
            IdempotencyKey = TestIds.New("review"),
            ApplicationId = applicationId,
            Decision = approve ? ReviewDecision.Approve : ReviewDecision.Reject,
            Reason = reason,
            ReviewerId = "reviewer-1",
        }).ResponseAsync;

    /// <summary>Creates an account, submits and approves its application; returns the account id.</summary>
    public static async Task<string> OpenServiceAsync(GrpcChannel onboarding)
    {
        var account = await CreateAccountAsync(onboarding);
        var application = await SubmitAsync(onboarding, account.AccountId);
        await ReviewAsync(onboarding, application.ApplicationId, approve: true);
        return account.AccountId;
    }

    public static Task<EnterpriseVerification> VerifyAsync(GrpcChannel onboarding, string accountId, string code = CreditCode, string? key = null) =>
        Client(onboarding).SubmitEnterpriseVerificationAsync(new SubmitEnterpriseVerificationRequest
        {
            IdempotencyKey = key ?? TestIds.New("ent-key"),
            AccountId = accountId,
            CompanyName = "福州示例科技有限公司",
            UnifiedSocialCreditCode = code,
            LegalRepresentative = "李雷",
        }).ResponseAsync;

    public static Task<MerchantIdApplication> ApplyMerchantIdAsync(GrpcChannel onboarding, string accountId, string? key = null) =>
        Client(onboarding).ApplyMerchantIdAsync(new ApplyMerchantIdRequest { IdempotencyKey = key ?? TestIds.New("mid-key"), AccountId = accountId }).ResponseAsync;

    public static Task<MerchantIdApplication> ReviewMerchantIdAsync(GrpcChannel onboarding, string applicationId, bool approve, string reason = "", string reviewer = "reviewer-1") =>
        Client(onboarding).ReviewMerchantIdAsync(new ReviewMerchantIdRequest
        {
            IdempotencyKey = TestIds.New("mid-review"),
            ApplicationId = applicationId,
            Decision = approve ? ReviewDecision.Approve : ReviewDecision.Reject,
            Reason = reason,
            ReviewerId = reviewer,
        }).ResponseAsync;

    public static Task<ListInboxResponse> InboxAsync(GrpcChannel onboarding, string accountId, bool unreadOnly = false, int pageSize = 0, string pageToken = "") =>
        Client(onboarding).ListInboxAsync(new ListInboxRequest
        {
            AccountId = accountId, UnreadOnly = unreadOnly,
            Page = new FaceId.Contracts.Common.V1.PageRequest { PageSize = pageSize, PageToken = pageToken },
        }).ResponseAsync;

    /// <summary>Every inbox message of the account (all pages).</summary>
    public static async Task<IReadOnlyList<InboxMessage>> AllInboxAsync(GrpcChannel onboarding, string accountId)
    {
        var all = new List<InboxMessage>();
        var token = "";
        do
        {
            var page = await InboxAsync(onboarding, accountId, pageSize: 500, pageToken: token);
            all.AddRange(page.Messages);
            token = page.NextPageToken;
        } while (token.Length > 0);
        return all;
    }

    /// <summary>Waits until Packages lists at least <paramref name="count"/> packages for the account.</summary>
    public static async Task<IReadOnlyList<Package>> WaitForPackagesAsync(GrpcChannel packages, string accountId, int count)
    {
        var client = new PackagesService.PackagesServiceClient(packages);
        return await Eventually.GetAsync(async () =>
        {
            try
            {
                return (IReadOnlyList<Package>)(await client.ListPackagesAsync(new ListPackagesRequest { AccountId = accountId })).Packages;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                return [];
            }
        }, list => list.Count >= count, Timeout, $"{count} packages for {accountId}");
    }
}
