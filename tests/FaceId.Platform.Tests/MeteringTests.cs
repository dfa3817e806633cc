using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Packages.V1;
using Grpc.Core;
using FaceId.ServiceDefaults;
using FaceId.Common;
using FaceId.Contracts.Metering.V1;
using FaceId.Metering.Grpc;
using FaceId.Onboarding.Grpc;
using FaceId.Packages.Grpc;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace FaceId.Platform.Tests;

/// <summary>Metering's answers at the edges of the slice (R-ACC-1, R-ACC-2, R-MET-2, R-MET-4, R-PKG-5, R-ONB-4).</summary>
public sealed class MeteringTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
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

    [Fact]
    public async Task R_ACC_2_an_unknown_account_is_refused_and_not_billed()
    {
        var outcome = await Scenario.RecordAsync(_metering.Channel, Scenario.Usage(TestIds.New("nobody"), TestIds.New("req")));
        Assert.Equal(ChargeKind.Refused, outcome.Kind);
        Assert.Equal(Refusal.UnknownAccount, outcome.Refusal);
        Assert.False(outcome.Billable);
    }

    [Fact]
    public async Task R_ACC_2_an_account_whose_service_is_not_opened_is_refused_and_not_billed()
    {
        var account = await Scenario.CreateAccountAsync(_onboarding.Channel);
        var outcome = await Eventually.GetAsync(
            () => Scenario.RecordAsync(_metering.Channel, Scenario.Usage(account.AccountId, TestIds.New("req"))),
            o => o.Refusal == Refusal.ServiceNotOpened, Scenario.Timeout, "Packages learned of the account");
        Assert.Equal(ChargeKind.Refused, outcome.Kind);
        Assert.False(outcome.Billable);
    }

    [Fact]
    public async Task R_MET_2_a_non_billable_return_code_is_recorded_but_not_charged()
    {
        var accountId = await Scenario.OpenServiceAsync(_onboarding.Channel);
        await Scenario.WaitForPackagesAsync(_packages.Channel, accountId, 6);

        var systemError = await Scenario.RecordAsync(_metering.Channel, Scenario.Usage(accountId, TestIds.New("req"), code: "1001"));
        var mismatch = await Scenario.RecordAsync(_metering.Channel, Scenario.Usage(accountId, TestIds.New("req"), code: "2006"));

        Assert.Equal(ChargeKind.NotBillable, systemError.Kind);
        Assert.Equal(ChargeKind.Package, mismatch.Kind); // 2006 (name/ID mismatch) is billed
        Assert.Equal(99, mismatch.PackageRemaining);
    }

    [Fact]
    public async Task R_PKG_5_a_batch_charges_each_request_once_and_answers_duplicates_with_the_original_outcome()
    {
        var accountId = await Scenario.OpenServiceAsync(_onboarding.Channel);
        await Scenario.WaitForPackagesAsync(_packages.Channel, accountId, 6);
        var client = new MeteringService.MeteringServiceClient(_metering.Channel);
        var ids = Enumerable.Range(0, 150).Select(_ => TestIds.New("req")).ToList();
        var batch = new RecordUsageBatchRequest { Records = { ids.Select(id => Scenario.Usage(accountId, id)) } };

        var first = (await client.RecordUsageBatchAsync(batch)).Outcomes;
        var again = (await client.RecordUsageBatchAsync(batch)).Outcomes;

        Assert.Equal(100, first.Count(o => o.Kind == ChargeKind.Package)); // the 100-call trial, then postpaid
        Assert.Equal(50, first.Count(o => o.Kind == ChargeKind.Postpaid));
        Assert.All(again, o => Assert.True(o.Duplicate));
        Assert.Equal(first.Select(o => (o.RequestId, o.Kind, o.PackageId)), again.Select(o => (o.RequestId, o.Kind, o.PackageId)));
    }

    [Fact]
    public async Task Bad_records_are_rejected_with_field_violations_and_change_nothing()
    {
        var accountId = await Scenario.OpenServiceAsync(_onboarding.Channel);
        await Scenario.WaitForPackagesAsync(_packages.Channel, accountId, 6);
        var bad = new UsageRecord
        {
            RequestId = "has spaces",
            AccountId = accountId,
            AccessMode = Contracts.Common.V1.AccessMode.Unspecified,
            ReturnCode = "",
            OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-8)),
        };

        var fields = await RpcAssert.InvalidArgumentAsync(() => Scenario.RecordAsync(_metering.Channel, bad));

        Assert.Contains("record.request_id", fields);
        Assert.Contains("record.label", fields);
        Assert.Contains("record.access_mode", fields);
        Assert.Contains("record.return_code", fields);
        Assert.Contains("record.occurred_at", fields); // R-MET-4: older than the 7-day window
        var unknownLabel = await RpcAssert.InvalidArgumentAsync(() => Scenario.RecordAsync(_metering.Channel, Scenario.Usage(accountId, TestIds.New("req"), label: "no_such_label")));
        Assert.Equal(["record.label"], unknownLabel);
        var packages = await Scenario.WaitForPackagesAsync(_packages.Channel, accountId, 6);
        Assert.All(packages, p => Assert.Equal(0, p.Used));
    }

    [Fact]
    public async Task A_batch_record_with_an_out_of_range_time_or_a_bad_id_is_named_by_its_index_and_nothing_is_charged()
    {
        var accountId = await Scenario.OpenServiceAsync(_onboarding.Channel);
        await Scenario.WaitForPackagesAsync(_packages.Channel, accountId, 6);
        var client = new MeteringService.MeteringServiceClient(_metering.Channel);
        var outOfRange = Scenario.Usage(accountId, TestIds.New("req"));
        outOfRange.OccurredAt = new Timestamp { Seconds = 253402300800, Nanos = 0 }; // 10000-01-01: past Timestamp's range
        var newline = Scenario.Usage(accountId, TestIds.New("req") + "\n"); // an id must be only letters, digits and . _ : -
        var batch = new RecordUsageBatchRequest { Records = { Scenario.Usage(accountId, TestIds.New("req")), outOfRange } };

        Assert.Equal(["records[1].occurred_at"], await RpcAssert.InvalidArgumentAsync(() => client.RecordUsageBatchAsync(batch).ResponseAsync));
        Assert.Equal(["records[0].request_id"],
            await RpcAssert.InvalidArgumentAsync(() => client.RecordUsageBatchAsync(new RecordUsageBatchRequest { Records = { newline } }).ResponseAsync));
        var packages = await Scenario.WaitForPackagesAsync(_packages.Channel, accountId, 6);
        Assert.All(packages, p => Assert.Equal(0, p.Used));
    }

    [Fact]
    public async Task Bad_input_to_RecordUsage_gets_the_mapped_status_and_details_without_an_exception_in_the_server()
    {
        // R-MET-4 and the record's shape: a misconfigured gateway's bad records are an expected outcome, so the
        // refusal path throws nothing (a flood of them must cost no more than good records), yet the client
        // sees exactly what a thrown domain exception mapped by the interceptor gives: status, message, details.
        var accountId = await Scenario.OpenServiceAsync(_onboarding.Channel);
        await Scenario.WaitForPackagesAsync(_packages.Channel, accountId, 6);
        var badCode = Scenario.Usage(accountId, TestIds.New("req"), code: "0 (ok)");
        var unknownLabel = Scenario.Usage(accountId, TestIds.New("req"), label: "no_such_label");
        var outOfRange = Scenario.Usage(accountId, TestIds.New("req"));
        outOfRange.OccurredAt = new Timestamp { Seconds = 253402300800 };
        var cases = new (UsageRecord Record, FieldViolation Violation)[]
        {
            (badCode, new("record.return_code", "must be 1..64 characters of letters, digits and . _ -")),
            (unknownLabel, new("record.label", "unknown billing label 'no_such_label' in price book " + FaceId.Packages.Catalog.ProductCatalog.CurrentBook)),
            (outOfRange, new("record.occurred_at", "is not a valid timestamp (years 0001-9999, nanos 0-999999999)")),
        };
        // Distinct exception objects thrown (an await rethrows the same object again).
        var domainThrows = new System.Collections.Concurrent.ConcurrentDictionary<object, bool>(ReferenceEqualityComparer.Instance);
        var rpcThrows = new System.Collections.Concurrent.ConcurrentDictionary<object, bool>(ReferenceEqualityComparer.Instance);
        void Count(object? _, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs a)
        {
            // Only this test's unary RecordUsage refusals ("record." paths; other tests run in parallel).
            if (a.Exception is InvalidInputException i && i.Violations.Any(v => v.Field.StartsWith("record.", StringComparison.Ordinal)))
                domainThrows.TryAdd(i, true);
            else if (a.Exception is RpcException r && r.Status.Detail.Contains("record.", StringComparison.Ordinal))
                rpcThrows.TryAdd(r, true);
        }
        AppDomain.CurrentDomain.FirstChanceException += Count;
        var seen = new List<RpcException>();
        try
        {
            foreach (var (record, _) in cases)
                seen.Add(await Assert.ThrowsAsync<RpcException>(() => Scenario.RecordAsync(_metering.Channel, record)));
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= Count;
        }

        for (var k = 0; k < cases.Length; k++)
        {
            var expected = DomainExceptionInterceptor.ToStatus(new InvalidInputException([cases[k].Violation]));
            Assert.Equal(StatusCode.InvalidArgument, seen[k].StatusCode);
            Assert.Equal(expected.Message, seen[k].Status.Detail);
            Assert.Equal(expected, seen[k].GetRpcStatus()); // code, message and the BadRequest field violation, byte for byte
            Assert.Single(seen[k].Trailers, t => t.Key == "grpc-status-details-bin");
        }
        Assert.Empty(domainThrows);
        Assert.Equal(cases.Length, rpcThrows.Count); // the client's own, one per call: none thrown by the server
        var packages = await Scenario.WaitForPackagesAsync(_packages.Channel, accountId, 6);
        Assert.All(packages, p => Assert.Equal(0, p.Used));
    }

    private static UsageRecord EidCall(string accountId) => new()
    {
        RequestId = TestIds.New("req"), AccountId = accountId, Channel = "eid", AccessMode = Contracts.Common.V1.AccessMode.Saas, ReturnCode = "0",
        OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
    };

    /// <summary>
    /// R-ONB-4 across the services: E证通 is refused over gRPC (PurchasePackage and RecordUsage: FAILED_PRECONDITION with the
    /// reason; RecordUsageBatch: that record's outcome) until Onboarding's verification reaches the ledger as EnterpriseVerified.
    /// </summary>
    [Fact]
    public async Task R_ONB_4_E证通_is_refused_with_its_reason_until_the_enterprise_verification_reaches_the_ledger()
    {
        var accountId = await Scenario.OpenServiceAsync(_onboarding.Channel);
        await Scenario.WaitForPackagesAsync(_packages.Channel, accountId, 6);
        var packages = new PackagesService.PackagesServiceClient(_packages.Channel);
        var metering = new MeteringService.MeteringServiceClient(_metering.Channel);
        var order = new PurchasePackageRequest { OrderId = TestIds.New("order"), AccountId = accountId, Label = "eid_authoritative", Size = 1000 };

        Assert.Equal("ENTERPRISE_NOT_VERIFIED", await RpcAssert.FailedPreconditionAsync(() => packages.PurchasePackageAsync(order).ResponseAsync));
        var single = EidCall(accountId);
        Assert.Equal("ENTERPRISE_NOT_VERIFIED", await RpcAssert.FailedPreconditionAsync(() => Scenario.RecordAsync(_metering.Channel, single)));
        var batch = (await metering.RecordUsageBatchAsync(new RecordUsageBatchRequest { Records = { EidCall(accountId), Scenario.Usage(accountId, TestIds.New("req")) } })).Outcomes;
        Assert.Equal((ChargeKind.Refused, Refusal.EnterpriseNotVerified, false), (batch[0].Kind, batch[0].Refusal, batch[0].Billable));
        Assert.Equal(ChargeKind.Package, batch[1].Kind); // the rest of the batch goes on (the trial)
        // The refusal is kept with its request id: read back as refused (R-ONB-4), a retry is the same refusal.
        var kept = await metering.GetUsageRecordAsync(new GetUsageRecordRequest { AccountId = accountId, RequestId = single.RequestId });
        Assert.Equal((ChargeKind.Refused, Refusal.EnterpriseNotVerified), (kept.Kind, kept.Refusal));
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
        // The call made before the verification, retried now, is still refused as it was (kept with its id, never judged again).
        Assert.Equal("ENTERPRISE_NOT_VERIFIED", await RpcAssert.FailedPreconditionAsync(() => Scenario.RecordAsync(_metering.Channel, single)));
        var charged = await Scenario.RecordAsync(_metering.Channel, EidCall(accountId));
        Assert.Equal((ChargeKind.Package, bought!.PackageId, 999L), (charged.Kind, charged.PackageId, charged.PackageRemaining));
    }
}
