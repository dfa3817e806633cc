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
        // R-ONB-1: the queue is ListPendingApplications' answer: the same applications, in its order (oldest first), with its ages and target.
        var queue = await new OnboardingService.OnboardingServiceClient(onboarding).ListPendingApplicationsAsync(new ListPendingApplicationsRequest());
        var rows = page.Locator("#pending-applications tr[data-application-id]");
        await Expect(rows).ToHaveCountAsync(queue.Applications.Count);
        Assert.Equal(queue.Applications.Select(q => $"{q.Application.ApplicationId}|{q.AgeWorkingDays}|{q.Overdue.ToString().ToLowerInvariant()}"),
            await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => [r.dataset.applicationId, r.dataset.ageWorkingDays, r.dataset.overdue].join('|'))"));
        await Expect(page.Locator("#review-target")).ToHaveAttributeAsync("data-target-working-days", queue.TargetWorkingDays.ToString());
        Assert.Equal(3, queue.TargetWorkingDays);
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

    [Fact]
    public async Task R_ONB_5_a_reviewer_works_through_the_merchant_id_queue_issuing_one_request_and_rejecting_another_with_its_reason()
    {
        var onboarding = new OnboardingService.OnboardingServiceClient(platform.Services.Onboarding.Channel);
        var first = await MerchantIdRequestAsync(onboarding, "福州某某科技有限公司");
        var second = await MerchantIdRequestAsync(onboarding, "厦门某某信息技术有限公司");

        var page = await platform.SignInAsync(Roles.Reviewer);
        await page.GotoAsync("/review");
        await page.ClickAsync("a[href='/review/merchant-ids']");
        await Expect(page.Locator("#pending-merchant-ids")).ToBeVisibleAsync();
        // The queue is ListPendingMerchantIds' answer: the same requests, oldest first, with the same ages.
        var queue = (await onboarding.ListPendingMerchantIdsAsync(new ListPendingMerchantIdsRequest())).Requests;
        var rows = page.Locator("#pending-merchant-ids tr[data-application-id]");
        await Expect(rows).ToHaveCountAsync(queue.Count);
        Assert.Equal(queue.Select(q => $"{q.Request.ApplicationId}|{q.AgeWorkingDays}|{q.Overdue.ToString().ToLowerInvariant()}"),
            await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => [r.dataset.applicationId, r.dataset.ageWorkingDays, r.dataset.overdue].join('|'))"));
        var ids = queue.Select(q => q.Request.ApplicationId).ToList();
        Assert.True(ids.IndexOf(first.ApplicationId) < ids.IndexOf(second.ApplicationId), "oldest first");
        await Expect(page.Locator($"tr[data-application-id='{first.ApplicationId}']")).ToHaveAttributeAsync("data-age-working-days", "0"); // filed today
        await Expect(page.Locator("#review-target")).ToHaveAttributeAsync("data-target-working-days", "3");
        await ConsolePlatform.ScreenshotAsync(page, "review-merchant-ids");

        // One request: the enterprise it was verified as, approve, and its history.
        await page.Locator($"tr[data-application-id='{first.ApplicationId}'] a").ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/review/merchant-ids/{first.AccountId}$"));
        await Expect(page.Locator("#merchant-request")).ToHaveAttributeAsync("data-status", nameof(MerchantIdStatus.Pending));
        await Expect(page.Locator("#company-name")).ToHaveTextAsync("福州某某科技有限公司");
        await ConsolePlatform.ScreenshotAsync(page, "review-merchant-id");
        await page.ClickAsync("#merchant-approve");
        await Expect(page.Locator("#merchant-request")).ToHaveAttributeAsync("data-status", nameof(MerchantIdStatus.Issued));
        var issued = await onboarding.GetMerchantIdAsync(new GetMerchantIdRequest { AccountId = first.AccountId });
        Assert.Equal(MerchantIdStatus.Issued, issued.Status);
        Assert.Equal("console-reviewer", issued.ReviewerId);
        await Expect(page.Locator("#merchant-id")).ToHaveTextAsync(issued.MerchantId);
        await Expect(page.Locator("#merchant-history tbody tr")).ToHaveCountAsync(2);
        await Expect(page.Locator("#merchant-history tbody tr").Nth(1)).ToContainTextAsync("console-reviewer");
        await ConsolePlatform.ScreenshotAsync(page, "review-merchant-id-issued");

        // Back in the queue the issued request is gone; the other one is rejected, a reason first required by Onboarding.
        await page.GotoAsync("/review/merchant-ids");
        await Expect(page.Locator($"tr[data-application-id='{second.ApplicationId}']")).ToHaveCountAsync(1);
        await Expect(page.Locator($"tr[data-application-id='{first.ApplicationId}']")).ToHaveCountAsync(0);
        await page.Locator($"tr[data-application-id='{second.ApplicationId}'] a").ClickAsync();
        await Expect(page.Locator("#merchant-request")).ToHaveAttributeAsync("data-application-id", second.ApplicationId);
        await page.ClickAsync("#merchant-reject");
        await Expect(page.Locator("#error")).ToHaveAttributeAsync("data-status", "InvalidArgument");
        await page.Locator("#merchant-reason-input").FillAsync("营业执照与认证主体不符 / License does not match the verified enterprise.");
        await page.ClickAsync("#merchant-reject");
        await Expect(page.Locator("#merchant-request")).ToHaveAttributeAsync("data-status", nameof(MerchantIdStatus.Rejected));
        await Expect(page.Locator("#merchant-reason")).ToHaveTextAsync("营业执照与认证主体不符 / License does not match the verified enterprise.");
        await Expect(page.Locator("#merchant-history tbody tr").Nth(1)).ToContainTextAsync("营业执照与认证主体不符");
        Assert.Equal(MerchantIdStatus.Rejected, (await onboarding.GetMerchantIdAsync(new GetMerchantIdRequest { AccountId = second.AccountId })).Status);
    }

    /// <summary>An opened, enterprise-verified account that has filed a merchant-id request.</summary>
    private async Task<MerchantIdApplication> MerchantIdRequestAsync(OnboardingService.OnboardingServiceClient onboarding, string company)
    {
        var accountId = await platform.Services.OpenedAccountAsync();
        await onboarding.SubmitEnterpriseVerificationAsync(new SubmitEnterpriseVerificationRequest
        {
            IdempotencyKey = TestIds.New("verify"), AccountId = accountId, CompanyName = company,
            UnifiedSocialCreditCode = "91350100M000100Y43", LegalRepresentative = "韩梅梅",
        });
        return await onboarding.ApplyMerchantIdAsync(new ApplyMerchantIdRequest { IdempotencyKey = TestIds.New("merchant"), AccountId = accountId });
    }
}
