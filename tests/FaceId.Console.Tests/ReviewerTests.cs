using FaceId.Auth;
using FaceId.Contracts.Onboarding.V1;
using FaceId.TestKit;
using Microsoft.Playwright;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace FaceId.Console.Tests;

/// <summary>A reviewer judges an application from the console alone: the queue, the license shown inline, the decision.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ReviewerTests(ConsolePlatform platform)
{
    [Fact]
    public async Task A_reviewer_sees_the_license_inline_approves_it_and_the_trial_packages_appear_on_the_customers_page()
    {
        var onboarding = platform.Services.Onboarding.Channel;
        var account = await Onboard.CreateAccountAsync(onboarding, displayName: "上海示例科技有限公司");
        var application = await Onboard.SubmitAsync(onboarding, account.AccountId, TestPng.Create(320, 213));

        var page = await platform.SignInAsync(Roles.Reviewer);
        await page.GotoAsync("/review");
        var row = page.Locator($"tr[data-application-id='{application.ApplicationId}']");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToHaveAttributeAsync("data-age-working-days", "0"); // submitted today
        await Expect(row).ToHaveAttributeAsync("data-overdue", "false");
        await ConsolePlatform.ScreenshotAsync(page, "review-queue");

        await row.Locator("a").ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/review/applications/{application.ApplicationId}$"));
        var image = page.Locator("#license-image");
        await Expect(image).ToBeVisibleAsync();
        // The image element shows the uploaded picture: its natural size is the PNG's 320x213.
        var size = await Eventually.GetAsync(
            () => image.EvaluateAsync<int[]>("img => img.complete ? [img.naturalWidth, img.naturalHeight] : [0, 0]"),
            s => s[0] > 0, LocalPlatform.Timeout, "the license image has loaded");
        Assert.Equal([320, 213], size);
        await ConsolePlatform.ScreenshotAsync(page, "review-application");

        await page.ClickAsync("#approve");
        await Expect(page.Locator("#application")).ToHaveAttributeAsync("data-status", nameof(ApplicationStatus.Approved));
        var reviewed = await new OnboardingService.OnboardingServiceClient(onboarding).GetApplicationAsync(new GetApplicationRequest { ApplicationId = application.ApplicationId });
        Assert.Equal(ApplicationStatus.Approved, reviewed.Status);
        Assert.Equal("console-reviewer", reviewed.History.Last().Actor);
        // Onboarding recorded the console's read of the license, as the signed-in reviewer.
        Assert.Contains(reviewed.LicenseReads, r => r.Subject == "console-reviewer" && r.Roles.Contains(Roles.Reviewer));

        // R-ONB-3: the six free trial packages follow the activation event onto the customer's page.
        var customer = await platform.SignInAsCustomerAsync(account.AccountId);
        var trial = customer.Locator("#packages tr[data-package-id][data-free='true']");
        await Eventually.AssertAsync(async () =>
        {
            await customer.GotoAsync($"/accounts/{account.AccountId}/packages");
            await Expect(customer.Locator("#packages")).ToBeVisibleAsync();
            return await trial.CountAsync() == 6;
        }, LocalPlatform.Timeout, "the six trial packages are listed on the customer's packages page");
        foreach (var package in await trial.AllAsync())
        {
            Assert.Equal("100", await package.GetAttributeAsync("data-size"));
            Assert.Equal("100", await package.GetAttributeAsync("data-remaining"));
        }
        await ConsolePlatform.ScreenshotAsync(customer, "customer-packages-trial");
    }

    [Fact]
    public async Task A_rejection_needs_the_reason_the_service_asks_for_and_keeps_it_in_the_history()
    {
        var (_, applicationId) = await platform.Services.AccountWithApplicationAsync();
        var page = await platform.SignInAsync(Roles.Reviewer);
        await page.GotoAsync($"/review/applications/{applicationId}");

        await page.ClickAsync("#reject"); // no reason: Onboarding refuses, the page shows its answer
        await Expect(page.Locator("#error")).ToHaveAttributeAsync("data-status", "InvalidArgument");
        await Expect(page.Locator("#application")).ToHaveAttributeAsync("data-status", nameof(ApplicationStatus.Pending));

        await page.Locator("#reason").FillAsync("营业执照不清晰 / License unreadable.");
        await page.ClickAsync("#reject");
        await Expect(page.Locator("#application")).ToHaveAttributeAsync("data-status", nameof(ApplicationStatus.Rejected));
        await Expect(page.Locator("#review-reason")).ToHaveTextAsync("营业执照不清晰 / License unreadable.");
        await Expect(page.Locator("#history tbody tr")).ToHaveCountAsync(2);
    }
}
