using FaceId.Billing.Tests.Support;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Events.V1;
using FaceId.Packages.Ledger;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Xunit;

namespace FaceId.Billing.Tests;

/// <summary>Reconciliation by API (R-BIL-3) and the API's answers to bad input: field paths, never INTERNAL.</summary>
public sealed class ApiTests(BillingFixture billing) : IClassFixture<BillingFixture>
{
    private static Timestamp Ts(string local) => Timestamp.FromDateTimeOffset(Hosts.At(local));

    /// <summary>The unbalanced cells of a reconciliation as (period, label, sub-account, kind, ledger, Billing).</summary>
    internal static IEnumerable<(string, string, string, ReconciliationKind, long, long)> Cells(Reconciliation r) =>
        r.UnbalancedCells.Select(c => (c.Period, c.Label, c.SubAccountId, c.Kind, c.MeteredCalls, c.BilledCalls));

    [Fact]
    public async Task R_BIL_3_reconciliation_compares_the_ledgers_day_counters_with_billings_records_per_label_and_day()
    {
        var account = await billing.ActivateAsync(Hosts.At("2030-01-01T09:00"), SettlementCycle.Daily);
        await billing.ChargeAsync(
        [
            .. Usage.Many(5, account, "basic_authoritative", Hosts.At("2030-01-02T10:00"), 'P'),
            .. Usage.Many(7, account, "basic_authoritative", Hosts.At("2030-01-02T11:00"), 'O'),
            .. Usage.Many(2, account, "basic_authoritative", Hosts.At("2030-01-02T11:00"), 'N'),
            .. Usage.Many(3, account, "id_info_check", Hosts.At("2030-01-03T11:00"), 'O'),
        ]);
        // What the ledger counted (written as deduct.lua does): one call of the 2nd is package-deducted on the ledger but postpaid
        // in Billing (equal totals), and the ledger has one postpaid id check more on the 3rd.
        await billing.Db.HashSetAsync(LedgerKeys.DayCounters(account, "20300102"), [new("basic_authoritative|P", 6), new("basic_authoritative|O", 6), new("basic_authoritative|N", 2)]);
        await billing.Db.HashSetAsync(LedgerKeys.DayCounters(account, "20300103"), [new("id_info_check|O", 4)]);

        var r = await billing.Client.GetReconciliationAsync(new GetReconciliationRequest { AccountId = account, From = Ts("2030-01-01T00:00"), To = Ts("2030-01-04T00:00") });

        Assert.False(r.Balanced);
        Assert.Equal(
        [
            ("basic_authoritative", "2030-01-02", 12L, 5L, 7L, false, 6L, 6L),   // equal totals, but the package/postpaid split differs
            ("id_info_check", "2030-01-03", 4L, 0L, 3L, false, 0L, 4L),
        ], r.Rows.Select(x => (x.Label, x.Period, x.MeteredBillable, x.PackageCalls, x.PostpaidCalls, x.Balanced, x.MeteredPackageCalls, x.MeteredPostpaidCalls)));
        Assert.Equal(
        [
            ("2030-01-02", "basic_authoritative", "", ReconciliationKind.Package, 6L, 5L),
            ("2030-01-02", "basic_authoritative", "", ReconciliationKind.Postpaid, 6L, 7L),
            ("2030-01-03", "id_info_check", "", ReconciliationKind.Postpaid, 4L, 3L),
        ], Cells(r));
    }

    [Fact]
    public async Task R_BIL_3_reconciliation_reports_a_sub_account_mix_up_and_nothing_for_a_balanced_account()
    {
        var account = await billing.ActivateAsync(Hosts.At("2030-02-01T09:00"), SettlementCycle.Daily);
        await billing.ChargeAsync(
        [
            .. Usage.Many(2, account, "basic_authoritative", Hosts.At("2030-02-02T10:00"), 'P'),
            .. Usage.Many(3, account, "basic_authoritative", Hosts.At("2030-02-02T10:00"), 'O', sub: "sub-a"),
            .. Usage.Many(1, account, "basic_authoritative", Hosts.At("2030-02-02T10:00"), 'N', sub: "sub-a", mode: AccessMode.Paas),
        ]);
        // The ledger's fields as deduct.lua writes them: "label|K" for the main account, "label|sub|K" for a sub-account.
        await billing.Db.HashSetAsync(LedgerKeys.DayCounters(account, "20300202"),
            [new("basic_authoritative|P", 2), new("basic_authoritative|sub-a|O", 3), new("basic_authoritative|sub-a|N", 1)]);
        var day = new GetReconciliationRequest { AccountId = account, From = Ts("2030-02-02T00:00"), To = Ts("2030-02-03T00:00") };

        var balanced = await billing.Client.GetReconciliationAsync(day);
        Assert.True(balanced.Balanced);
        Assert.Empty(balanced.UnbalancedCells);
        Assert.True(Assert.Single(balanced.Rows).Balanced);

        // One postpaid call of sub-a counted under sub-b on the ledger: same label, same kind, same totals.
        await billing.Db.HashSetAsync(LedgerKeys.DayCounters(account, "20300202"), [new("basic_authoritative|sub-a|O", 2), new("basic_authoritative|sub-b|O", 1)]);
        var mixedUp = await billing.Client.GetReconciliationAsync(day);
        Assert.False(mixedUp.Balanced);
        var row = Assert.Single(mixedUp.Rows);
        Assert.Equal((5L, 2L, 3L, false), (row.MeteredBillable, row.PackageCalls, row.PostpaidCalls, row.Balanced));
        Assert.Equal(
        [
            ("2030-02-02", "basic_authoritative", "sub-a", ReconciliationKind.Postpaid, 2L, 3L),
            ("2030-02-02", "basic_authoritative", "sub-b", ReconciliationKind.Postpaid, 1L, 0L),
        ], Cells(mixedUp));
    }

