using FaceId.Common;
using FaceId.Contracts;
using FaceId.Contracts.Events.V1;
using FaceId.Onboarding.Application;
using FaceId.Redis;
using FaceId.TestKit;
using StackExchange.Redis;
using Xunit;

namespace FaceId.Onboarding.Tests.Scripts;

/// <summary>
/// submit-enterprise-verification.lua, apply-merchant-id.lua and review-merchant-id.lua through
/// their typed contracts on real Redis: Bind → run → Parse, the typed result and the state written.
/// </summary>
public sealed class EnterpriseScriptTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 10, 0, 0, ChinaCalendar.Offset);
    private IDatabase Db => redis.Database;

    private async Task<string> AccountAsync(string main = "", bool verified = false, bool opened = false)
    {
        var id = TestIds.New("acct");
        await Db.HashSetAsync(EnterpriseStore.AccountKey(id), [new("id", id), new("main", main), new("state", opened ? StoredWords.Opened : StoredWords.NotApplied)]);
        if (verified) await Db.HashSetAsync(EnterpriseStore.AccountKey(id), "enterprise_verified", StoredWords.FlagOn);
        if (opened) await Db.HashSetAsync(EnterpriseStore.AccountKey(id), "activated_at", Now.ToUnixTimeMilliseconds());
        return id;
    }

    private static SubmitEnterpriseVerificationScript.Request Verify(string account, string key, string code) =>
        new(key, account, "Acme Ltd", code, "Li Lei", Now, "code=" + code);

    private static MerchantIdRecord Application(string account, string appId) => new(appId, account, MerchantIdState.Pending, "", "", Now, null);

    [Fact]
    public async Task R_ONB_4_verification_flags_the_account_once_updates_the_same_code_and_refuses_another()
    {
        // The first verification also publishes EnterpriseVerified, once: the ledger learns from it that the account may use E证通.
        var account = await AccountAsync();

        Assert.Equal(VerificationOutcome.Verified, (await SubmitEnterpriseVerificationScript.Instance.RoundTripAsync(Db, Verify(account, "k1", "91350100M000100Y43"))).Outcome);
        Assert.Equal(StoredWords.FlagOn, (string?)await Db.HashGetAsync(EnterpriseStore.AccountKey(account), "enterprise_verified"));
        Assert.Equal("91350100M000100Y43", (string?)await Db.HashGetAsync(EnterpriseStore.EnterpriseKey(account), "code"));
        // A retry answers with what the key's first request kept, whatever it asks; the application layer compares.
        Assert.Equal(new VerificationResult(VerificationOutcome.Duplicate, "code=91350100M000100Y43"),
            await SubmitEnterpriseVerificationScript.Instance.RoundTripAsync(Db, Verify(account, "k1", "9144030071526726XG")));
        Assert.Equal(VerificationOutcome.Updated, (await SubmitEnterpriseVerificationScript.Instance.RoundTripAsync(Db, Verify(account, "k2", "91350100M000100Y43"))).Outcome);
        Assert.Equal(VerificationOutcome.Conflict, (await SubmitEnterpriseVerificationScript.Instance.RoundTripAsync(Db, Verify(account, "k3", "9144030071526726XG"))).Outcome);
        Assert.Equal(VerificationOutcome.NoAccount, (await SubmitEnterpriseVerificationScript.Instance.RoundTripAsync(Db, Verify(TestIds.New("acct"), "k", "9144030071526726XG"))).Outcome);
        Assert.Equal(VerificationOutcome.SubAccount, (await SubmitEnterpriseVerificationScript.Instance.RoundTripAsync(Db, Verify(await AccountAsync(main: "acc_m"), "k", "9144030071526726XG"))).Outcome);

        var (topic, id, data) = Assert.Single(await ScriptRoundTrip.OutboxAsync(Db, RedisKeys.Outbox(RedisKeys.AccountTag(account))));
        Assert.Equal((EventTopics.EnterpriseVerified, SubmitEnterpriseVerificationScript.VerifiedEventId(account)), (topic, id));
        var verified = ScriptRoundTrip.StrictEvent<EnterpriseVerified>(data);
        Assert.Equal((account, Now), (verified.AccountId, verified.VerifiedAt.ToDateTimeOffset()));
    }

    [Fact]
    public async Task R_ONB_5_apply_files_once_per_key_and_names_what_is_missing()
    {
        Assert.Equal(new MerchantApplyResult(MerchantApplyOutcome.NotVerified, ""),
            await ApplyMerchantIdScript.Instance.RoundTripAsync(Db, new("k", await AccountAsync(opened: true), "mida_1", Now)));
        Assert.Equal(new MerchantApplyResult(MerchantApplyOutcome.NotOpened, ""),
            await ApplyMerchantIdScript.Instance.RoundTripAsync(Db, new("k", await AccountAsync(verified: true), "mida_1", Now)));
        Assert.Equal(MerchantApplyOutcome.NoAccount, (await ApplyMerchantIdScript.Instance.RoundTripAsync(Db, new("k", TestIds.New("acct"), "mida_1", Now))).Outcome);
        Assert.Equal(MerchantApplyOutcome.SubAccount, (await ApplyMerchantIdScript.Instance.RoundTripAsync(Db, new("k", await AccountAsync(main: "acc_m"), "mida_1", Now))).Outcome);

        var account = await AccountAsync(verified: true, opened: true);
        Assert.Equal(new MerchantApplyResult(MerchantApplyOutcome.Filed, "mida_2"), await ApplyMerchantIdScript.Instance.RoundTripAsync(Db, new("k1", account, "mida_2", Now)));
        Assert.Equal(StoredWords.Pending, (string?)await Db.HashGetAsync(EnterpriseStore.MerchantAppKey(account, "mida_2"), "status"));
        Assert.Equal(new MerchantApplyResult(MerchantApplyOutcome.Duplicate, "mida_2"), await ApplyMerchantIdScript.Instance.RoundTripAsync(Db, new("k1", account, "mida_3", Now)));
        Assert.Equal(new MerchantApplyResult(MerchantApplyOutcome.Pending, "mida_2"), await ApplyMerchantIdScript.Instance.RoundTripAsync(Db, new("k2", account, "mida_4", Now)));

        await ReviewMerchantIdScript.Instance.RunAsync(Db, new(Application(account, "mida_2"), "review-key", true, "", "rev", Now, "eidm_1"));
        Assert.Equal(new MerchantApplyResult(MerchantApplyOutcome.Issued, "mida_2"), await ApplyMerchantIdScript.Instance.RoundTripAsync(Db, new("k3", account, "mida_5", Now)));
    }

    [Fact]
    public async Task R_ONB_5_review_issues_the_first_merchant_id_once_with_one_MerchantIdIssued()
    {
        var account = await AccountAsync(verified: true, opened: true);
        await ApplyMerchantIdScript.Instance.RunAsync(Db, new("k1", account, "mida_a", Now));
        var issue = new ReviewMerchantIdScript.Request(Application(account, "mida_a"), "review-key", true, "", "rev", Now, "eidm_a");

        Assert.Equal(new ReviewMerchantIdScript.Result(ReviewOutcome.Decided, MerchantIdState.Issued, true, true), await ReviewMerchantIdScript.Instance.RoundTripAsync(Db, issue));
        Assert.Equal(new ReviewMerchantIdScript.Result(ReviewOutcome.Unchanged, MerchantIdState.Issued, false, false),
            await ReviewMerchantIdScript.Instance.RoundTripAsync(Db, issue with { CandidateMerchantId = "eidm_b" }));
        Assert.Equal(new ReviewMerchantIdScript.Result(ReviewOutcome.Conflict, MerchantIdState.Issued, false, false),
            await ReviewMerchantIdScript.Instance.RoundTripAsync(Db, issue with { Approve = false, Reason = "no" }));
        Assert.Equal(new ReviewMerchantIdScript.Result(ReviewOutcome.Missing, null, false, false),
            await ReviewMerchantIdScript.Instance.RoundTripAsync(Db, issue with { Application = Application(account, "mida_none") }));

        Assert.Equal(["eidm_a", null], (await Db.HashGetAsync(EnterpriseStore.AccountKey(account), ["merchant_id", "merchant_pending"])).Select(v => (string?)v));
        Assert.Equal("review-key", (string?)await Db.HashGetAsync(EnterpriseStore.MerchantAppKey(account, "mida_a"), MerchantIdRecordFormat.ReviewKey));
        var (topic, id, data) = Assert.Single(await ScriptRoundTrip.OutboxAsync(Db, RedisKeys.Outbox(RedisKeys.AccountTag(account))));
        Assert.Equal((EventTopics.MerchantIdIssued, ReviewMerchantIdScript.IssuedEventId(account)), (topic, id));
        var issued = ScriptRoundTrip.StrictEvent<MerchantIdIssued>(data);
        Assert.Equal((account, "eidm_a", Now), (issued.AccountId, issued.MerchantId, issued.IssuedAt.ToDateTimeOffset()));
    }

    [Fact]
    public async Task R_ONB_5_a_rejection_writes_one_MerchantIdRejected()
    {
        var account = await AccountAsync(verified: true, opened: true);
        await ApplyMerchantIdScript.Instance.RunAsync(Db, new("k1", account, "mida_r", Now));

        Assert.Equal(new ReviewMerchantIdScript.Result(ReviewOutcome.Decided, MerchantIdState.Rejected, false, true),
            await ReviewMerchantIdScript.Instance.RoundTripAsync(Db, new(Application(account, "mida_r"), "review-key", false, "blurred", "rev", Now, "eidm_r")));
        Assert.False(await Db.HashExistsAsync(EnterpriseStore.AccountKey(account), "merchant_id"));
        var (topic, id, data) = Assert.Single(await ScriptRoundTrip.OutboxAsync(Db, RedisKeys.Outbox(RedisKeys.AccountTag(account))));
        Assert.Equal((EventTopics.MerchantIdRejected, ReviewMerchantIdScript.RejectedEventId("mida_r")), (topic, id));
        var rejected = ScriptRoundTrip.StrictEvent<MerchantIdRejected>(data);
        Assert.Equal((account, "mida_r", "blurred", Now), (rejected.AccountId, rejected.ApplicationId, rejected.Reason, rejected.RejectedAt.ToDateTimeOffset()));
    }

    [Fact]
    public void Unknown_answers_are_errors_naming_the_script()
    {
        static RedisResult Words(params string[] words) => RedisResult.Create(words.Select(w => RedisResult.Create((RedisValue)w)).ToArray());
        Assert.Equal("submit-enterprise-verification.lua",
            Assert.Throws<UnexpectedScriptReplyException>(() => SubmitEnterpriseVerificationScript.Instance.Parse(Words("maybe"))).ScriptName);
        Assert.Equal("apply-merchant-id.lua", Assert.Throws<UnexpectedScriptReplyException>(() => ApplyMerchantIdScript.Instance.Parse(Words("frozen", ""))).ScriptName);
        var review = Assert.Throws<UnexpectedScriptReplyException>(() => ReviewMerchantIdScript.Instance.Parse(
            RedisResult.Create([RedisResult.Create((RedisValue)"ok"), RedisResult.Create((RedisValue)"revoked"), RedisResult.Create(0), RedisResult.Create(1)])));
        Assert.Equal("review-merchant-id.lua", review.ScriptName);
        Assert.Contains("revoked", review.Message);
    }
}
