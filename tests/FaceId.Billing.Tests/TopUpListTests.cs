using FaceId.Billing.Tests.Support;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.TestKit;
using Xunit;

namespace FaceId.Billing.Tests;

/// <summary>
/// ListTopUps: the account's top-ups as applied (R-BIL-4), newest first, each with the balance and
/// arrears it left; a retried top-up is listed once. Its own Billing host: the tests move the clock.
/// </summary>
public sealed class TopUpListTests(BillingFixture billing) : IClassFixture<BillingFixture>
{
    private Task<Balance> TopUpAsync(string account, long fen, string? key = null) =>
        billing.Client.TopUpAsync(new TopUpRequest { IdempotencyKey = key ?? TestIds.New("topup"), AccountId = account, AmountFen = fen }).ResponseAsync;

    private Task<ListTopUpsResponse> ListAsync(string account, int pageSize = 0, string pageToken = "") =>
        billing.Client.ListTopUpsAsync(new ListTopUpsRequest { AccountId = account, Page = new PageRequest { PageSize = pageSize, PageToken = pageToken } }).ResponseAsync;

    private static string Line(TopUpRecord t) => $"{t.IdempotencyKey}|{t.AmountFen}|{t.BalanceAfterFen}|{t.ArrearsAfterFen}";

    [Fact]
    public async Task R_BIL_4_top_ups_are_listed_once_newest_first_with_the_balance_and_arrears_each_left_in_pages()
    {
        var account = await billing.ActivateAsync(Hosts.At("2027-03-10T09:00"), SettlementCycle.Daily);
        Assert.Empty((await ListAsync(account)).TopUps);
        await billing.ChargeAsync(Usage.Many(5, account, "basic_authoritative", Hosts.At("2027-03-10T10:00"))); // 500 fen
        Assert.Equal(500, (await billing.SettleAsync(account, "2027-03-10T10:00")).OutstandingFen);

        var first = TestIds.New("topup");
        var firstAt = billing.Clock.GetUtcNow();
        await TopUpAsync(account, 200, first);      // pays 200 of the 500 due
        billing.Clock.Advance(TimeSpan.FromMinutes(1));
        await TopUpAsync(account, 200, first);      // a retry: not another top-up
        var second = TestIds.New("topup");
        await TopUpAsync(account, 1_000, second);   // pays the other 300
        billing.Clock.Advance(TimeSpan.FromMinutes(1));
        var third = TestIds.New("topup");
        var balance = await TopUpAsync(account, 55, third);

        var all = (await ListAsync(account)).TopUps;
        Assert.Equal([$"{third}|55|755|0", $"{second}|1000|700|0", $"{first}|200|0|300"], all.Select(Line).ToArray());
        Assert.Equal(balance.BalanceFen, all[0].BalanceAfterFen);
        Assert.Equal(firstAt, all[2].ToppedUpAt.ToDateTimeOffset());
        Assert.Equal(firstAt.AddMinutes(1), all[1].ToppedUpAt.ToDateTimeOffset());

        var page1 = await ListAsync(account, pageSize: 2);
        Assert.Equal(all.Take(2).Select(Line), page1.TopUps.Select(Line));
        Assert.NotEmpty(page1.NextPageToken);
        var page2 = await ListAsync(account, pageSize: 2, pageToken: page1.NextPageToken);
        Assert.Equal([Line(all[2])], page2.TopUps.Select(Line).ToArray());
        Assert.Empty(page2.NextPageToken);
    }

    [Fact]
    public async Task R_BIL_4_concurrent_top_ups_and_their_retries_are_each_listed_once_as_one_serial_history_of_the_balance()
    {
        var account = await billing.ActivateAsync(Hosts.At("2027-03-10T09:00"), SettlementCycle.Daily);
        var keys = Enumerable.Range(1, 40).Select(i => (Key: TestIds.New("topup"), Fen: (long)i * 10)).ToList();

        // Every top-up sent four times at once, all of them concurrently.
        await Task.WhenAll(keys.SelectMany(k => Enumerable.Range(0, 4).Select(_ => TopUpAsync(account, k.Fen, k.Key))));

        var listed = (await ListAsync(account, pageSize: 500)).TopUps;
        Assert.Equal(keys.Select(k => $"{k.Key}|{k.Fen}").Order(), listed.Select(t => $"{t.IdempotencyKey}|{t.AmountFen}").Order());
        // Each entry's balance is the one before it plus its amount: the log is the serial order the script applied them in.
        var running = 0L;
        foreach (var t in listed.OrderBy(t => t.BalanceAfterFen))
        {
            running += t.AmountFen;
            Assert.Equal(running, t.BalanceAfterFen);
        }
        Assert.Equal((await billing.Client.GetBalanceAsync(new GetBalanceRequest { AccountId = account })).BalanceFen, running);
    }

    [Fact]
    public async Task Bad_input_is_INVALID_ARGUMENT_with_the_field_and_an_unknown_account_NOT_FOUND()
    {
        var account = await billing.ActivateAsync(Hosts.At("2027-03-10T09:00"), SettlementCycle.Daily);
        Assert.Equal(["account_id"], await RpcAssert.InvalidArgumentAsync(() => ListAsync("acc*bad")));
        Assert.Equal(["account_id"], await RpcAssert.InvalidArgumentAsync(() => ListAsync("")));
        Assert.Equal(["page.page_size"], await RpcAssert.InvalidArgumentAsync(() => ListAsync(account, pageSize: 501)));
        Assert.Equal(["page.page_token"], await RpcAssert.InvalidArgumentAsync(() => ListAsync(account, pageToken: "nope")));
        await RpcAssert.NotFoundAsync(() => ListAsync(TestIds.New("nobody")));
    }
}
