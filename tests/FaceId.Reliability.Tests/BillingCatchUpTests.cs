using FaceId.Ledger.Tests;
using FaceId.Contracts;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Events.V1;
using FaceId.Contracts.Metering.V1;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Xunit;
using Xunit.Abstractions;
using PackageRecord = FaceId.Packages.Ledger.PackageRecord;

namespace FaceId.Reliability.Tests;

/// <summary>
/// Fault 3 (docs/reliability.md): Billing is killed under load and stays down while metering goes on; when it
/// comes back it catches up from the streams, and its statistics and reconciliation match the
/// ledger to the call — nothing missing, nothing doubled (R-BIL-1, R-BIL-3).
/// </summary>
public sealed class BillingCatchUpTests(DurableRedisFixture redis, ITestOutputHelper output) : IClassFixture<DurableRedisFixture>
{
    private const string Label = "id_info_check";

    [Fact]
    public async Task Fault_3_Billing_stopped_under_load_catches_up_from_the_streams_without_loss_or_double_count()
    {
        await using var host = new LedgerHost(redis.ConnectionString, DateTimeOffset.UtcNow);
        var account = await host.OpenedAccountAsync(DateTimeOffset.UtcNow.AddDays(-30));
        await host.Bus.PublishAsync(new ServiceActivated
        {
            AccountId = account, ActivatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-30)),
            PriceBook = "2021-06", SettlementCycle = SettlementCycle.Daily, ApplicationId = "app-fault-3",
        });
        var packages = new List<PackageRecord>();
        for (var i = 0; i < 2; i++) packages.Add(await host.BuyAsync(account, Label, 1000));
        var env = new Dictionary<string, string?>
        {
            ["Redis__ConnectionString"] = redis.ConnectionString,
            ["EventBus__OutboxSweepIntervalMs"] = "200",
            ["EventBus__ProcessingTimeoutMs"] = "2000",
            ["EventBus__RedeliverIntervalMs"] = "200",
        };
        await using var metering = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Metering"), env);
        await using var billing = await ServiceProcess.StartAsync(ServiceProcess.FindServiceDll("FaceId.Billing"), env);
        var records = Enumerable.Range(0, 4_000).Select(i => new UsageRecord
        {
            RequestId = $"{account}-{i}", AccountId = account, Label = Label, AccessMode = i % 2 == 0 ? AccessMode.Saas : AccessMode.Paas,
            ReturnCode = i % 10 == 0 ? "-2" : "0", // every tenth record is not billable
            OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        }).ToArray();
        var driver = new LoadDriver([metering.Channel], callers: 16, TimeSpan.FromMinutes(3));

        var outcomes = await driver.RunAsync(records, records.Length / 4, () =>
        {
            billing.Kill(); // down for the rest of the load
            return Task.CompletedTask;
        });
        var lagWhileDown = await redis.Database.StreamLengthAsync(EventTopics.UsageCharged);
        await billing.RestartAsync();

        var client = new BillingService.BillingServiceClient(billing.Channel);
        var today = DateTimeOffset.UtcNow;
        var request = new GetStatisticsRequest
        {
            AccountId = account, Granularity = Granularity.Day,
            From = Timestamp.FromDateTimeOffset(today.AddDays(-1)), To = Timestamp.FromDateTimeOffset(today.AddDays(1)),
        };
        var billable = outcomes.Count(o => o.Billable);
        var row = await Eventually.GetAsync(
            async () => (await client.GetStatisticsAsync(request)).Rows.SingleOrDefault(r => r.Label == Label),
            r => r is not null && r.Calls == records.Length, TimeSpan.FromSeconds(120), "Billing caught up with every call");
        Assert.Equal(records.Length, row!.Calls);
        Assert.Equal(billable, row.BillableCalls);
        Assert.Equal(2_000, row.PackageCalls);
        Assert.Equal(billable - 2_000, row.PostpaidCalls);
        Assert.Equal(await host.CounterAsync(account, today, Label + "|O"), row.PostpaidCalls);
        var reconciliation = await client.GetReconciliationAsync(new GetReconciliationRequest
        {
            AccountId = account, From = request.From, To = request.To,
        });
        Assert.True(reconciliation.Balanced, "Billing's view and the ledger's counters agree");
        output.WriteLine($"fault 3: {records.Length} calls ({billable} billable), usage events on the stream while Billing was down: {lagWhileDown}, retries={driver.Retries}");
    }
}
