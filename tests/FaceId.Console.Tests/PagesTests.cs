using FaceId.Auth;
using FaceId.Billing.Grpc;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Packages.V1;
using FaceId.Contracts.Refund.V1;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Playwright;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace FaceId.Console.Tests;

/// <summary>
/// Every page of a customer's console with real data from the services, in both languages; one
/// screenshot each. Every number a page shows is compared with the service's answer for the same account.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class PagesTests(ConsolePlatform platform)
{
    [Fact]
    public async Task Every_customer_page_shows_exactly_the_services_answers_and_is_saved_as_a_screenshot()
    {
        var accountId = await platform.Services.OpenedAccountAsync();
        var onboarding = new OnboardingService.OnboardingServiceClient(platform.Services.Onboarding.Channel);
        var packages = new PackagesService.PackagesServiceClient(platform.Services.Packages.Channel);
        var billing = new BillingService.BillingServiceClient(platform.Services.Billing.Channel);
        var refunds = new RefundService.RefundServiceClient(platform.Services.Refund.Channel);
        await platform.Services.SubAccountAsync(accountId, "华东分公司");
        var purchased = await packages.PurchasePackageAsync(
            new PurchasePackageRequest { OrderId = TestIds.New("order"), AccountId = accountId, Label = "enhanced_authoritative_wechat", Size = 1000 });
        await new CustomerTests(platform).RecordAsync(accountId, "basic_authoritative", AccessMode.Saas, 120); // past the 100 trial calls: some postpaid
        // A top-up before the bill (it pays part of it), the bill, then one that pays the rest; a refund credited later.
        await billing.TopUpAsync(new TopUpRequest { IdempotencyKey = TestIds.New("topup"), AccountId = accountId, AmountFen = 100 });
        var bill = await SettleTodayAsync(accountId);
        var arrears = (await billing.GetBalanceAsync(new GetBalanceRequest { AccountId = accountId })).ArrearsFen;
        await billing.TopUpAsync(new TopUpRequest { IdempotencyKey = TestIds.New("topup"), AccountId = accountId, AmountFen = arrears + 1_000 });
        await refunds.RequestRefundAsync(new RequestRefundRequest { IdempotencyKey = TestIds.New("refund"), AccountId = accountId, PackageId = purchased.PackageId });

        var page = await platform.SignInAsCustomerAsync(accountId);
        await page.GotoAsync($"/accounts/{accountId}");
        var account = await onboarding.GetAccountAsync(new GetAccountRequest { AccountId = accountId });
        await Expect(page.Locator("#service-state")).ToHaveAttributeAsync("data-price-book", account.PriceBook);
        // The price book is GetCatalog's, label by label: the postpaid price, the tiers, the package offers.
        var catalog = await packages.GetCatalogAsync(new GetCatalogRequest { PriceBook = account.PriceBook });
        await Expect(page.Locator("#price-book")).ToHaveAttributeAsync("data-version", catalog.Version);
        await AssertPageShowsAsync(page, $"/accounts/{accountId}", "#price-book", "#price-book tr[data-label]",
            "r.dataset.label, r.dataset.postpaidFen, r.dataset.tiers, r.dataset.packages",
            () => Task.FromResult(catalog.Labels.Select(l => string.Join('|', l.Label, l.PostpaidUnitPriceFen,
                string.Join(' ', l.Tiers.Select(t => $"{t.MinCalls}:{t.UnitPriceFen}:{t.ContractPrice.ToString().ToLowerInvariant()}")),
                string.Join(' ', l.Packages.Select(o => $"{o.Size}:{o.PriceFen}"))))),
            "the overview's price book is GetCatalog's");
        // Remaining calls per label are GetBalances'; money is GetBalance's.
        await AssertPageShowsAsync(page, $"/accounts/{accountId}", "#balances", "#balances tr[data-label]",
            "r.dataset.label, r.dataset.remaining, r.dataset.activePackages",
            async () => (await packages.GetBalancesAsync(new GetBalancesRequest { AccountId = accountId })).Balances.Select(b => $"{b.Label}|{b.Remaining}|{b.ActivePackages}"),
            "the overview's balances per label are GetBalances'");
        await AssertPageShowsAsync(page, $"/accounts/{accountId}", "#money", "#money", "r.dataset.balanceFen, r.dataset.arrearsFen",
            async () => [await MoneyAsync(billing, accountId)], "the overview's balance and arrears are GetBalance's");
        await ConsolePlatform.ScreenshotAsync(page, "customer-overview");

        // Bills: the balance, each top-up and each bill with its lines, as Billing answers them.
        var bills = $"/accounts/{accountId}/bills";
        await AssertPageShowsAsync(page, bills, "#balance", "#balance", "r.dataset.balanceFen, r.dataset.arrearsFen",
            async () => [await MoneyAsync(billing, accountId)], "the bills page's balance and arrears are GetBalance's");
        await AssertPageShowsAsync(page, bills, "#top-ups", "#top-ups tr.top-up",
            "r.dataset.key, r.dataset.amountFen, r.dataset.balanceAfterFen, r.dataset.arrearsAfterFen",
            async () => (await billing.ListTopUpsAsync(new ListTopUpsRequest { AccountId = accountId })).TopUps
                .Select(t => $"{t.IdempotencyKey}|{t.AmountFen}|{t.BalanceAfterFen}|{t.ArrearsAfterFen}"),
            "the bills page's top-ups are ListTopUps'");
        await AssertPageShowsAsync(page, bills, "#bills", "#bills [data-bill-id]", "r.dataset.billId, r.dataset.totalFen, r.dataset.status",
            async () => (await billing.ListBillsAsync(new ListBillsRequest { AccountId = accountId })).Bills.Select(b => $"{b.BillId}|{b.TotalFen}|{b.Status}"),
            "the bills page's bills are ListBills'");
        await AssertPageShowsAsync(page, bills, "#bills", $"[data-bill-id='{bill.BillId}'] tr.bill-line",
            "r.dataset.kind, r.dataset.label, r.dataset.calls, r.dataset.amountFen",
            () => Task.FromResult(bill.Lines.Select(l => $"{l.Kind}|{l.Label}|{l.Calls}|{l.AmountFen}")), "the bill's lines are SettlePeriod's");
        Assert.Contains(bill.Lines, l => l.Kind == BillLineKind.Postpaid);
        await Expect(page.Locator("#top-ups tr.top-up")).ToHaveCountAsync(2);
        await ConsolePlatform.ScreenshotAsync(page, "customer-bills");

        // Messages keep arriving (alerts, the bill): the page and ListInbox agree once the inbox is still.
        await Eventually.AssertAsync(async () =>
        {
            await page.GotoAsync($"/accounts/{accountId}/inbox");
            await Expect(page.Locator("#unread-count")).ToBeVisibleAsync();
            var listed = await onboarding.ListInboxAsync(new ListInboxRequest { AccountId = accountId });
            return await page.Locator("#unread-count").GetAttributeAsync("data-unread") == listed.UnreadCount.ToString()
                && await page.Locator("#inbox tr[data-message-id]").CountAsync() == listed.Messages.Count;
        }, LocalPlatform.Timeout, "the inbox page shows ListInbox's messages and unread count");
        await ConsolePlatform.ScreenshotAsync(page, "customer-inbox");
        await page.ClickAsync("#mark-read");
        await Expect(page.Locator("#unread-count")).ToHaveAttributeAsync("data-unread", "0");
        Assert.Equal(0, (await onboarding.ListInboxAsync(new ListInboxRequest { AccountId = accountId })).UnreadCount);

        var subAccounts = $"/accounts/{accountId}/subaccounts";
        await page.GotoAsync(subAccounts);
        await Expect(page.Locator("#subaccounts tr[data-account-id]")).ToHaveCountAsync(1);
        await page.Locator("#subaccount-name").FillAsync("华南分公司");
        await page.ClickAsync("#subaccount-create");
        await Expect(page.Locator("#subaccounts tr[data-account-id]")).ToHaveCountAsync(2);
        await AssertPageShowsAsync(page, subAccounts, "#subaccounts", "#subaccounts tr[data-account-id]", "r.dataset.accountId, r.dataset.name, r.dataset.createdAt",
            async () => (await onboarding.ListSubAccountsAsync(new ListSubAccountsRequest { MainAccountId = accountId })).Accounts
                .Select(a => $"{a.AccountId}|{a.DisplayName}|{a.CreatedAt?.ToDateTimeOffset().ToString("O")}"),
            "the sub-accounts page is ListSubAccounts'");
        await ConsolePlatform.ScreenshotAsync(page, "customer-subaccounts");

        await AssertPageShowsAsync(page, $"/accounts/{accountId}/refunds", "#refunds", "#refunds tr[data-refund-id]",
            "r.dataset.refundId, r.dataset.packageId, r.dataset.amountFen, r.dataset.state, r.dataset.reason",
            async () => (await refunds.ListRefundsAsync(new ListRefundsRequest { AccountId = accountId })).Refunds
                .Select(r => $"{r.RefundId}|{r.PackageId}|{r.AmountFen}|{r.State}|{r.RejectionReason}"),
            "the refunds page's amounts and states are ListRefunds'");
        await Expect(page.Locator($"#refunds tr[data-package-id='{purchased.PackageId}']")).ToHaveAttributeAsync("data-amount-fen", purchased.PriceFen.ToString());
        await ConsolePlatform.ScreenshotAsync(page, "customer-refunds");

        // Simplified Chinese by default; the English switch is kept in the culture cookie.
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "zh-CN");
        await Expect(page.Locator(".mud-drawer")).ToContainTextAsync("资源包");
        await page.ClickAsync("#lang-en");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "en");
        await Expect(page.Locator(".mud-drawer")).ToContainTextAsync("Packages");
        await page.GotoAsync($"/accounts/{accountId}/usage");
        await Expect(page.Locator("#calls-by-label")).ToContainTextAsync("Calls per day by label");
        await ConsolePlatform.ScreenshotAsync(page, "customer-usage-en");
    }

    /// <summary>A real bill of the account's first (daily) period, once Billing counted the 120 calls (LocalPlatform.SettleTodayAsync).</summary>
    private async Task<Bill> SettleTodayAsync(string accountId)
    {
        await Eventually.AssertAsync(async () => (await new BillingService.BillingServiceClient(platform.Services.Billing.Channel).GetStatisticsAsync(new GetStatisticsRequest
        {
            AccountId = accountId, From = Timestamp.FromDateTimeOffset(FaceId.Common.ChinaCalendar.StartOfDay(DateTimeOffset.UtcNow)),
            To = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), Granularity = Granularity.Day,
        })).Rows.Sum(r => r.Calls) == 120, LocalPlatform.Timeout, "Billing counted the 120 calls");
        return await platform.Services.SettleTodayAsync<BillingGrpcService>(accountId);
    }

    private static async Task<string> MoneyAsync(BillingService.BillingServiceClient billing, string accountId)
    {
        var balance = await billing.GetBalanceAsync(new GetBalanceRequest { AccountId = accountId });
        return $"{balance.BalanceFen}|{balance.ArrearsFen}";
    }

    /// <summary>
    /// Opens <paramref name="path"/> until the rows it shows (<paramref name="rows"/>, each as the data
    /// attributes <paramref name="fields"/>) equal the service's answer, both read afresh each time: the
    /// services keep working meanwhile (a refund completes, its credit reaches the balance).
    /// </summary>
    private static async Task AssertPageShowsAsync(IPage page, string path, string ready, string rows, string fields,
        Func<Task<IEnumerable<string>>> answer, string because)
    {
        var last = await Eventually.GetAsync(async () =>
        {
            await page.GotoAsync(path);
            await Expect(page.Locator(ready)).ToBeVisibleAsync();
            var shown = await page.Locator(rows).EvaluateAllAsync<string[]>($"rows => rows.map(r => [{fields}].join('|'))");
            return (Shown: string.Join(Environment.NewLine, shown), Answer: string.Join(Environment.NewLine, await answer()));
        }, r => r.Shown == r.Answer, LocalPlatform.Timeout, because);
        Assert.NotEmpty(last.Answer);
    }
}
