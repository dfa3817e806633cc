using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Metering.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Packages.V1;
using FaceId.Metering.Grpc;
using FaceId.Onboarding.Grpc;
using FaceId.Packages.Grpc;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Xunit;

namespace FaceId.Platform.Tests;

/// <summary>
/// R-ONB-4 across the services: E证通 is refused over gRPC (PurchasePackage and RecordUsage: FAILED_PRECONDITION with the
/// reason; RecordUsageBatch: that record's outcome) until Onboarding's verification reaches the ledger as EnterpriseVerified.
/// </summary>
public sealed class EnterpriseOnlyTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private const string NotVerified = "ENTERPRISE_NOT_VERIFIED";
    private InProcessService<OnboardingGrpcService> _onboarding = null!;
    private InProcessService<PackagesGrpcService> _packages = null!;
    private InProcessService<MeteringGrpcService> _metering = null!;

    public Task InitializeAsync()
    {
        _onboarding = Hosts.InProcess<OnboardingGrpcService>(redis.ConnectionString);
        _packages = Hosts.InProcess<PackagesGrpcService>(redis.ConnectionString);
        _metering = Hosts.InProcess<MeteringGrpcService>(redis.ConnectionString);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _metering.DisposeAsync();
        await _packages.DisposeAsync();
        await _onboarding.DisposeAsync();
    }

    private static UsageRecord EidCall(string accountId) => new()
    {
        RequestId = TestIds.New("req"), AccountId = accountId, Channel = "eid", AccessMode = AccessMode.Saas, ReturnCode = "0",
        OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
    };

    [Fact]
    public async Task R_ONB_4_E证通_is_refused_with_its_reason_until_the_enterprise_verification_reaches_the_ledger()
    {
        var accountId = await Scenario.OpenServiceAsync(_onboarding.Channel);
        await Scenario.WaitForPackagesAsync(_packages.Channel, accountId, 6);
        var packages = new PackagesService.PackagesServiceClient(_packages.Channel);
        var metering = new MeteringService.MeteringServiceClient(_metering.Channel);
        var order = new PurchasePackageRequest { OrderId = TestIds.New("order"), AccountId = accountId, Label = "eid_authoritative", Size = 1000 };

        Assert.Equal(NotVerified, await RpcAssert.FailedPreconditionAsync(() => packages.PurchasePackageAsync(order).ResponseAsync));
        var single = EidCall(accountId);
        Assert.Equal(NotVerified, await RpcAssert.FailedPreconditionAsync(() => Scenario.RecordAsync(_metering.Channel, single)));
        var batch = (await metering.RecordUsageBatchAsync(new RecordUsageBatchRequest { Records = { EidCall(accountId), Scenario.Usage(accountId, TestIds.New("req")) } })).Outcomes;
        Assert.Equal((ChargeKind.Refused, Refusal.EnterpriseNotVerified, false), (batch[0].Kind, batch[0].Refusal, batch[0].Billable));
        Assert.Equal(ChargeKind.Package, batch[1].Kind); // the rest of the batch goes on (the trial)
        await RpcAssert.NotFoundAsync(() => metering.GetUsageRecordAsync(new GetUsageRecordRequest { AccountId = accountId, RequestId = single.RequestId }).ResponseAsync);
        Assert.DoesNotContain(await Scenario.WaitForPackagesAsync(_packages.Channel, accountId, 6), p => p.Label == "eid_authoritative");

        await new OnboardingService.OnboardingServiceClient(_onboarding.Channel).SubmitEnterpriseVerificationAsync(new SubmitEnterpriseVerificationRequest
        {
            IdempotencyKey = TestIds.New("ent-key"), AccountId = accountId, CompanyName = "福州示例科技有限公司",
            UnifiedSocialCreditCode = "91350100M000100Y43", LegalRepresentative = "李雷",
        });

        // EnterpriseVerified → Packages → the ledger: the same order goes through once the ledger knows.
        var bought = await Eventually.GetAsync<Package?>(async () =>
        {
            try
            {
                return await packages.PurchasePackageAsync(order).ResponseAsync;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
            {
                return null;
            }
        }, p => p is not null, Scenario.Timeout, "the verification reached the ledger");
        var charged = await Scenario.RecordAsync(_metering.Channel, EidCall(accountId));
        Assert.Equal((ChargeKind.Package, bought!.PackageId, 999L), (charged.Kind, charged.PackageId, charged.PackageRemaining));
    }
}
