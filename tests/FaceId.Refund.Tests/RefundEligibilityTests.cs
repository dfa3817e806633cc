using FaceId.Auth;
using FaceId.Common;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Refund.V1;
using FaceId.Refund.Application;
using FaceId.Refund.Grpc;
using FaceId.TestKit;
using Grpc.Core;
using Xunit;
using static FaceId.Refund.Tests.RefundRulesTests;
using RefundState = FaceId.Refund.Application.RefundState;

namespace FaceId.Refund.Tests;

/// <summary>
/// ListRefundEligibility (R-REF-1 shown before a request): its answer for each package is what
/// RequestRefund then does, because both run the freeze's one rule (lib-refund-rules.lua).
/// </summary>
public sealed class RefundEligibilityTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task R_REF_1_each_packages_eligibility_is_what_RequestRefund_then_does()
    {
        await using var host = new RefundTestHost(redis.ConnectionString, Shanghai(2026, 3, 2, 9));
        var account = await host.OpenedAccountAsync();
        var old = await host.BuyAsync(account, "basic_authoritative");          // bought 2026-03-02: window closes 03-10 00:00
        host.Time.SetUtcNow(Shanghai(2026, 3, 10, 10));
        var used = await host.BuyAsync(account, "id_info_check");
        Assert.Equal(used.Id, (await host.UseAsync(account, "id_info_check")).PackageId);
        await host.Grants.GrantTrialAsync(account, host.Time.GetUtcNow());
        var unused = await host.BuyAsync(account);
        var refunded = await host.BuyAsync(account, "enhanced_authoritative_wechat");
        var refund = await host.RefundAsync(account, refunded.Id);
        var trial = (await host.Packages.ListAsync(account, "basic_self_photo", null)).Single(p => p.Free);

        var (answers, next) = await host.Refunds.ListEligibilityAsync(account, "", 0, "");
        Assert.Empty(next);
        // Every package of the account, in ListPackages' order (oldest purchase first).
        Assert.Equal((await host.Reader.ListPackagesAsync(account)).Select(p => p.Id), answers.Select(a => a.Package.Id));
        var byId = answers.ToDictionary(a => a.Package.Id);
        Assert.True(byId[unused.Id].Refundable);
        Assert.Equal("", byId[unused.Id].Description);
        Assert.Equal(Shanghai(2026, 3, 18), byId[unused.Id].WindowClosesAt);
        Assert.Equal(RefundApplication.ReasonFree, byId[trial.Id].Refusal);
        Assert.Null(byId[trial.Id].WindowClosesAt);
        Assert.Equal(RefundApplication.ReasonUsed, byId[used.Id].Refusal);
        Assert.Equal(RefundApplication.ReasonWindowClosed, byId[old.Id].Refusal);
        Assert.Contains("2026-03-09 23:59:59", byId[old.Id].Description);
        Assert.Equal(RefundApplication.ReasonAlreadyRequested, byId[refunded.Id].Refusal);
        Assert.Equal(refund.Id, byId[refunded.Id].RefundId);

        // Read-only: asking changed nothing, and RequestRefund then answers exactly that.
        foreach (var answer in answers)
        {
            if (answer.Package.Id == refunded.Id) continue; // already answered: its refund
            if (answer.Refundable)
            {
                Assert.Equal(RefundState.Credited, (await host.RefundAsync(account, answer.Package.Id)).State);
                continue;
            }
            var refused = await Assert.ThrowsAsync<PreconditionFailedException>(() => host.RefundAsync(account, answer.Package.Id));
            Assert.Equal(answer.Refusal, refused.Reason);
            Assert.Equal(answer.Description, refused.Message);
        }
        // Once refunded, the package that was eligible says so.
        var after = Assert.Single((await host.Refunds.ListEligibilityAsync(account, unused.Id, 0, "")).Packages);
        Assert.Equal(RefundApplication.ReasonAlreadyRequested, after.Refusal);
    }

    [Fact]
    public async Task R_REF_1_the_window_boundary_is_the_same_for_the_preview_and_the_request()
    {
        await using var host = new RefundTestHost(redis.ConnectionString, Shanghai(2021, 2, 14, 14, 30));
        var account = await host.OpenedAccountAsync(Shanghai(2021, 1, 4), "legacy");
        var first = await host.BuyAsync(account, "legacy_liveness_verification", 100);
        var second = await host.BuyAsync(account, "legacy_liveness_verification", 100);

        host.Time.SetUtcNow(Shanghai(2021, 2, 21, 23, 59, 59, 999));
        Assert.True((await host.Refunds.ListEligibilityAsync(account, first.Id, 0, "")).Packages.Single().Refundable);
        Assert.Equal(RefundState.Credited, (await host.RefundAsync(account, first.Id)).State);

        host.Time.SetUtcNow(Shanghai(2021, 2, 22));
        Assert.Equal(RefundApplication.ReasonWindowClosed, (await host.Refunds.ListEligibilityAsync(account, second.Id, 0, "")).Packages.Single().Refusal);
        Assert.Equal(RefundApplication.ReasonWindowClosed, (await Assert.ThrowsAsync<PreconditionFailedException>(() => host.RefundAsync(account, second.Id))).Reason);
    }

    [Fact]
    public async Task Over_gRPC_it_pages_in_package_order_answers_one_package_and_checks_caller_and_input()
    {
        await using var host = new RefundTestHost(redis.ConnectionString, DateTimeOffset.UtcNow);
        var account = await host.OpenedAccountAsync();
        for (var i = 0; i < 5; i++) await host.BuyAsync(account);
        await host.UseAsync(account); // one of them pays for it: used
        var other = await host.OpenedAccountAsync();
        var theirs = await host.BuyAsync(other);

        await using var service = new InProcessService<RefundGrpcService>(new Dictionary<string, string?> { ["Redis:ConnectionString"] = redis.ConnectionString }).Start();
        var mine = new RefundService.RefundServiceClient(service.ChannelWithToken(TestAuth.Token(Roles.Console, account)));

        // Pages of 2: every package once, in ListPackages' order.
        var seen = new List<RefundEligibility>();
        var token = "";
        var pages = 0;
        do
        {
            var page = await mine.ListRefundEligibilityAsync(new ListRefundEligibilityRequest { AccountId = account, Page = new PageRequest { PageSize = 2, PageToken = token } });
            Assert.True(page.Packages.Count <= 2);
            seen.AddRange(page.Packages);
            token = page.NextPageToken;
            pages++;
        } while (token.Length > 0);
        Assert.Equal(3, pages);
        Assert.Equal((await host.Reader.ListPackagesAsync(account)).Select(p => p.Id), seen.Select(e => e.PackageId));
        var used = seen.Single(e => !e.Refundable);
        Assert.Equal(RefundApplication.ReasonUsed, used.Reason);
        Assert.NotEmpty(used.Description);
        Assert.All(seen.Where(e => e.Refundable), e => Assert.True(e.AmountFen > 0 && e.WindowClosesAt is not null && e.Reason == ""));

        // One package; then RequestRefund does what it said.
        var eligible = seen.First(e => e.Refundable).PackageId;
        var one = (await mine.ListRefundEligibilityAsync(new ListRefundEligibilityRequest { AccountId = account, PackageId = eligible })).Packages.Single();
        Assert.True(one.Refundable);
        var credited = await mine.RequestRefundAsync(new RequestRefundRequest { IdempotencyKey = TestIds.New("key"), AccountId = account, PackageId = eligible });
        Assert.Equal(one.AmountFen, credited.AmountFen);
        Assert.Equal(used.Reason, await RpcAssert.FailedPreconditionAsync(() =>
            mine.RequestRefundAsync(new RequestRefundRequest { IdempotencyKey = TestIds.New("key"), AccountId = account, PackageId = used.PackageId }).ResponseAsync));

        // Another account: its id is PERMISSION_DENIED to this console; its package under this account is NOT_FOUND.
        var denied = await Assert.ThrowsAsync<RpcException>(() => mine.ListRefundEligibilityAsync(new ListRefundEligibilityRequest { AccountId = other }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        await RpcAssert.NotFoundAsync(() => mine.ListRefundEligibilityAsync(new ListRefundEligibilityRequest { AccountId = account, PackageId = theirs.Id }).ResponseAsync);
        // A role the method does not allow.
        var reviewer = new RefundService.RefundServiceClient(service.ChannelWithToken(TestAuth.Token(Roles.Reviewer)));
        Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(() =>
            reviewer.ListRefundEligibilityAsync(new ListRefundEligibilityRequest { AccountId = account }).ResponseAsync)).StatusCode);
        // The operator sees any account.
        var operatorClient = new RefundService.RefundServiceClient(service.ChannelWithToken(TestAuth.Token(Roles.Operator)));
        Assert.True((await operatorClient.ListRefundEligibilityAsync(new ListRefundEligibilityRequest { AccountId = other })).Packages.Single().Refundable);

        // Bad input: INVALID_ARGUMENT naming each field.
        Assert.Equal(new[] { "package_id", "page.page_size" }, (await RpcAssert.InvalidArgumentAsync(() => mine.ListRefundEligibilityAsync(new ListRefundEligibilityRequest
        {
            AccountId = account, PackageId = "pkg*bad", Page = new PageRequest { PageSize = 501 },
        }).ResponseAsync)).Order().ToArray());
        Assert.Equal(new[] { "page.page_token" }, await RpcAssert.InvalidArgumentAsync(() => mine.ListRefundEligibilityAsync(new ListRefundEligibilityRequest
        {
            AccountId = account, Page = new PageRequest { PageToken = "nope" },
        }).ResponseAsync));
        var operatorBad = await RpcAssert.InvalidArgumentAsync(() => operatorClient.ListRefundEligibilityAsync(new ListRefundEligibilityRequest { AccountId = "acc*bad" }).ResponseAsync);
        Assert.Equal(new[] { "account_id" }, operatorBad);
    }
}
