using FaceId.Contracts;
using FaceId.Contracts.Onboarding.V1;
using FaceId.EventBus;
using FaceId.Onboarding.Grpc;
using FaceId.Onboarding.Tests.Support;
using FaceId.Packages.Grpc;
using FaceId.Redis;
using FaceId.TestKit;
using Xunit;

namespace FaceId.Onboarding.Tests;

/// <summary>R-ONB-5: E证通 merchant ids — only for enterprise-verified accounts, reviewed, and the first one grants the free package once.</summary>
public sealed class MerchantIdTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private readonly string _sink = Hosts.NewSinkDirectory();
    private InProcessService<OnboardingGrpcService> _onboarding = null!;

    public Task InitializeAsync()
    {
        _onboarding = Hosts.InProcess<OnboardingGrpcService>(redis.ConnectionString, _sink);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _onboarding.DisposeAsync();

    private OnboardingService.OnboardingServiceClient Client => Steps.Client(_onboarding.Channel);

    [Fact]
    public async Task R_ONB_5_only_an_enterprise_verified_main_account_with_an_opened_service_may_apply()
    {
        var channel = _onboarding.Channel;
        // Opened service, not verified (R-ONB-4: individuals may not use E证通).
        var opened = await Steps.OpenServiceAsync(channel);
        Assert.Equal("ENTERPRISE_NOT_VERIFIED", await RpcAssert.FailedPreconditionAsync(() => Steps.ApplyMerchantIdAsync(channel, opened)));
        // Verified, service not opened.
        var unopened = await Steps.CreateAccountAsync(channel);
        await Steps.VerifyAsync(channel, unopened.AccountId);
        Assert.Equal("SERVICE_NOT_OPENED", await RpcAssert.FailedPreconditionAsync(() => Steps.ApplyMerchantIdAsync(channel, unopened.AccountId)));
        // A sub-account.
        var sub = await Steps.CreateSubAccountAsync(channel, opened);
        Assert.Equal("NOT_A_MAIN_ACCOUNT", await RpcAssert.FailedPreconditionAsync(() => Steps.ApplyMerchantIdAsync(channel, sub.AccountId)));
        await RpcAssert.NotFoundAsync(() => Steps.ApplyMerchantIdAsync(channel, TestIds.New("acct")));
        Assert.Equal(["account_id", "idempotency_key"],
            (await RpcAssert.ViolationsAsync(() => Client.ApplyMerchantIdAsync(new ApplyMerchantIdRequest { AccountId = "a b" }).ResponseAsync))
            .Select(v => v.Field).Order().ToArray());
        // Verified and opened: accepted.
        await Steps.VerifyAsync(channel, opened);
        var application = await Steps.ApplyMerchantIdAsync(channel, opened);
        Assert.Equal(MerchantIdStatus.Pending, application.Status);
        Assert.Equal(opened, application.AccountId);
        Assert.Empty(application.MerchantId);
    }

    [Fact]
    public async Task R_ONB_5_apply_is_idempotent_and_a_second_application_waits_for_the_first_review()
    {
        var accountId = await VerifiedOpenedAccountAsync();
        var first = await Steps.ApplyMerchantIdAsync(_onboarding.Channel, accountId, key: "mid-1");

        Assert.Equal(first, await Steps.ApplyMerchantIdAsync(_onboarding.Channel, accountId, key: "mid-1"));
        Assert.Equal("MERCHANT_ID_PENDING", await RpcAssert.FailedPreconditionAsync(() => Steps.ApplyMerchantIdAsync(_onboarding.Channel, accountId, key: "mid-2")));
        Assert.Equal(first, await Client.GetMerchantIdAsync(new GetMerchantIdRequest { AccountId = accountId }));
    }

    [Fact]
    public async Task R_ONB_5_a_rejection_needs_a_reason_allows_a_new_application_and_an_issued_id_is_final()
    {
        var channel = _onboarding.Channel;
        var accountId = await VerifiedOpenedAccountAsync();
        var first = await Steps.ApplyMerchantIdAsync(channel, accountId);

        Assert.Contains("reason", (await RpcAssert.ViolationsAsync(() => Steps.ReviewMerchantIdAsync(channel, first.ApplicationId, approve: false))).Select(v => v.Field));
        Assert.Equal(["decision"], (await RpcAssert.ViolationsAsync(() => Client.ReviewMerchantIdAsync(new ReviewMerchantIdRequest
        {
            IdempotencyKey = "k", ApplicationId = first.ApplicationId, ReviewerId = "r",
        }).ResponseAsync)).Select(v => v.Field).ToArray());
        await RpcAssert.NotFoundAsync(() => Steps.ReviewMerchantIdAsync(channel, TestIds.New("mida"), approve: true));

        var rejected = await Steps.ReviewMerchantIdAsync(channel, first.ApplicationId, approve: false, reason: "营业执照与认证主体不符");
        Assert.Equal(MerchantIdStatus.Rejected, rejected.Status);
        Assert.Equal("营业执照与认证主体不符", rejected.ReviewReason);
        Assert.Empty(rejected.MerchantId);
        Assert.Equal(rejected, await Steps.ReviewMerchantIdAsync(channel, first.ApplicationId, approve: false, reason: "again"));
        Assert.Equal("MERCHANT_ID_ALREADY_REVIEWED", await RpcAssert.FailedPreconditionAsync(() => Steps.ReviewMerchantIdAsync(channel, first.ApplicationId, approve: true)));

        var second = await Steps.ApplyMerchantIdAsync(channel, accountId);
        Assert.NotEqual(first.ApplicationId, second.ApplicationId);
        var issued = await Steps.ReviewMerchantIdAsync(channel, second.ApplicationId, approve: true);
        Assert.Equal(MerchantIdStatus.Issued, issued.Status);
        Assert.StartsWith("eidm_", issued.MerchantId);
        Assert.Equal(issued, await Client.GetMerchantIdAsync(new GetMerchantIdRequest { AccountId = accountId }));
        Assert.Equal("MERCHANT_ID_ALREADY_ISSUED", await RpcAssert.FailedPreconditionAsync(() => Steps.ApplyMerchantIdAsync(channel, accountId)));
        Assert.Equal("MERCHANT_ID_ALREADY_REVIEWED", await RpcAssert.FailedPreconditionAsync(() => Steps.ReviewMerchantIdAsync(channel, second.ApplicationId, approve: false, reason: "late")));
    }

    [Fact]
    public async Task R_ONB_5_the_first_merchant_id_grants_the_free_eid_package_once_under_racing_approvals_and_redelivery()
    {
        await using var packages = Hosts.InProcess<PackagesGrpcService>(redis.ConnectionString, _sink);
        var channel = _onboarding.Channel;
        var accountId = await VerifiedOpenedAccountAsync();
        await Steps.WaitForPackagesAsync(packages.Channel, accountId, 6); // the trial (R-ONB-3)
        var application = await Steps.ApplyMerchantIdAsync(channel, accountId);

        // Eight reviewers approve at once: one merchant id is issued, and every reviewer sees it.
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Steps.ReviewMerchantIdAsync(channel, application.ApplicationId, approve: true, reviewer: $"reviewer-{i}")));
        Assert.All(results, r => Assert.Equal(MerchantIdStatus.Issued, r.Status));
        Assert.Single(results.Select(r => r.MerchantId).Distinct());

        var all = await Steps.WaitForPackagesAsync(packages.Channel, accountId, 7);
        var eid = Assert.Single(all, p => p.Label == "eid_authoritative");
        Assert.True(eid.Free);
        Assert.Equal(100, eid.Size);
        Assert.Equal(0, eid.PriceFen);

        // One MerchantIdIssued event, with the deterministic id, naming the issued merchant id.
        var issued = await Eventually.GetAsync(() => Streams.EventsAsync(redis.Database, EventTopics.MerchantIdIssued, accountId),
            list => list.Count >= 1, Steps.Timeout, "MerchantIdIssued published");
        var e = Assert.Single(issued);
        Assert.Equal("merchant-issued:" + accountId, e.Id);
        Assert.Contains(results[0].MerchantId, e.DataJson);

        // Redeliver it at the transport: as is (the consumer's processed-event mark absorbs it), and
        // again after that mark is gone (the ledger's grant guard absorbs it).
        await Streams.RedeliverAsync(redis.Database, e);
        await Eventually.AssertAsync(() => Streams.ConsumedAllAsync(redis.Database, EventTopics.MerchantIdIssued, "packages"), Steps.Timeout, "redelivery consumed");
        await redis.Database.KeyDeleteAsync($"evt:done:packages:{e.Id}");
        await Streams.RedeliverAsync(redis.Database, e);
        await Eventually.AssertAsync(() => Streams.ConsumedAllAsync(redis.Database, EventTopics.MerchantIdIssued, "packages"), Steps.Timeout, "replay consumed");
        await Eventually.AssertAsync(async () => await redis.Database.KeyExistsAsync($"evt:done:packages:{e.Id}"), Steps.Timeout, "replay handled");

        var after = await Steps.WaitForPackagesAsync(packages.Channel, accountId, 7);
        Assert.Equal(7, after.Count);
        Assert.Single(after, p => p.Label == "eid_authoritative");
        Assert.Equal([e.Id], (await Streams.EventsAsync(redis.Database, EventTopics.MerchantIdIssued, accountId)).Select(x => x.Id).Distinct().ToArray());
    }

    [Fact]
    public async Task R_ONB_5_a_rejection_publishes_one_MerchantIdRejected_under_racing_reviewers_and_retries()
    {
        var channel = _onboarding.Channel;
        var accountId = await VerifiedOpenedAccountAsync();
        var application = await Steps.ApplyMerchantIdAsync(channel, accountId);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Steps.ReviewMerchantIdAsync(channel, application.ApplicationId, approve: false, reason: "营业执照已过期", reviewer: $"reviewer-{i}")));
        Assert.All(results, r => Assert.Equal(MerchantIdStatus.Rejected, r.Status));
        await Steps.ReviewMerchantIdAsync(channel, application.ApplicationId, approve: false, reason: "again"); // a later retry

        var rejected = await Eventually.GetAsync(() => Streams.EventsAsync(redis.Database, EventTopics.MerchantIdRejected, application.ApplicationId),
            list => list.Count >= 1, Steps.Timeout, "MerchantIdRejected published");
        // Every rejection has answered and the outbox is relayed: a second event would be on the stream by now.
        await Eventually.AssertAsync(async () => await redis.Database.StreamLengthAsync(RedisKeys.Outbox(RedisKeys.AccountTag(accountId))) == 0,
            Steps.Timeout, "the account's outbox is relayed");
        var e = Assert.Single(await Streams.EventsAsync(redis.Database, EventTopics.MerchantIdRejected, application.ApplicationId));
        Assert.Equal("merchant-rejected:" + application.ApplicationId, e.Id);
        var data = Google.Protobuf.JsonParser.Default.Parse<FaceId.Contracts.Events.V1.MerchantIdRejected>(e.DataJson);
        Assert.Equal((accountId, results[0].ReviewReason), (data.AccountId, data.Reason));
        Assert.Empty(await Streams.EventsAsync(redis.Database, EventTopics.MerchantIdIssued, accountId));
    }

    private async Task<string> VerifiedOpenedAccountAsync()
    {
        var accountId = await Steps.OpenServiceAsync(_onboarding.Channel);
        await Steps.VerifyAsync(_onboarding.Channel, accountId);
        return accountId;
    }
}
