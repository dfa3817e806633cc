using FaceId.Billing.Grpc;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Metering.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Packages.V1;
using FaceId.Metering.Grpc;
using FaceId.Onboarding.Grpc;
using FaceId.Packages.Grpc;
using FaceId.TestKit;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace FaceId.Billing.Tests.Support;

/// <summary>Onboarding, Packages, Metering and Billing in process on one Redis and one fake clock.</summary>
public sealed class Platform : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private Platform(string redis, FakeTimeProvider clock, bool billingScheduler)
    {
        Clock = clock;
        Onboarding = Hosts.Start<OnboardingGrpcService>(redis, clock);
        Packages = Hosts.Start<PackagesGrpcService>(redis, clock);
        Metering = Hosts.Start<MeteringGrpcService>(redis, clock);
        Billing = Hosts.Billing(redis, clock, billingScheduler);
    }

    public static Platform Start(string redis, FakeTimeProvider clock, bool billingScheduler = true) => new(redis, clock, billingScheduler);

    public FakeTimeProvider Clock { get; }
    public InProcessService<OnboardingGrpcService> Onboarding { get; }
    public InProcessService<PackagesGrpcService> Packages { get; }
    public InProcessService<MeteringGrpcService> Metering { get; }
    public InProcessService<BillingGrpcService> Billing { get; }

    public OnboardingService.OnboardingServiceClient OnboardingClient => new(Onboarding.Channel);
    public PackagesService.PackagesServiceClient PackagesClient => new(Packages.Channel);
    public MeteringService.MeteringServiceClient MeteringClient => new(Metering.Channel);
    public BillingService.BillingServiceClient BillingClient => new(Billing.Channel);

    /// <summary>Creates a main account and approves its application now (fake time): the service opens (R-ONB-2).</summary>
    public static Task<string> OpenServiceAsync(InProcessService<OnboardingGrpcService> onboarding) => Onboard.OpenServiceAsync(onboarding.Channel);

    /// <summary>Waits until Billing knows the account's activation.</summary>
    public static Task<Balance> WaitForBillingAsync(InProcessService<BillingGrpcService> billing, string accountId) =>
        Eventually.GetAsync(async () =>
        {
            try
            {
                return await new BillingService.BillingServiceClient(billing.Channel).GetBalanceAsync(new GetBalanceRequest { AccountId = accountId });
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                return null;
            }
        }, b => b is not null, Timeout, $"Billing learned of {accountId}'s activation").ContinueWith(t => t.Result!);

    public async Task<string> OpenServiceAsync()
    {
        var accountId = await OpenServiceAsync(Onboarding);
        await Eventually.AssertAsync(async () => (await PackagesClient.ListPackagesAsync(new ListPackagesRequest { AccountId = accountId })).Packages.Count >= 6,
            Timeout, "the free trial was granted");
        await WaitForBillingAsync(Billing, accountId);
        return accountId;
    }

    public async Task<string> CreateSubAccountAsync(string mainAccountId)
    {
        var sub = await OnboardingClient.CreateSubAccountAsync(new CreateSubAccountRequest
        {
            IdempotencyKey = TestIds.New("sub-key"), MainAccountId = mainAccountId, DisplayName = "Branch office",
        });
        // Metering learns of it through Packages (AccountCreated): wait until Packages calls it a sub-account.
        await Eventually.AssertAsync(async () =>
        {
            try
            {
                await PackagesClient.ListPackagesAsync(new ListPackagesRequest { AccountId = sub.AccountId });
                return false;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
            {
                return true;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                return false;
            }
        }, Timeout, "Packages registered the sub-account");
        return sub.AccountId;
    }

    public Task<Package> BuyAsync(string accountId, string label, long size) =>
        PackagesClient.PurchasePackageAsync(new PurchasePackageRequest { OrderId = TestIds.New("order"), AccountId = accountId, Label = label, Size = size }).ResponseAsync;

    public static UsageRecord Call(string accountId, string label, DateTimeOffset at, string code = "0", AccessMode mode = AccessMode.Saas, string? requestId = null) => new()
    {
        RequestId = requestId ?? TestIds.New("req"),
        AccountId = accountId,
        Label = label,
        AccessMode = mode,
        ReturnCode = code,
        OccurredAt = Timestamp.FromDateTimeOffset(at),
    };

    public async Task<IReadOnlyList<UsageOutcome>> MeterAsync(IEnumerable<UsageRecord> records)
    {
        var outcomes = new List<UsageOutcome>();
        foreach (var chunk in records.Chunk(5_000))
            outcomes.AddRange((await MeteringClient.RecordUsageBatchAsync(new RecordUsageBatchRequest { Records = { chunk } })).Outcomes);
        return outcomes;
    }

    public async ValueTask DisposeAsync()
    {
        await Billing.DisposeAsync();
        await Metering.DisposeAsync();
        await Packages.DisposeAsync();
        await Onboarding.DisposeAsync();
    }
}
