using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Metering.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Packages.V1;
using FaceId.TestKit;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;

namespace FaceId.Platform.Tests;

/// <summary>Steps of the onboarding → packages → metering slice, shared by the tests.</summary>
public static class Scenario
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>A 1×1 PNG standing in for a business license.</summary>
    public static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    public static async Task<Account> CreateAccountAsync(GrpcChannel onboarding, string? key = null) =>
        await new OnboardingService.OnboardingServiceClient(onboarding).CreateAccountAsync(new CreateAccountRequest
        {
            IdempotencyKey = key ?? TestIds.New("acct-key"),
            DisplayName = "Test Co.",
            Contacts = new Contacts { Email = "ops@example.com", Mobile = "13800138000", Name = "Han Meimei" },
        });

    public static async Task<Application> SubmitAsync(GrpcChannel onboarding, string accountId, byte[] license, string? key = null, string fileName = "license.png")
    {
        using var call = new OnboardingService.OnboardingServiceClient(onboarding).SubmitApplication();
        await call.RequestStream.WriteAsync(new SubmitApplicationChunk
        {
            Form = new ApplicationForm
            {
                IdempotencyKey = key ?? TestIds.New("app-key"),
                AccountId = accountId,
                BusinessScenario = "Remote account opening",
                Contact = new Contacts { Email = "ops@example.com", Mobile = "13800138000", Name = "Han Meimei" },
                LicenseFileName = fileName,
            },
        });
        foreach (var chunk in license.Chunk(64 * 1024))
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

    /// <summary>Creates an account, submits and approves its application; returns the account id.</summary>
    public static async Task<string> OpenServiceAsync(GrpcChannel onboarding)
    {
        var account = await CreateAccountAsync(onboarding);
        var application = await SubmitAsync(onboarding, account.AccountId, Png);
        await ApproveAsync(onboarding, application.ApplicationId);
        return account.AccountId;
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

    public static UsageRecord Usage(string accountId, string requestId, string label = "basic_authoritative", string code = "0", DateTimeOffset? at = null) => new()
    {
        RequestId = requestId,
        AccountId = accountId,
        Label = label,
        AccessMode = AccessMode.Saas,
        ReturnCode = code,
        OccurredAt = Timestamp.FromDateTimeOffset(at ?? DateTimeOffset.UtcNow),
    };

    public static async Task<UsageOutcome> RecordAsync(GrpcChannel metering, UsageRecord record) =>
        (await new MeteringService.MeteringServiceClient(metering).RecordUsageAsync(new RecordUsageRequest { Record = record })).Outcome;
}
