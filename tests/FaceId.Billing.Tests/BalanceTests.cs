using FaceId.Billing.Tests.Support;
using FaceId.Contracts;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Events.V1;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace FaceId.Billing.Tests;

/// <summary>R-BIL-4 and R-REF-3 without the clock: top-ups, bills paid from the balance at issue, arrears, refund credits.</summary>
public sealed class BalanceTests(BillingFixture billing) : IClassFixture<BillingFixture>
{
    private Task<Balance> TopUpAsync(string account, long fen, string? key = null) =>
        billing.Client.TopUpAsync(new TopUpRequest { IdempotencyKey = key ?? TestIds.New("topup"), AccountId = account, AmountFen = fen }).ResponseAsync;

    private Task<Balance> BalanceAsync(string account) => billing.Client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }).ResponseAsync;

    [Fact]
    public async Task R_BIL_4_a_top_up_is_added_once_per_idempotency_key()
    {
        var account = await billing.ActivateAsync(Hosts.At("2027-03-10T09:00"), SettlementCycle.Daily);
        var key = TestIds.New("topup");

        var first = await TopUpAsync(account, 12_345, key);
        var retries = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => TopUpAsync(account, 12_345, key)));
        await TopUpAsync(account, 55);

        Assert.Equal(12_345, first.BalanceFen);
        Assert.All(retries, r => Assert.Equal(first, r)); // the balance after the first call's top-up
        Assert.Equal(12_400, (await BalanceAsync(account)).BalanceFen);
        Assert.Equal(("idempotency_key", "amount_fen"), await RpcAssert.KeyReusedAsync(() => TopUpAsync(account, 1, key)));
        Assert.Equal(12_400, (await BalanceAsync(account)).BalanceFen); // the refused reuse changed nothing
        await RpcAssert.NotFoundAsync(() => TopUpAsync(TestIds.New("nobody"), 100));
        var fields = await RpcAssert.InvalidArgumentAsync(() => TopUpAsync(account, 0, "bad key"));
        Assert.Equal(["idempotency_key", "amount_fen"], fields);
        Assert.Equal(["amount_fen"], await RpcAssert.InvalidArgumentAsync(() => TopUpAsync(account, 10_000_000_001)));
    }

    [Fact]
    public async Task R_BIL_4_two_different_top_ups_racing_on_one_key_add_one_amount_and_the_other_is_refused()
    {
        var account = await billing.ActivateAsync(Hosts.At("2027-03-10T09:00"), SettlementCycle.Daily);
        var keys = Enumerable.Range(0, 20).Select(_ => TestIds.New("topup-race")).ToList();

        var race = await KeyRace.RunAsync(keys.Count, (round, which) => TopUpAsync(account, 100 + which, keys[round]));

        Assert.All(race, r => Assert.Equal(("idempotency_key", "amount_fen"), KeyRace.Refused(r.Refusal)));
        Assert.Equal(race.Sum(r => 100L + r.Winner), (await BalanceAsync(account)).BalanceFen);
    }

    [Fact]
    public async Task R_BIL_4_bills_are_paid_from_the_balance_and_what_it_cannot_cover_is_arrears_paid_oldest_first()
    {
        var account = await billing.ActivateAsync(Hosts.At("2027-03-10T09:00"), SettlementCycle.Daily);
        await TopUpAsync(account, 1_000);
        await billing.ChargeAsync(
        [
            .. Usage.Many(8, account, "basic_authoritative", Hosts.At("2027-03-10T10:00")),   // 800 fen
            .. Usage.Many(5, account, "basic_authoritative", Hosts.At("2027-03-11T10:00")),   // 500 fen
        ]);

        var day1 = await billing.SettleAsync(account, "2027-03-10T10:00");
        Assert.Equal((BillStatus.Paid, 0L), (day1.Status, day1.OutstandingFen));
        Assert.Equal((200L, 0L, false), Tuple(await BalanceAsync(account)));

        var day2 = await billing.SettleAsync(account, "2027-03-11T10:00");
        Assert.Equal((BillStatus.InArrears, 300L), (day2.Status, day2.OutstandingFen));
        var inArrears = await BalanceAsync(account);
        Assert.Equal((0L, 300L, false), Tuple(inArrears));
        Assert.Equal(billing.Clock.GetUtcNow(), inArrears.ArrearsSince.ToDateTimeOffset());
        Assert.Equal(billing.Clock.GetUtcNow().AddHours(24), inArrears.SuspendAt.ToDateTimeOffset());

        var partial = await TopUpAsync(account, 100);
        Assert.Equal((0L, 200L, false), Tuple(partial));
        var paid = await TopUpAsync(account, 250);
        Assert.Equal((50L, 0L, false), Tuple(paid));
        Assert.Null(paid.ArrearsSince);
        var bill = await billing.Client.GetBillAsync(new GetBillRequest { AccountId = account, BillId = day2.BillId });
        Assert.Equal((BillStatus.Paid, 0L), (bill.Status, bill.OutstandingFen));
        // Not suspended, so paying it publishes no ServiceResumed.
        Assert.Empty(await Streams.EventsAsync(billing.Db, EventTopics.ServiceResumed, account));
    }

    [Fact]
    public async Task R_REF_3_a_refund_is_credited_to_the_balance_once_and_listed_on_the_next_bill()
    {
        var account = await billing.ActivateAsync(Hosts.At("2027-03-10T09:00"), SettlementCycle.Daily);
        await billing.PublishAsync(new PackageDelivered
        {
            AccountId = account, PackageId = "pkg-refunded", Label = "id_info_check", Size = 1_000, PriceFen = 30_000,
            PurchasedAt = Timestamp.FromDateTimeOffset(Hosts.At("2027-03-10T10:00")), PriceBook = "2021-06",
        });
        var day1 = await billing.SettleAsync(account, "2027-03-10T10:00");
        Assert.Equal((30_000L, BillStatus.InArrears), (day1.TotalFen, day1.Status)); // the purchase, on a 0 balance

        var refund = new RefundCompleted
        {
            RefundId = "ref-1", AccountId = account, PackageId = "pkg-refunded", AmountFen = 30_000,
            CompletedAt = Timestamp.FromDateTimeOffset(Hosts.At("2027-03-11T09:00")),
        };
        await billing.PublishAsync(refund);
        await billing.PublishAsync(refund); // replayed under another event id: credited once
        await billing.ConsumedAsync(EventTopics.RefundCompleted);

        Assert.Equal((0L, 0L, false), Tuple(await BalanceAsync(account))); // the credit paid the purchase's arrears
        var day2 = await billing.SettleAsync(account, "2027-03-11T10:00");
        var line = Assert.Single(day2.Lines);
        Assert.Equal((BillLineKind.RefundCredit, "id_info_check", -30_000L, "ref-1"), (line.Kind, line.Label, line.AmountFen, line.Reference));
        Assert.Equal(-30_000, day2.TotalFen);
        Assert.Equal(BillStatus.Paid, day2.Status);
        Assert.Equal((0L, 0L, false), Tuple(await BalanceAsync(account))); // listed, not credited twice
    }

    private static (long Balance, long Arrears, bool Suspended) Tuple(Balance b) => (b.BalanceFen, b.ArrearsFen, b.Suspended);
}
