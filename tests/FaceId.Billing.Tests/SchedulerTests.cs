using System.Diagnostics.Metrics;
using FaceId.Billing.Application;
using FaceId.Billing.Grpc;
using FaceId.Billing.Tests.Support;
using FaceId.Contracts;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Events.V1;
using FaceId.EventBus;
using FaceId.Packages.Ledger;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace FaceId.Billing.Tests;

/// <summary>
/// The scheduler on fake time: settlement after the grace period with two replicas (R-BIL-2),
/// suspension 24 hours after arrears and resumption on payment (R-BIL-4), the periodic
/// reconciliation check (R-BIL-3). Each test has its own Redis, hosts and clock.
/// </summary>
public sealed class SchedulerTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    private static BillingService.BillingServiceClient Client(InProcessService<BillingGrpcService> host) => new(host.Channel);

    private static Task AdvanceAsync(FakeTimeProvider clock, DateTimeOffset to, params InProcessService<BillingGrpcService>[] hosts) =>
        SchedulerClock.AdvanceAsync(clock, to, hosts);

    private static void AssertAbout(DateTimeOffset expected, DateTimeOffset actual) => SchedulerClock.AssertAbout(expected, actual);

    private static async Task<string> ActivateAsync(InProcessService<BillingGrpcService> host, DateTimeOffset at, SettlementCycle cycle)
    {
        var account = TestIds.New("acct");
        await host.Services.GetRequiredService<IEventBus>().PublishAsync(new ServiceActivated
        {
            AccountId = account, ApplicationId = "app", ActivatedAt = Timestamp.FromDateTimeOffset(at), PriceBook = "2021-06", SettlementCycle = cycle,
        });
        await Eventually.AssertAsync(async () =>
        {
            try { return (await Client(host).GetBalanceAsync(new GetBalanceRequest { AccountId = account })) is not null; }
            catch (global::Grpc.Core.RpcException) { return false; }
        }, Timeout, "Billing learned of the activation");
        return account;
    }

    private async Task ChargeAsync(InProcessService<BillingGrpcService> host, IEnumerable<ChargedUsage> records)
    {
        await host.Services.GetRequiredService<IEventBus>().PublishAsync(new UsageCharged { Records = { records } });
        using var db = _redis.Connect();
        await Eventually.AssertAsync(() => Streams.ConsumedAllAsync(db.GetDatabase(), EventTopics.UsageCharged), Timeout, "usage consumed");
    }

    [Fact]
    public async Task R_BIL_2_two_replicas_settle_the_previous_day_once_after_the_grace_hour()
    {
        var clock = Hosts.Clock("2027-05-10T08:00");
        await using var one = Hosts.Billing(_redis.ConnectionString, clock, scheduler: true);
        await using var two = Hosts.Billing(_redis.ConnectionString, clock, scheduler: true);
        var account = await ActivateAsync(one, Hosts.At("2027-05-10T08:00"), SettlementCycle.Daily);
        await ChargeAsync(one, Usage.Many(42, account, "basic_authoritative", Hosts.At("2027-05-10T12:00")));

        await AdvanceAsync(clock, Hosts.At("2027-05-11T00:59:58"), one, two);
        Assert.Empty((await Client(one).ListBillsAsync(new ListBillsRequest { AccountId = account })).Bills); // still in the grace hour

        await AdvanceAsync(clock, Hosts.At("2027-05-11T01:00"), one, two);
        var bills = (await Client(two).ListBillsAsync(new ListBillsRequest { AccountId = account })).Bills;
        var bill = Assert.Single(bills);
        Assert.Equal(("bill-2027-05-10", 4_200L), (bill.BillId, bill.TotalFen));
        AssertAbout(Hosts.At("2027-05-11T01:00"), bill.IssuedAt.ToDateTimeOffset());

        using var db = _redis.Connect();
        await Eventually.AssertAsync(async () => (await Streams.EventsAsync(db.GetDatabase(), EventTopics.BillIssued, account)).Count == 1, Timeout, "BillIssued published");
        await AdvanceAsync(clock, Hosts.At("2027-05-11T01:30"), one, two);
        Assert.Single((await Client(one).ListBillsAsync(new ListBillsRequest { AccountId = account })).Bills);
        Assert.Single(await Streams.EventsAsync(db.GetDatabase(), EventTopics.BillIssued, account));
    }

    [Fact]
    public async Task R_BIL_4_arrears_unpaid_for_24_hours_suspend_the_service_and_paying_them_resumes_it()
    {
        var clock = Hosts.Clock("2027-06-01T08:00");
        await using var billing = Hosts.Billing(_redis.ConnectionString, clock, scheduler: true);
        var client = Client(billing);
        var account = await ActivateAsync(billing, Hosts.At("2027-06-01T08:00"), SettlementCycle.Daily);
        await client.TopUpAsync(new TopUpRequest { IdempotencyKey = TestIds.New("k"), AccountId = account, AmountFen = 5_000 });
        await ChargeAsync(billing, Usage.Many(200, account, "basic_authoritative", Hosts.At("2027-06-01T10:00"))); // 20,000 fen

        await AdvanceAsync(clock, Hosts.At("2027-06-02T01:00"), billing);
        var bill = Assert.Single((await client.ListBillsAsync(new ListBillsRequest { AccountId = account })).Bills);
        Assert.Equal((20_000L, BillStatus.InArrears, 15_000L), (bill.TotalFen, bill.Status, bill.OutstandingFen));
        var balance = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account });
        Assert.Equal((0L, 15_000L, false), (balance.BalanceFen, balance.ArrearsFen, balance.Suspended));
        var suspendAt = balance.SuspendAt.ToDateTimeOffset();
        AssertAbout(Hosts.At("2027-06-03T01:00"), suspendAt); // 24 h after the bill put the account in arrears

        using var redis = _redis.Connect();
        var db = redis.GetDatabase();
        await AdvanceAsync(clock, suspendAt.AddSeconds(-2), billing);
        Assert.False((await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account })).Suspended);
        Assert.Empty(await Streams.EventsAsync(db, EventTopics.ServiceSuspended, account));

        await AdvanceAsync(clock, suspendAt, billing);
        Assert.True((await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account })).Suspended);
        var suspended = await Eventually.GetAsync(() => Streams.EventsAsync(db, EventTopics.ServiceSuspended, account), l => l.Count > 0, Timeout, "ServiceSuspended published");
        var e = ServiceSuspended.Parser.ParseJson(Assert.Single(suspended).DataJson);
        Assert.Equal((account, "bill-2027-06-01"), (e.AccountId, e.BillId));
        AssertAbout(suspendAt, e.SuspendedAt.ToDateTimeOffset());

        // A partial payment keeps the suspension; paying the rest resumes the service, once.
        await client.TopUpAsync(new TopUpRequest { IdempotencyKey = TestIds.New("k"), AccountId = account, AmountFen = 10_000 });
        Assert.True((await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account })).Suspended);
        var paid = await client.TopUpAsync(new TopUpRequest { IdempotencyKey = TestIds.New("k"), AccountId = account, AmountFen = 6_000 });
        Assert.Equal((1_000L, 0L, false), (paid.BalanceFen, paid.ArrearsFen, paid.Suspended));
        var resumed = await Eventually.GetAsync(() => Streams.EventsAsync(db, EventTopics.ServiceResumed, account), l => l.Count > 0, Timeout, "ServiceResumed published");
        Assert.Equal(account, ServiceResumed.Parser.ParseJson(Assert.Single(resumed).DataJson).AccountId);
        await AdvanceAsync(clock, Hosts.At("2027-06-05T02:00"), billing);
        Assert.Single(await Streams.EventsAsync(db, EventTopics.ServiceSuspended, account));
        Assert.Single(await Streams.EventsAsync(db, EventTopics.ServiceResumed, account));
    }

    [Fact]
    public async Task R_BIL_3_the_periodic_reconciliation_reports_a_mismatch_on_the_metric_and_the_API()
    {
        var clock = Hosts.Clock("2027-07-01T08:00");
        await using var billing = Hosts.Billing(_redis.ConnectionString, clock, scheduler: true,
            new Dictionary<string, string?> { ["Billing:ReconciliationIntervalMinutes"] = "30" });
        var account = await ActivateAsync(billing, Hosts.At("2027-07-01T08:00"), SettlementCycle.Daily);
        await ChargeAsync(billing, [.. Usage.Many(3, account, "basic_authoritative", Hosts.At("2027-07-01T09:00"), 'P'), .. Usage.Many(4, account, "basic_authoritative", Hosts.At("2027-07-01T09:00"))]);
        // The ledger counted one postpaid call more than Billing ever heard of (written here as Metering would).
        using var redis = _redis.Connect();
        await redis.GetDatabase().HashSetAsync(LedgerKeys.DayCounters(account, "20270701"),
            [new("basic_authoritative|P", 3), new("basic_authoritative|O", 5), new("basic_authoritative|N", 9)]);

        var meter = billing.Services.GetRequiredService<BillingMetrics>().Meter;
        long mismatches = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == BillingMetrics.MismatchesName) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag is { Key: "label", Value: "basic_authoritative" }) Interlocked.Add(ref mismatches, value);
        });
        listener.Start();

        await AdvanceAsync(clock, Hosts.At("2027-07-02T02:00"), billing);
        Assert.True(Interlocked.Read(ref mismatches) >= 2, "the periodic check counted each unbalanced cell");

        var reconciliation = await Client(billing).GetReconciliationAsync(new GetReconciliationRequest
        {
            AccountId = account, From = Timestamp.FromDateTimeOffset(Hosts.At("2027-07-01T00:00")), To = Timestamp.FromDateTimeOffset(Hosts.At("2027-07-02T00:00")),
        });
        Assert.False(reconciliation.Balanced);
        var row = Assert.Single(reconciliation.Rows);
        Assert.Equal(("basic_authoritative", "2027-07-01", 8L, 3L, 4L, false, 3L, 5L),
            (row.Label, row.Period, row.MeteredBillable, row.PackageCalls, row.PostpaidCalls, row.Balanced, row.MeteredPackageCalls, row.MeteredPostpaidCalls));
        // Per cell (kind × sub-account), with both values: the postpaid call too many, and the not-billable calls Billing never heard of.
        Assert.Equal(
        [
            ("2027-07-01", "basic_authoritative", "", ReconciliationKind.Postpaid, 5L, 4L),
            ("2027-07-01", "basic_authoritative", "", ReconciliationKind.NotBillable, 9L, 0L),
        ], ApiTests.Cells(reconciliation));
    }
}
