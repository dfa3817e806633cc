using FaceId.Billing.Domain;
using FaceId.Billing.Infrastructure;
using FaceId.Billing.Tests.Support;
using FaceId.Contracts;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Events.V1;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FaceId.Billing.Tests;

/// <summary>R-BIL-2 through the service: bills from events, settled on demand, idempotent, adjustments for late records.</summary>
public sealed class SettlementTests(BillingFixture billing) : IClassFixture<BillingFixture>
{
    private static PackageDelivered Package(string account, string label, long size, long priceFen, DateTimeOffset at, bool free = false) => new()
    {
        AccountId = account, PackageId = TestIds.New("pkg"), Label = label, Size = size, PriceFen = priceFen, Free = free,
        PurchasedAt = Timestamp.FromDateTimeOffset(at), PriceBook = "2021-06",
    };

    [Fact]
    public async Task R_BIL_2_worked_example_15000_enhanced_calls_with_a_10000_package_bought_for_11000_cost_17000_yuan()
    {
        var account = await billing.ActivateAsync(Hosts.At("2022-03-01T09:00"), SettlementCycle.Monthly);
        var at = Hosts.At("2022-04-02T10:00");
        var package = Package(account, "enhanced_authoritative_wechat", 10_000, 1_100_000, at);
        await billing.PublishAsync(package);
        await billing.ChargeAsync([.. Usage.Many(10_000, account, "enhanced_authoritative_wechat", at, 'P'), .. Usage.Many(5_000, account, "enhanced_authoritative_wechat", at, 'O')]);
        // The free trial package of the same label costs nothing and is not charged.
        await billing.PublishAsync(Package(account, "enhanced_authoritative_wechat", 100, 0, at, free: true));

        // March has no usage, so settling April settles March first (periods are settled in order).
        var bill = await billing.SettleAsync(account, "2022-04-15T00:00");

        Assert.Equal(("bill-2022-04", "2022-04", SettlementCycle.Monthly, "2021-06"), (bill.BillId, bill.Period, bill.Cycle, bill.PriceBook));
        Assert.Equal(Hosts.At("2022-04-01T00:00"), bill.PeriodStart.ToDateTimeOffset());
        Assert.Equal(Hosts.At("2022-05-01T00:00"), bill.PeriodEnd.ToDateTimeOffset());
        Assert.Collection(bill.Lines,
            l => Assert.Equal((BillLineKind.Postpaid, "enhanced_authoritative_wechat", 5_000L, 120L, 600_000L), (l.Kind, l.Label, l.Calls, l.UnitPriceFen, l.AmountFen)),
            l => Assert.Equal((BillLineKind.PrepaidPackage, 10_000L, 1_100_000L, package.PackageId), (l.Kind, l.Calls, l.AmountFen, l.Reference)));
        Assert.Equal(1_700_000, bill.TotalFen); // 17,000.00 CNY
        var march = await billing.Client.GetBillAsync(new GetBillRequest { AccountId = account, BillId = "bill-2022-03" });
        Assert.Empty(march.Lines);
        Assert.Equal(0, march.TotalFen);
    }

    [Fact]
    public async Task R_BIL_2_worked_example_30000_bank_card_checks_in_a_month_cost_10800_yuan()
    {
        var account = await billing.ActivateAsync(Hosts.At("2022-05-03T09:00"), SettlementCycle.Monthly);
        await billing.ChargeAsync(Enumerable.Range(0, 30).SelectMany(d => Usage.Many(1_000, account, "bank_card_info_check", Hosts.At("2022-05-03T10:00").AddDays(d % 28))));

        var bill = await billing.SettleAsync(account, "2022-05-31T23:59:59");

        var line = Assert.Single(bill.Lines);
        Assert.Equal((30_000L, 36L, 1_080_000L), (line.Calls, line.UnitPriceFen, line.AmountFen));
        Assert.Equal(1_080_000, bill.TotalFen); // 10,800.00 CNY
    }

