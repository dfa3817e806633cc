using FaceId.Auth;
using FaceId.Contracts.Billing.V1;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Metering.V1;
using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Packages.V1;
using FaceId.Contracts.Refund.V1;
using FaceId.TestKit;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Playwright;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace FaceId.Console.Tests;

/// <summary>A customer's console (console role, one main account): every number on the page is a service's answer.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class CustomerTests(ConsolePlatform platform)
{
    private static readonly string[] Charts = ["calls-by-label", "package-vs-postpaid", "by-access-mode", "by-sub-account", "month-view"];

    [Fact]
    public async Task The_usage_charts_show_exactly_the_rows_GetStatistics_answers_for_the_same_period()
    {
        var accountId = await platform.Services.OpenedAccountAsync();
        var sub = await platform.Services.SubAccountAsync(accountId, "East branch");
        // 3 + 2 calls of the main account (two labels, two access modes) and 4 of its sub-account.
        await RecordAsync(accountId, "basic_authoritative", AccessMode.Saas, 3);
        await RecordAsync(accountId, "basic_self_photo", AccessMode.Paas, 2);
        await RecordAsync(sub, "basic_authoritative", AccessMode.Saas, 4);
        var billing = new BillingService.BillingServiceClient(platform.Services.Billing.Channel);
        await Eventually.AssertAsync(async () => (await StatisticsAsync(billing, accountId, FaceId.Common.ChinaCalendar.StartOfMonth(DateTimeOffset.UtcNow), DateTimeOffset.UtcNow, Granularity.Day, false, false))
            .Sum(r => r.Calls) == 9, LocalPlatform.Timeout, "Billing counted the nine calls");

        var page = await platform.SignInAsCustomerAsync(accountId);
        await page.GotoAsync($"/accounts/{accountId}/usage");
        foreach (var id in Charts)
        {
            var chart = page.Locator($"#{id}");
            await Expect(chart).ToBeVisibleAsync();
            // The same question to GetStatistics: the period, granularity and split the page says it asked.
            var from = DateTimeOffset.Parse((await chart.GetAttributeAsync("data-from"))!);
            var to = DateTimeOffset.Parse((await chart.GetAttributeAsync("data-to"))!);
            var granularity = System.Enum.Parse<Granularity>((await chart.GetAttributeAsync("data-granularity"))!);
            var byAccessMode = await chart.GetAttributeAsync("data-by-access-mode") == "true";
            var bySubAccount = await chart.GetAttributeAsync("data-by-sub-account") == "true";
            var expected = await StatisticsAsync(billing, accountId, from, to, granularity, byAccessMode, bySubAccount);

            var shown = await chart.Locator("tr.statistics-row").EvaluateAllAsync<string[]>(
                "rows => rows.map(r => [r.dataset.period, r.dataset.label, r.dataset.accessMode, r.dataset.subAccount, r.dataset.calls, r.dataset.billable, r.dataset.package, r.dataset.postpaid, r.dataset.amountFen].join('|'))");
            Assert.Equal(expected.Select(Line).Order(), shown.Order());
            // The chart's series add up to the same calls.
            var series = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, long[]>>((await chart.GetAttributeAsync("data-series"))!)!;
            var charted = series.Values.Sum(v => v.Sum());
            Assert.Equal(id == "package-vs-postpaid" ? expected.Sum(r => r.PackageCalls + r.PostpaidCalls) : expected.Sum(r => r.Calls), charted);
            Assert.Equal(9, expected.Sum(r => r.Calls));
        }
        var bySub = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, long[]>>((await page.Locator("#by-sub-account").GetAttributeAsync("data-series"))!)!;
        Assert.Equal(4, bySub[sub].Sum());
        await ConsolePlatform.ScreenshotAsync(page, "customer-usage");
    }

    [Fact]
    public async Task R_REF_1_each_package_shows_up_front_whether_it_can_be_refunded_the_eligible_one_refunds_from_its_button()
    {
        var accountId = await platform.Services.OpenedAccountAsync();
        var packages = new PackagesService.PackagesServiceClient(platform.Services.Packages.Channel);
        var purchased = await packages.PurchasePackageAsync(new PurchasePackageRequest { OrderId = TestIds.New("order"), AccountId = accountId, Label = "basic_self_photo", Size = 1000 });
        var used = await packages.PurchasePackageAsync(new PurchasePackageRequest { OrderId = TestIds.New("order"), AccountId = accountId, Label = "id_info_check", Size = 1000 });
        var overtaken = await packages.PurchasePackageAsync(new PurchasePackageRequest { OrderId = TestIds.New("order"), AccountId = accountId, Label = "phone_info_check", Size = 1000 });
        await RecordAsync(accountId, "id_info_check", AccessMode.Saas, 1); // no trial of this label: the purchased package pays
        var trial = (await packages.ListPackagesAsync(new ListPackagesRequest { AccountId = accountId })).Packages.First(p => p.Free);
        var refunds = new RefundService.RefundServiceClient(platform.Services.Refund.Channel);
        var eligibility = (await refunds.ListRefundEligibilityAsync(new ListRefundEligibilityRequest { AccountId = accountId })).Packages.ToDictionary(e => e.PackageId);
        Assert.Equal("REFUND_PACKAGE_FREE", eligibility[trial.PackageId].Reason);
        Assert.Equal("REFUND_PACKAGE_USED", eligibility[used.PackageId].Reason);
        Assert.Equal(new[] { purchased.PackageId, overtaken.PackageId }.Order(), eligibility.Values.Where(e => e.Refundable).Select(e => e.PackageId).Order());

        // Before any click: a button exactly where ListRefundEligibility allows a refund, its reason and description where it does not.
        var page = await platform.SignInAsCustomerAsync(accountId);
        await page.GotoAsync($"/accounts/{accountId}/packages");
        await Expect(page.Locator("#packages tr[data-package-id]")).ToHaveCountAsync(eligibility.Count);
        foreach (var e in eligibility.Values)
        {
            var row = page.Locator($"tr[data-package-id='{e.PackageId}']");
            if (e.Refundable)
            {
                await Expect(row.Locator("button[data-refund]")).ToHaveCountAsync(1);
                await Expect(row.Locator(".refund-refused")).ToHaveCountAsync(0);
            }
            else
            {
                await Expect(row.Locator("button[data-refund]")).ToHaveCountAsync(0);
                await Expect(row.Locator(".refund-refused")).ToHaveAttributeAsync("data-reason", e.Reason);
                await Expect(row.Locator(".refund-refused")).ToContainTextAsync(e.Description);
            }
        }
        Assert.Empty((await refunds.ListRefundsAsync(new ListRefundsRequest { AccountId = accountId })).Refunds); // nothing was asked of RequestRefund
        await ConsolePlatform.ScreenshotAsync(page, "customer-packages-eligibility");

        // The eligible package refunds from its button: the amount and state are the Refund service's.
        await page.ClickAsync($"button[data-refund='{purchased.PackageId}']");
        var result = page.Locator("#refund-result");
        await Expect(result).ToBeVisibleAsync();
        var refund = (await refunds.ListRefundsAsync(new ListRefundsRequest { AccountId = accountId })).Refunds.Single();
        Assert.Equal(purchased.PackageId, refund.PackageId);
        Assert.Equal(purchased.PriceFen, refund.AmountFen);
        Assert.Equal(refund.AmountFen.ToString(), await result.GetAttributeAsync("data-amount-fen"));
        await Expect(page.Locator($"tr[data-package-id='{purchased.PackageId}'] .refund-state")).ToHaveAttributeAsync("data-state", refund.State.ToString());
        await Expect(page.Locator($"button[data-refund='{purchased.PackageId}']")).ToHaveCountAsync(0);
        await ConsolePlatform.ScreenshotAsync(page, "customer-packages-refund");

        // R-REF-2: a call uses a package after the page showed its button; RequestRefund still decides, and the page shows its refusal.
        await RecordAsync(accountId, "phone_info_check", AccessMode.Saas, 1);
        await page.ClickAsync($"button[data-refund='{overtaken.PackageId}']");
        await Expect(page.Locator("#refund-error")).ToHaveAttributeAsync("data-reason", "REFUND_PACKAGE_USED");
        await Expect(page.Locator($"tr[data-package-id='{overtaken.PackageId}'] .refund-refused")).ToHaveAttributeAsync("data-reason", "REFUND_PACKAGE_USED");
        await Expect(page.Locator($"button[data-refund='{overtaken.PackageId}']")).ToHaveCountAsync(0);
        await ConsolePlatform.ScreenshotAsync(page, "customer-packages-refused");

        await page.GotoAsync($"/accounts/{accountId}/refunds");
        await Expect(page.Locator("#refunds tr[data-refund-id]")).ToHaveCountAsync(2);
        await Expect(page.Locator($"#refunds tr[data-package-id='{overtaken.PackageId}']")).ToHaveAttributeAsync("data-reason", "REFUND_PACKAGE_USED");
    }

    [Fact]
    public async Task A_sub_accounts_token_cannot_open_the_main_accounts_bills()
    {
        var accountId = await platform.Services.OpenedAccountAsync();
        var sub = await platform.Services.SubAccountAsync(accountId, "East branch");

        var main = await platform.SignInAsCustomerAsync(accountId);
        await main.GotoAsync($"/accounts/{accountId}/bills");
        await Expect(main.Locator("#balance")).ToBeVisibleAsync();

        var subPage = await platform.SignInAsync(Roles.SubAccount, sub);
        await subPage.GotoAsync($"/accounts/{accountId}/bills");
        await Expect(subPage.Locator("#error")).ToHaveAttributeAsync("data-status", "PermissionDenied");
        await Expect(subPage.Locator("#balance")).ToHaveCountAsync(0);
        await Expect(subPage.Locator("#bills")).ToHaveCountAsync(0);
        await ConsolePlatform.ScreenshotAsync(subPage, "subaccount-bills-denied");
    }

    internal static string Line(StatisticsRow r) =>
        string.Join('|', r.Period, r.Label, r.AccessMode, r.SubAccountId, r.Calls, r.BillableCalls, r.PackageCalls, r.PostpaidCalls, r.PostpaidAmountFen);

    internal static async Task<List<StatisticsRow>> StatisticsAsync(BillingService.BillingServiceClient billing, string accountId,
        DateTimeOffset from, DateTimeOffset to, Granularity granularity, bool byAccessMode, bool bySubAccount)
    {
        var answer = await billing.GetStatisticsAsync(new GetStatisticsRequest
        {
            AccountId = accountId, From = Timestamp.FromDateTimeOffset(from), To = Timestamp.FromDateTimeOffset(to),
            Granularity = granularity, ByAccessMode = byAccessMode, BySubAccount = bySubAccount, Page = new PageRequest { PageSize = 500 },
        });
        Assert.Empty(answer.NextPageToken);
        return [.. answer.Rows];
    }

    internal async Task RecordAsync(string accountId, string label, AccessMode mode, int calls)
    {
        var metering = new MeteringService.MeteringServiceClient(platform.Services.Metering.Channel);
        var request = new RecordUsageBatchRequest();
        for (var i = 0; i < calls; i++)
            request.Records.Add(new UsageRecord
            {
                RequestId = TestIds.New("call"), AccountId = accountId, Label = label, AccessMode = mode, ReturnCode = "0",
                OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            });
        var outcomes = (await metering.RecordUsageBatchAsync(request)).Outcomes;
        Assert.All(outcomes, o => Assert.Equal(Refusal.Unspecified, o.Refusal));
    }
}
