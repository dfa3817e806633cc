using FaceId.Contracts.Onboarding.V1;
using FaceId.Contracts.Packages.V1;
using FaceId.TestKit;
using Xunit;

namespace FaceId.Cli.Tests;

/// <summary>applications list-pending / approve / reject, packages list / balances / buy.</summary>
[Collection(PlatformCollection.Name)]
public sealed class ApplicationsAndPackagesTests(PlatformFixture platform)
{
    private static readonly string[] TrialLabels =
        ["basic_authoritative", "basic_self_photo", "enhanced_authoritative_app", "enhanced_authoritative_wechat", "enhanced_self_photo_app", "enhanced_self_photo_wechat"];

    [Fact]
    public async Task Approving_a_pending_application_opens_the_service_and_lists_the_six_trial_packages_and_their_balances()
    {
        var (accountId, applicationId) = await platform.AccountWithApplicationAsync();

        var pending = (await platform.RunAsync("applications", "list-pending")).AssertExit(ExitCodes.Ok);
        Assert.Contains(applicationId, pending.Out);
        Assert.Contains(accountId, pending.Out);
        Assert.Contains("PNG", pending.Out);
        Assert.Contains("0 of 3", pending.Out); // its age, as Onboarding answers it: submitted today
        var pendingJson = (await platform.RunAsync("applications", "list-pending", "--json")).AssertExit(ExitCodes.Ok).Json<ListPendingApplicationsResponse>();
        var queued = Assert.Single(pendingJson.Applications, p => p.Application.ApplicationId == applicationId);
        Assert.Equal(ApplicationStatus.Pending, queued.Application.Status);
        Assert.Equal((0, false), (queued.AgeWorkingDays, queued.Overdue));
        Assert.Equal(3, pendingJson.TargetWorkingDays);

        var approve = (await platform.RunAsync("applications", "approve", applicationId, "--reviewer", "ops-1", "--key", TestIds.New("review"))).AssertExit(ExitCodes.Ok);
        Assert.Contains("APPROVED", approve.Out);
        Assert.Contains("ops-1", approve.Out);
        Assert.Equal("", approve.Err);
        var after = (await platform.RunAsync("applications", "list-pending", "--json")).AssertExit(ExitCodes.Ok);
        Assert.DoesNotContain(after.Json<ListPendingApplicationsResponse>().Applications, p => p.Application.ApplicationId == applicationId);

        // The trial arrives over the event bus (ServiceActivated → Packages).
        var list = await Eventually.GetAsync(
            () => platform.RunAsync("packages", "list", "--account", accountId),
            r => r.ExitCode == 0 && TrialLabels.All(r.Out.Contains), PlatformFixture.Timeout, "the trial packages in the table");
        Assert.Contains("6 package(s)", list.Out);
        Assert.Contains("ACTIVE", list.Out);
        var json = (await platform.RunAsync("packages", "list", "--account", accountId, "--json")).AssertExit(ExitCodes.Ok).Json<ListPackagesResponse>();
        Assert.Equal(TrialLabels, json.Packages.Select(p => p.Label).Order().ToArray());
        Assert.All(json.Packages, p => Assert.True(p is { Free: true, Size: 100, Remaining: 100, PriceFen: 0, Status: PackageStatus.Active }));

        var filtered = (await platform.RunAsync("packages", "list", "--account", accountId, "--label", "basic_self_photo", "--json")).AssertExit(ExitCodes.Ok);
        Assert.Equal("basic_self_photo", Assert.Single(filtered.Json<ListPackagesResponse>().Packages).Label);

        var balances = (await platform.RunAsync("packages", "balances", "--account", accountId)).AssertExit(ExitCodes.Ok);
        foreach (var label in TrialLabels) Assert.Matches($@"{label}\s+│\s+100\s+│\s+1\s", balances.Out);
        var balancesJson = (await platform.RunAsync("--json", "packages", "balances", "--account", accountId)).AssertExit(ExitCodes.Ok).Json<GetBalancesResponse>();
        Assert.Equal(6, balancesJson.Balances.Count);
        Assert.All(balancesJson.Balances, b => Assert.Equal(100, b.Remaining));

        // Approving again is a no-op; rejecting it now is refused with the reason.
        (await platform.RunAsync("applications", "approve", applicationId, "--reviewer", "ops-2")).AssertExit(ExitCodes.Ok);
        var reject = await platform.RunAsync("applications", "reject", applicationId, "--reviewer", "ops-2", "--reason", "Second thoughts.");
        reject.AssertExit(ExitCodes.FailedPrecondition);
        var line = Assert.Single(reject.Err.TrimEnd().Split('\n'));
        Assert.Contains("onboarding (127.0.0.1:", line);
        Assert.Contains("FAILED_PRECONDITION APPLICATION_ALREADY_REVIEWED", line);
    }