    [Fact]
    public async Task R_BIL_2_settling_a_period_twice_returns_the_same_bill_and_issues_it_once()
    {
        var account = await billing.ActivateAsync(Hosts.At("2027-03-09T09:00"), SettlementCycle.Daily);
        await billing.ChargeAsync(Usage.Many(7, account, "basic_authoritative", Hosts.At("2027-03-10T12:00")));

        var key = TestIds.New("settle");
        var first = await billing.SettleAsync(account, "2027-03-10T12:00", key);
        var retried = await billing.SettleAsync(account, "2027-03-10T12:00", key);
        var again = await billing.SettleAsync(account, "2027-03-10T23:59:59"); // another key, same period
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => billing.SettleAsync(account, "2027-03-10T01:00")));

        Assert.Equal("bill-2027-03-10", first.BillId);
        Assert.Equal(first, retried);
        Assert.Equal(first, again);
        Assert.All(concurrent, b => Assert.Equal(first, b));
        Assert.Equal(700, first.TotalFen);
        Assert.Equal(first, await billing.Client.GetBillAsync(new GetBillRequest { AccountId = account, BillId = first.BillId }));
        var listed = await billing.Client.ListBillsAsync(new ListBillsRequest { AccountId = account });
        Assert.Equal(["bill-2027-03-10", "bill-2027-03-09"], listed.Bills.Select(b => b.BillId)); // newest first
        await Eventually.AssertAsync(async () => (await Streams.EventsAsync(billing.Db, EventTopics.BillIssued, account)).Count == 2,
            BillingFixture.Timeout, "BillIssued for both bills");
        var issued = (await Streams.EventsAsync(billing.Db, EventTopics.BillIssued, account)).Select(e => BillIssued.Parser.ParseJson(e.DataJson)).ToList();
        Assert.Equal(1, issued.Count(e => e.BillId == "bill-2027-03-10"));
        Assert.True(issued.Single(e => e.BillId == "bill-2027-03-10") is { TotalFen: 700, InArrears: true });

        Assert.Equal(("idempotency_key", "period_instant"), await RpcAssert.KeyReusedAsync(() => billing.SettleAsync(account, "2027-03-11T12:00", key)));
    }

    [Fact]
    public async Task R_BIL_2_settlements_of_two_periods_racing_on_one_key_settle_one_and_refuse_the_other()
    {
        var account = await billing.ActivateAsync(Hosts.At("2027-03-09T09:00"), SettlementCycle.Daily);
        string[] instants = ["2027-03-10T12:00", "2027-03-11T12:00"];
        var keys = Enumerable.Range(0, 20).Select(_ => TestIds.New("settle-race")).ToList();

        var race = await KeyRace.RunAsync(keys.Count, (round, which) => billing.SettleAsync(account, instants[which], keys[round]));

        Assert.All(race, r => Assert.Equal(("idempotency_key", "period_instant"), KeyRace.Refused(r.Refusal)));
        for (var round = 0; round < keys.Count; round++)
        {
            var bill = await billing.SettleAsync(account, instants[race[round].Winner], keys[round]); // the key's period answers
            Assert.Equal("bill-" + instants[race[round].Winner][..10], bill.BillId);
        }
    }

    [Fact]
    public async Task R_BIL_2_concurrent_settlements_of_unsettled_periods_issue_each_bill_once()
    {
        var account = await billing.ActivateAsync(Hosts.At("2027-05-01T09:00"), SettlementCycle.Daily);
        await billing.ChargeAsync(Enumerable.Range(0, 3).SelectMany(d => Usage.Many(d + 1, account, "basic_self_photo", Hosts.At("2027-05-01T12:00").AddDays(d))));

        var bills = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => billing.SettleAsync(account, i % 2 == 0 ? "2027-05-03T12:00" : "2027-05-02T12:00")));

        Assert.All(bills.Where(b => b.Period == "2027-05-03"), b => Assert.Equal(bills.First(x => x.Period == "2027-05-03"), b));
        Assert.All(bills.Where(b => b.Period == "2027-05-02"), b => Assert.Equal(bills.First(x => x.Period == "2027-05-02"), b));
        var listed = (await billing.Client.ListBillsAsync(new ListBillsRequest { AccountId = account })).Bills;
        Assert.Equal([("bill-2027-05-03", 45L), ("bill-2027-05-02", 30L), ("bill-2027-05-01", 15L)], listed.Select(b => (b.BillId, b.TotalFen)));
        await Eventually.AssertAsync(async () => (await Streams.EventsAsync(billing.Db, EventTopics.BillIssued, account)).Count == 3,
            BillingFixture.Timeout, "BillIssued for the three bills");
        Assert.Equal(3, (await Streams.EventsAsync(billing.Db, EventTopics.BillIssued, account)).Count);
    }

    [Fact]
    public async Task R_BIL_2_the_issuing_script_refuses_a_second_bill_for_a_period_and_a_draft_computed_before_another_settlement()
    {
        var account = await billing.ActivateAsync(Hosts.At("2027-08-01T09:00"), SettlementCycle.Daily);
        var store = billing.Host.Services.GetRequiredService<BillingStore>();
        var state = (await store.GetAccountAsync(account))!;
        var now = billing.Clock.GetUtcNow();
        BillDraft Draft(BillingPeriod p) => new(p, [], 0, [], [], []);
        BillRecord Record(BillingPeriod p) => new(p.BillId, account, p.Key, state.Cycle, state.PriceBook, p.Start, p.End, now, [], 0);
        var day1 = state.FirstPeriod;
        var versions = new Dictionary<string, long>();

        Assert.Equal(IssueStatus.Issued, (await store.IssueBillAsync(state, Draft(day1), versions, Record(day1), now)).Status);
        Assert.Equal(IssueStatus.Exists, (await store.IssueBillAsync(state, Draft(day1), versions, Record(day1), now)).Status);
        // A replica that drafted day 2 from the state read before day 1 was issued must recompute.
        Assert.Equal(IssueStatus.Conflict, (await store.IssueBillAsync(state, Draft(day1.Next), versions, Record(day1.Next), now)).Status);
        var fresh = (await store.GetAccountAsync(account))!;
        Assert.Equal(("2027-08-01", "2027-08-02"), (fresh.SettledThrough, fresh.NextToSettle.Key));
        Assert.Equal(IssueStatus.Issued, (await store.IssueBillAsync(fresh, Draft(day1.Next), versions, Record(day1.Next), now)).Status);
    }

    [Fact]
    public async Task R_BIL_2_late_records_of_a_settled_day_go_to_an_adjustment_on_the_next_bill_and_the_settled_bill_does_not_change()
    {
        var account = await billing.ActivateAsync(Hosts.At("2027-03-10T09:00"), SettlementCycle.Daily);
        await billing.ChargeAsync(Usage.Many(10, account, "enhanced_authoritative_app", Hosts.At("2027-03-10T12:00")));
        var day1 = await billing.SettleAsync(account, "2027-03-10T12:00");
        Assert.Equal(1_200, day1.TotalFen);

        // Two more calls of the 10th arrive after its bill, and 3 calls of the 11th.
        await billing.ChargeAsync(
        [
            .. Usage.Many(2, account, "enhanced_authoritative_app", Hosts.At("2027-03-10T23:00")),
            .. Usage.Many(3, account, "enhanced_authoritative_app", Hosts.At("2027-03-11T08:00")),
        ]);
        var day2 = await billing.SettleAsync(account, "2027-03-11T12:00");

        Assert.Collection(day2.Lines,
            l => Assert.Equal((BillLineKind.Postpaid, 3L, 360L, "2027-03-11"), (l.Kind, l.Calls, l.AmountFen, l.Reference)),
            l => Assert.Equal((BillLineKind.Adjustment, 2L, 120L, 240L, "2027-03"), (l.Kind, l.Calls, l.UnitPriceFen, l.AmountFen, l.Reference)));
        Assert.Equal(600, day2.TotalFen);
        Assert.Equal(day1, await billing.Client.GetBillAsync(new GetBillRequest { AccountId = account, BillId = day1.BillId }));
    }

    [Fact]
    public async Task R_BIL_2_late_records_of_a_settled_month_go_to_the_next_months_bill()
    {
        var account = await billing.ActivateAsync(Hosts.At("2022-09-20T09:00"), SettlementCycle.Monthly);
        await billing.ChargeAsync(Usage.Many(999, account, "bank_card_info_check", Hosts.At("2022-10-31T20:00")));
        var october = await billing.SettleAsync(account, "2022-10-31T20:00");
        Assert.Equal(999 * 40, october.TotalFen);

        await billing.ChargeAsync(Usage.Many(1, account, "bank_card_info_check", Hosts.At("2022-10-31T23:59:59"))); // late: reaches the 1,000 tier
        var november = await billing.SettleAsync(account, "2022-11-30T20:00");

        var adjustment = Assert.Single(november.Lines);
        Assert.Equal((BillLineKind.Adjustment, 1L, 38L, 1_000L * 38 - 999 * 40, "2022-10"),
            (adjustment.Kind, adjustment.Calls, adjustment.UnitPriceFen, adjustment.AmountFen, adjustment.Reference));
        Assert.Equal(1_000 * 38, october.TotalFen + november.TotalFen); // October as a whole is priced right in the end
    }

    [Fact]
    public async Task R_BIL_2_a_daily_accounts_bills_re_price_the_month_to_date_when_a_tier_is_reached()
    {
        var account = await billing.ActivateAsync(Hosts.At("2027-04-01T09:00"), SettlementCycle.Daily);
        await billing.ChargeAsync(
        [
            .. Usage.Many(600, account, "bank_card_info_check", Hosts.At("2027-04-01T10:00")),
            .. Usage.Many(500, account, "bank_card_info_check", Hosts.At("2027-04-02T10:00")),
        ]);

        var day1 = await billing.SettleAsync(account, "2027-04-01T10:00");
        var day2 = await billing.SettleAsync(account, "2027-04-02T10:00");

        Assert.Equal(600 * 40, day1.TotalFen);
        Assert.Equal([(BillLineKind.Postpaid, 500L, 19_000L), (BillLineKind.Adjustment, 0L, -1_200L)], day2.Lines.Select(l => (l.Kind, l.Calls, l.AmountFen)));
        Assert.Equal(1_100 * 38, day1.TotalFen + day2.TotalFen);
        var stats = await billing.StatisticsAsync(account, "2027-04-01T00:00", "2027-05-01T00:00", Granularity.Month);
        Assert.Equal(day1.TotalFen + day2.TotalFen, Assert.Single(stats).PostpaidAmountFen);
    }

    [Fact]
    public async Task R_BIL_2_a_leap_Februarys_bill_ends_at_midnight_after_the_29th_in_Shanghai()
    {
        var account = await billing.ActivateAsync(Hosts.At("2028-01-15T09:00"), SettlementCycle.Monthly);
        var lastSecond = DateTimeOffset.Parse("2028-02-29T15:59:59Z", System.Globalization.CultureInfo.InvariantCulture);
        await billing.ChargeAsync([Usage.Record(account, "basic_authoritative", lastSecond), Usage.Record(account, "basic_authoritative", lastSecond.AddSeconds(1))]);

        var february = await billing.SettleAsync(account, "2028-02-10T00:00");
        var march = await billing.SettleAsync(account, "2028-03-10T00:00");

        Assert.Equal(("bill-2028-02", Hosts.At("2028-03-01T00:00"), 1L), (february.BillId, february.PeriodEnd.ToDateTimeOffset(), Assert.Single(february.Lines).Calls));
        Assert.Equal(("bill-2028-03", 1L), (march.BillId, Assert.Single(march.Lines).Calls));
        Assert.Equal(Hosts.At("2028-03-01T00:00"), march.PeriodStart.ToDateTimeOffset());
    }

    [Fact]
    public async Task R_BIL_2_a_daily_account_is_settled_day_by_day_across_the_end_of_a_common_February()
    {
        var account = await billing.ActivateAsync(Hosts.At("2027-02-27T09:00"), SettlementCycle.Daily);
        await billing.ChargeAsync(
        [
            Usage.Record(account, "basic_self_photo", DateTimeOffset.Parse("2027-02-28T15:59:59Z", System.Globalization.CultureInfo.InvariantCulture)),
            Usage.Record(account, "basic_self_photo", DateTimeOffset.Parse("2027-02-28T16:00:00Z", System.Globalization.CultureInfo.InvariantCulture)),
        ]);

        var march1 = await billing.SettleAsync(account, "2027-03-01T12:00");

        var bills = (await billing.Client.ListBillsAsync(new ListBillsRequest { AccountId = account })).Bills;
        Assert.Equal(["bill-2027-03-01", "bill-2027-02-28", "bill-2027-02-27"], bills.Select(b => b.BillId));
        Assert.Equal(15, bills[1].TotalFen);
        Assert.Equal(15, march1.TotalFen);
        Assert.Equal(Hosts.At("2027-03-01T00:00"), bills[1].PeriodEnd.ToDateTimeOffset());
    }

    [Fact]
    public async Task R_BIL_2_settlement_refuses_periods_that_have_not_ended_or_precede_the_activation()
    {
        var account = await billing.ActivateAsync(Hosts.At("2027-03-10T09:00"), SettlementCycle.Daily);
        Assert.Equal("PERIOD_NOT_ENDED", await RpcAssert.FailedPreconditionAsync(() => billing.SettleAsync(account, "2099-01-01T00:00")));
        Assert.Equal("PERIOD_BEFORE_ACTIVATION", await RpcAssert.FailedPreconditionAsync(() => billing.SettleAsync(account, "2027-03-09T23:59:59")));
        await RpcAssert.NotFoundAsync(() => billing.SettleAsync(TestIds.New("nobody"), "2027-03-10T00:00"));
        await RpcAssert.NotFoundAsync(() => billing.Client.GetBillAsync(new GetBillRequest { AccountId = account, BillId = "bill-2027-03-10" }).ResponseAsync);
    }
}
