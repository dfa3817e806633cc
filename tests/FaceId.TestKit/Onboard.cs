using FaceId.Contracts.Onboarding.V1;
using Google.Protobuf;
using Grpc.Net.Client;

namespace FaceId.TestKit;

/// <summary>
/// Opening a service through Onboarding's public API, as every end-to-end test needs it: create a
/// main account, submit an application with a business license, approve it (R-ONB-1, R-ONB-2).
/// The channel's caller must be allowed to (the TestKit's operator token is).
/// </summary>
public static class Onboard
{
    /// <summary>A 1×1 PNG standing in for a business license.</summary>
    public static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    public static readonly Contacts Contacts = new() { Email = "ops@example.com", Mobile = "13800138000", Name = "Han Meimei" };

    public static async Task<Account> CreateAccountAsync(GrpcChannel onboarding, string? key = null, string displayName = "Test Co.") =>
        await new OnboardingService.OnboardingServiceClient(onboarding).CreateAccountAsync(new CreateAccountRequest
        {
            IdempotencyKey = key ?? TestIds.New("acct-key"),
            DisplayName = displayName,
            Contacts = Contacts.Clone(),
        });

    /// <summary>Submits an application with <paramref name="license"/> (default: <see cref="Png"/>) in chunks of 64 KiB.</summary>
    public static async Task<Application> SubmitAsync(GrpcChannel onboarding, string accountId, byte[]? license = null, string? key = null, string fileName = "license.png")
    {
        using var call = new OnboardingService.OnboardingServiceClient(onboarding).SubmitApplication();
        await call.RequestStream.WriteAsync(new SubmitApplicationChunk
        {
            Form = new ApplicationForm
            {
                IdempotencyKey = key ?? TestIds.New("app-key"),
                AccountId = accountId,
                BusinessScenario = "Remote account opening",
                Contact = Contacts.Clone(),
                LicenseFileName = fileName,
            },
        });
        foreach (var chunk in (license ?? Png).Chunk(64 * 1024))
            await call.RequestStream.WriteAsync(new SubmitApplicationChunk { LicenseChunk = ByteString.CopyFrom(chunk) });
        await call.RequestStream.CompleteAsync();
        return await call;
    }

    public static Task<Application> ApproveAsync(GrpcChannel onboarding, string applicationId, string reviewer = "reviewer-1") =>
        new OnboardingService.OnboardingServiceClient(onboarding).ReviewApplicationAsync(new ReviewApplicationRequest
        {
            IdempotencyKey = TestIds.New("review"),
            ApplicationId = applicationId,
            Decision = ReviewDecision.Approve,
            ReviewerId = reviewer,
        }).ResponseAsync;

    /// <summary>A main account with a submitted, not yet reviewed application.</summary>
    public static async Task<(string AccountId, string ApplicationId)> AccountWithApplicationAsync(GrpcChannel onboarding, string displayName = "Test Co.")
    {
        var account = await CreateAccountAsync(onboarding, displayName: displayName);
        var application = await SubmitAsync(onboarding, account.AccountId);
        return (account.AccountId, application.ApplicationId);
    }

    /// <summary>A main account whose application is approved: the service is opened now; returns the account id.</summary>
    public static async Task<string> OpenServiceAsync(GrpcChannel onboarding, string displayName = "Test Co.")
    {
        var (accountId, applicationId) = await AccountWithApplicationAsync(onboarding, displayName);
        await ApproveAsync(onboarding, applicationId);
        return accountId;
    }
}