    /// <summary>
    /// R-BIL-3 with R-BIL-1: the refused calls are a kind of reconciliation cell per reason (the ledger counts each refused
    /// request id once, "label|S" / "|U" / "|E"; Billing counts it once per request id). One refused cell off on either side is
    /// reported with both values, even with every charged cell equal.
    /// </summary>
    [Fact]
    public async Task R_BIL_3_reconciliation_reports_a_refused_cell_that_differs_on_either_side()
    {
        var account = await billing.ActivateAsync(Hosts.At("2030-03-01T09:00"), SettlementCycle.Daily);
        RefusedUsageGroup Refused(UsageRefusal reason, int count, string sub = "") => new()
        {
            AccountId = account, SubAccountId = sub, Label = "basic_authoritative", AccessMode = AccessMode.Saas, ReturnCode = "0", Billable = true,
            Reason = reason, RequestIds = { Enumerable.Range(0, count).Select(_ => TestIds.New("req")) },
            OccurredAtMs = { Enumerable.Repeat(Hosts.At("2030-03-02T10:00").ToUnixTimeMilliseconds(), count) },
        };
        await billing.ChargeAsync(Usage.Many(2, account, "basic_authoritative", Hosts.At("2030-03-02T10:00"), 'O'));
        await billing.PublishAsync(new UsageCharged
        {
            Refused = { Refused(UsageRefusal.ServiceSuspended, 3), Refused(UsageRefusal.ServiceSuspended, 1, sub: "sub-a"), Refused(UsageRefusal.EnterpriseNotVerified, 2) },
        });
        var counters = LedgerKeys.DayCounters(account, "20300302");
        await billing.Db.HashSetAsync(counters,
            [new("basic_authoritative|O", 2), new("basic_authoritative|S", 3), new("basic_authoritative|sub-a|S", 1), new("basic_authoritative|E", 2)]);
        var day = new GetReconciliationRequest { AccountId = account, From = Ts("2030-03-02T00:00"), To = Ts("2030-03-03T00:00") };
        Assert.True((await billing.Client.GetReconciliationAsync(day)).Balanced);

        // The ledger counts one refusal more (of the main account, suspended), and one not-verified refusal less.
        await billing.Db.HashSetAsync(counters, [new("basic_authoritative|S", 4), new("basic_authoritative|E", 1)]);
        var r = await billing.Client.GetReconciliationAsync(day);
        Assert.False(r.Balanced);
        Assert.False(Assert.Single(r.Rows).Balanced); // equal charged totals, but a refused cell differs
        Assert.Equal(
        [
            ("2030-03-02", "basic_authoritative", "", ReconciliationKind.RefusedSuspended, 4L, 3L),
            ("2030-03-02", "basic_authoritative", "", ReconciliationKind.RefusedNotVerified, 1L, 2L),
        ], Cells(r));

        // Billing's side off: a not-opened refusal the ledger never counted (the other cells back as they were).
        await billing.Db.HashSetAsync(counters, [new("basic_authoritative|S", 3), new("basic_authoritative|E", 2)]);
        await billing.PublishAsync(new UsageCharged { Refused = { Refused(UsageRefusal.ServiceNotOpened, 1, sub: "sub-a") } });
        Assert.Equal([("2030-03-02", "basic_authoritative", "sub-a", ReconciliationKind.RefusedNotOpened, 0L, 1L)],
            Cells(await billing.Client.GetReconciliationAsync(day)));
    }