    [Fact]
    public async Task Rejecting_needs_a_reason_and_records_it()
    {
        var (_, applicationId) = await platform.AccountWithApplicationAsync();

        var noReason = await platform.RunAsync("applications", "reject", applicationId, "--reviewer", "ops-1");
        noReason.AssertExit(ExitCodes.Usage);
        Assert.Contains("--reason", noReason.Err);

        var reject = (await platform.RunAsync("applications", "reject", applicationId, "--reviewer", "ops-1", "--reason", "The license scan is unreadable.")).AssertExit(ExitCodes.Ok);
        Assert.Contains("REJECTED", reject.Out);
        Assert.Contains("The license scan is unreadable.", reject.Out);
    }

    [Fact]
    public async Task Buying_a_package_is_idempotent_on_the_order_id()
    {
        var accountId = await platform.OpenedAccountAsync();
        var orderId = TestIds.New("order");
        string[] buy = ["packages", "buy", "--account", accountId, "--label", "enhanced_authoritative_wechat", "--size", "1000", "--order-id", orderId];

        var first = (await platform.RunAsync([.. buy, "--json"])).AssertExit(ExitCodes.Ok).Json<Package>();
        Assert.Equal(1000, first.Size);
        Assert.Equal(115000, first.PriceFen);
        Assert.False(first.Free);
        var table = (await platform.RunAsync(buy)).AssertExit(ExitCodes.Ok);
        Assert.Contains(first.PackageId, table.Out);
        Assert.Contains("1,150.00", table.Out);

        var balances = (await platform.RunAsync("packages", "balances", "--account", accountId, "--json")).AssertExit(ExitCodes.Ok).Json<GetBalancesResponse>();
        var wechat = Assert.Single(balances.Balances, b => b.Label == "enhanced_authoritative_wechat");
        Assert.Equal(1100, wechat.Remaining);
        Assert.Equal(2, wechat.ActivePackages);
    }

    [Fact]
    public async Task R_ONB_5_merchant_ids_list_pending_shows_the_queue_with_each_requests_age_in_working_days()
    {
        var accountId = await platform.OpenedAccountAsync();
        var onboarding = new OnboardingService.OnboardingServiceClient(platform.Onboarding.Channel);
        await onboarding.SubmitEnterpriseVerificationAsync(new SubmitEnterpriseVerificationRequest
        {
            IdempotencyKey = TestIds.New("verify"), AccountId = accountId, CompanyName = "福州某某科技有限公司",
            UnifiedSocialCreditCode = "91350100M000100Y43", LegalRepresentative = "韩梅梅",
        });
        var request = await onboarding.ApplyMerchantIdAsync(new ApplyMerchantIdRequest { IdempotencyKey = TestIds.New("merchant"), AccountId = accountId });

        var table = (await platform.RunAsync("merchant-ids", "list-pending")).AssertExit(ExitCodes.Ok);
        Assert.Contains(request.ApplicationId, table.Out);
        Assert.Contains(accountId, table.Out);
        var json = (await platform.RunAsync("merchant-ids", "list-pending", "--json")).AssertExit(ExitCodes.Ok).Json<ListPendingMerchantIdsResponse>();
        var queued = Assert.Single(json.Requests, r => r.Request.ApplicationId == request.ApplicationId);
        Assert.Equal((0, false), (queued.AgeWorkingDays, queued.Overdue)); // filed today
        Assert.Equal(request, queued.Request);
    }
}
