using FaceId.Auth;
using FaceId.Billing.Grpc;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Packages.V1;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace FaceId.Console.Tests;

/// <summary>Every page of a customer's console with real data from the services, in both languages; one screenshot each.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class PagesTests(ConsolePlatform platform)
{
    [Fact]
    public async Task Every_customer_page_shows_the_services_answers_and_is_saved_as_a_screenshot()
    {
        var accountId = await platform.Services.OpenedAccountAsync();
        var onboarding = new OnboardingService.OnboardingServiceClient(platform.Services.Onboarding.Channel);
        await onboarding.CreateSubAccountAsync(new CreateSubAccountRequest { IdempotencyKey = TestIds.New("sub"), MainAccountId = accountId, DisplayName = "华东分公司" });
        await new PackagesService.PackagesServiceClient(platform.Services.Packages.Channel).PurchasePackageAsync(
            new PurchasePackageRequest { OrderId = TestIds.New("order"), AccountId = accountId, Label = "enhanced_authoritative_wechat", Size = 1000 });
        await new CustomerTests(platform).RecordAsync(accountId, "basic_authoritative", AccessMode.Saas, 120); // past the 100 trial calls: some postpaid
        var bill = await SettleTodayAsync(accountId);

        var page = await platform.SignInAsCustomerAsync(accountId);
        await page.GotoAsync($"/accounts/{accountId}");
        var account = await onboarding.GetAccountAsync(new GetAccountRequest { AccountId = accountId });
        await Expect(page.Locator("#service-state")).ToHaveAttributeAsync("data-price-book", account.PriceBook);
        await Expect(page.Locator("#price-book tr[data-label]")).Not.ToHaveCountAsync(0);
        await Expect(page.Locator("#balances tr[data-label]")).Not.ToHaveCountAsync(0);
        await ConsolePlatform.ScreenshotAsync(page, "customer-overview");

        await page.GotoAsync($"/accounts/{accountId}/bills");
        var shownBill = page.Locator($"[data-bill-id='{bill.BillId}']");
        await Expect(shownBill).ToHaveAttributeAsync("data-total-fen", bill.TotalFen.ToString());
        await Expect(shownBill.Locator("tr.bill-line")).ToHaveCountAsync(bill.Lines.Count);
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

        await page.GotoAsync($"/accounts/{accountId}/subaccounts");
        await Expect(page.Locator("#subaccounts tr[data-account-id]")).ToHaveCountAsync(1);
        await page.Locator("#subaccount-name").FillAsync("华南分公司");
        await page.ClickAsync("#subaccount-create");
        await Expect(page.Locator("#subaccounts tr[data-account-id]")).ToHaveCountAsync(2);
        await ConsolePlatform.ScreenshotAsync(page, "customer-subaccounts");

        await page.GotoAsync($"/accounts/{accountId}/refunds");
        await Expect(page.Locator("#refunds")).ToBeVisibleAsync();
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

    /// <summary>
    /// A real bill of the account's first (daily) period: it ends tonight, so Billing's code settles it
    /// in process with a clock set to tomorrow, on the platform's Redis (as the HTTP/JSON tests do).
    /// </summary>
    private async Task<Bill> SettleTodayAsync(string accountId)
    {
        await Eventually.AssertAsync(async () => (await new BillingService.BillingServiceClient(platform.Services.Billing.Channel).GetStatisticsAsync(new GetStatisticsRequest
        {
            AccountId = accountId, From = Timestamp.FromDateTimeOffset(FaceId.Common.ChinaCalendar.StartOfDay(DateTimeOffset.UtcNow)),
            To = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), Granularity = Granularity.Day,
        })).Rows.Sum(r => r.Calls) == 120, LocalPlatform.Timeout, "Billing counted the 120 calls");
        var tomorrow = new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(1));
        await using var billing = new InProcessService<BillingGrpcService>(
            new Dictionary<string, string?> { ["Redis:ConnectionString"] = platform.Services.Redis.ConnectionString, ["EventBus:OutboxRelayEnabled"] = "false" },
            services => services.AddSingleton<TimeProvider>(tomorrow)).Start();
        return await new BillingService.BillingServiceClient(billing.Channel).SettlePeriodAsync(new SettlePeriodRequest
        {
            IdempotencyKey = TestIds.New("settle"), AccountId = accountId, PeriodInstant = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        });
    }
}