    [Fact]
    public async Task Bad_requests_are_invalid_argument_with_every_field_path()
    {
        var account = await billing.ActivateAsync(Hosts.At("2030-01-01T09:00"), SettlementCycle.Daily);
        var c = billing.Client;

        Assert.Equal(["account_id", "to", "granularity", "page.page_size"], await RpcAssert.InvalidArgumentAsync(() => c.GetStatisticsAsync(new GetStatisticsRequest
        {
            AccountId = "no spaces please", From = Ts("2030-01-02T00:00"), To = Ts("2030-01-01T00:00"), Page = new PageRequest { PageSize = 501 },
        }).ResponseAsync));
        Assert.Equal(["from", "to"], await RpcAssert.InvalidArgumentAsync(() => c.GetStatisticsAsync(new GetStatisticsRequest
        {
            AccountId = account, Granularity = Granularity.Day,
        }).ResponseAsync));
        Assert.Equal(["to"], await RpcAssert.InvalidArgumentAsync(() => c.GetStatisticsAsync(new GetStatisticsRequest
        {
            AccountId = account, From = Ts("2030-01-01T00:00"), To = Ts("2031-02-06T00:00"), Granularity = Granularity.Month,
        }).ResponseAsync)); // more than 400 days
        Assert.Equal(["granularity"], await RpcAssert.InvalidArgumentAsync(() => c.GetStatisticsAsync(new GetStatisticsRequest
        {
            AccountId = account, From = Ts("2030-01-01T00:00"), To = Ts("2030-01-02T00:00"), Granularity = (Granularity)7,
        }).ResponseAsync));
        Assert.Equal(["page.page_token"], await RpcAssert.InvalidArgumentAsync(() => c.GetStatisticsAsync(new GetStatisticsRequest
        {
            AccountId = account, From = Ts("2030-01-01T00:00"), To = Ts("2030-01-02T00:00"), Granularity = Granularity.Day, Page = new PageRequest { PageToken = "forged" },
        }).ResponseAsync));
        Assert.Equal(["idempotency_key", "account_id", "period_instant"], await RpcAssert.InvalidArgumentAsync(() => c.SettlePeriodAsync(new SettlePeriodRequest()).ResponseAsync));
        Assert.Equal(["period_instant"], await RpcAssert.InvalidArgumentAsync(() => c.SettlePeriodAsync(new SettlePeriodRequest
        {
            IdempotencyKey = "k", AccountId = account, PeriodInstant = new Timestamp { Seconds = long.MaxValue },
        }).ResponseAsync));
        Assert.Equal(["period_instant"], await RpcAssert.InvalidArgumentAsync(() => c.SettlePeriodAsync(new SettlePeriodRequest
        {
            IdempotencyKey = "k", AccountId = account, PeriodInstant = Timestamp.FromDateTimeOffset(DateTimeOffset.Parse("9999-12-31T23:59:59Z", System.Globalization.CultureInfo.InvariantCulture)),
        }).ResponseAsync));
        Assert.Equal(["from"], await RpcAssert.InvalidArgumentAsync(() => c.GetReconciliationAsync(new GetReconciliationRequest
        {
            AccountId = account, From = new Timestamp(), To = Ts("2030-01-02T00:00"),
        }).ResponseAsync));
        Assert.Equal(["account_id", "bill_id"], await RpcAssert.InvalidArgumentAsync(() => c.GetBillAsync(new GetBillRequest()).ResponseAsync));
        Assert.Equal(["account_id"], await RpcAssert.InvalidArgumentAsync(() => c.ListBillsAsync(new ListBillsRequest()).ResponseAsync));
        Assert.Equal(["account_id"], await RpcAssert.InvalidArgumentAsync(() => c.GetBalanceAsync(new GetBalanceRequest { AccountId = new string('a', 129) }).ResponseAsync));
        Assert.Equal(["account_id", "from", "to"], await RpcAssert.InvalidArgumentAsync(() => c.GetReconciliationAsync(new GetReconciliationRequest()).ResponseAsync));

        await RpcAssert.NotFoundAsync(() => c.GetBalanceAsync(new GetBalanceRequest { AccountId = TestIds.New("nobody") }).ResponseAsync);
        await RpcAssert.NotFoundAsync(() => c.GetBillAsync(new GetBillRequest { AccountId = account, BillId = "bill-2030-13-01" }).ResponseAsync);
        await RpcAssert.NotFoundAsync(() => c.ListBillsAsync(new ListBillsRequest { AccountId = TestIds.New("nobody") }).ResponseAsync);
        var e = await Assert.ThrowsAsync<RpcException>(() => c.GetReconciliationAsync(new GetReconciliationRequest
        {
            AccountId = TestIds.New("nobody"), From = Ts("2030-01-01T00:00"), To = Ts("2030-01-02T00:00"),
        }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }
}
