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
    public static byte[] Png => Onboard.Png;

    public static Task<Account> CreateAccountAsync(GrpcChannel onboarding, string? key = null) => Onboard.CreateAccountAsync(onboarding, key);

    public static Task<Application> SubmitAsync(GrpcChannel onboarding, string accountId, byte[] license, string? key = null, string fileName = "license.png") =>
        Onboard.SubmitAsync(onboarding, accountId, license, key, fileName);

    public static Task<Application> ApproveAsync(GrpcChannel onboarding, string applicationId, string reviewer = "reviewer-1") =>
        Onboard.ApproveAsync(onboarding, applicationId, reviewer);

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
