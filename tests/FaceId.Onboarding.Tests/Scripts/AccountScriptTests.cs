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
/// submit-application.lua and review-application.lua through their typed contracts on real Redis:
/// Bind → run → Parse, the typed result and the state written; events parsed strictly.
/// </summary>
public sealed class AccountScriptTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 10, 0, 0, ChinaCalendar.Offset);
    private IDatabase Db => redis.Database;

    /// <summary>A main account in <paramref name="state"/> (or a sub-account of another main with <paramref name="main"/>).</summary>
    private async Task<string> AccountAsync(string state = StoredWords.NotApplied, string main = "")
    {
        var id = TestIds.New("acct");
        await Db.HashSetAsync(AccountStore.AccountKey(id), [new("id", id), new("main", main), new("state", state)]);
        return id;
    }

    private static SubmitApplicationScript.Request Submit(string account, string key, string appId) =>
        new(new ApplicationForm(key, account, "kyc", new ContactInfo("ops@example.com", "13800138000", "Ops"), "license.png"),
            new StoredDocument(DocumentKind.Png, 10, "ab"), appId, Now);

    private static ApplicationRecord Application(string account, string appId) =>
        new(appId, account, "", new ContactInfo("", "", ""), new StoredDocument(DocumentKind.Png, 10, "ab"), "", ApplicationState.Pending, "", Now, null, []);

    [Fact]
    public async Task R_ONB_1_submit_files_once_per_key_and_refuses_a_second_pending_application()
    {
        var account = await AccountAsync();

        Assert.Equal(new SubmitResult(SubmitOutcome.Filed, "app_1"), await SubmitApplicationScript.Instance.RoundTripAsync(Db, Submit(account, "k1", "app_1")));
        Assert.Equal(StoredWords.Pending, (string?)await Db.HashGetAsync(AccountStore.AppKey(account, "app_1"), "status"));
        Assert.Equal([StoredWords.PendingReview, "app_1"], (await Db.HashGetAsync(AccountStore.AccountKey(account), ["state", "pending_application"])).Select(v => (string?)v));
        Assert.Equal(["app_1"], (await Db.SortedSetRangeByRankAsync(AccountStore.AppsKey(account))).Select(v => (string?)v));

        Assert.Equal(new SubmitResult(SubmitOutcome.Duplicate, "app_1"), await SubmitApplicationScript.Instance.RoundTripAsync(Db, Submit(account, "k1", "app_2")));
        Assert.Equal(new SubmitResult(SubmitOutcome.Pending, "app_1"), await SubmitApplicationScript.Instance.RoundTripAsync(Db, Submit(account, "k2", "app_3")));
        Assert.False(await Db.KeyExistsAsync(AccountStore.AppKey(account, "app_3")));
    }

    [Fact]
    public async Task R_ONB_1_submit_refuses_unknown_sub_and_opened_accounts_without_writing()
    {
        Assert.Equal(SubmitOutcome.NoAccount, (await SubmitApplicationScript.Instance.RoundTripAsync(Db, Submit(TestIds.New("acct"), "k", "app_n"))).Outcome);
        Assert.Equal(SubmitOutcome.SubAccount, (await SubmitApplicationScript.Instance.RoundTripAsync(Db, Submit(await AccountAsync(main: "acc_main"), "k", "app_s"))).Outcome);
        var opened = await AccountAsync(StoredWords.Opened);
        Assert.Equal(SubmitOutcome.Opened, (await SubmitApplicationScript.Instance.RoundTripAsync(Db, Submit(opened, "k", "app_o"))).Outcome);
        Assert.Equal(SubmitOutcome.Opened, (await SubmitApplicationScript.Instance.RoundTripAsync(Db, Submit(await AccountAsync(StoredWords.Suspended), "k", "app_x"))).Outcome);
        Assert.False(await Db.KeyExistsAsync(AccountStore.AppKey(opened, "app_o")));
    }

    [Fact]
    public async Task R_ONB_2_review_opens_the_service_once_with_ServiceActivated_and_ApplicationReviewed()
    {
        var account = await AccountAsync();
        await SubmitApplicationScript.Instance.RunAsync(Db, Submit(account, "k1", "app_r"));
        var approve = new ReviewApplicationScript.Request(Application(account, "app_r"), "review-key", true, "", "rev-1", Now, "2021-06", Settlement.Daily);

        Assert.Equal(new ReviewApplicationScript.Result(ReviewOutcome.Decided, ApplicationState.Approved, true),
            await ReviewApplicationScript.Instance.RoundTripAsync(Db, approve));
        Assert.Equal(new ReviewApplicationScript.Result(ReviewOutcome.Unchanged, ApplicationState.Approved, false),
            await ReviewApplicationScript.Instance.RoundTripAsync(Db, approve));
        Assert.Equal(new ReviewApplicationScript.Result(ReviewOutcome.Conflict, ApplicationState.Approved, false),
            await ReviewApplicationScript.Instance.RoundTripAsync(Db, approve with { Approve = false, Reason = "no" }));
        Assert.Equal(new ReviewApplicationScript.Result(ReviewOutcome.Missing, null, false),
            await ReviewApplicationScript.Instance.RoundTripAsync(Db, approve with { Application = Application(account, "app_none") }));

        Assert.Equal("review-key", (string?)await Db.HashGetAsync(AccountStore.AppKey(account, "app_r"), ApplicationRecordFormat.ReviewKey));
        var acct = await Db.HashGetAsync(AccountStore.AccountKey(account), ["state", "price_book", "cycle", "pending_application"]);
        Assert.Equal([StoredWords.Opened, "2021-06", "daily", null], acct.Select(v => (string?)v));
        var events = await ScriptRoundTrip.OutboxAsync(Db, RedisKeys.Outbox(RedisKeys.AccountTag(account)));
        Assert.Equal([EventTopics.ServiceActivated, EventTopics.ApplicationReviewed], events.Select(e => e.Topic));
        Assert.Equal([ReviewApplicationScript.ActivatedEventId(account), ReviewApplicationScript.ReviewedEventId("app_r")], events.Select(e => e.Id));
        var activated = ScriptRoundTrip.StrictEvent<ServiceActivated>(events[0].Data);
        Assert.Equal((account, "app_r", "2021-06", Contracts.Common.V1.SettlementCycle.Daily, Now),
            (activated.AccountId, activated.ApplicationId, activated.PriceBook, activated.SettlementCycle, activated.ActivatedAt.ToDateTimeOffset()));
        var reviewed = ScriptRoundTrip.StrictEvent<ApplicationReviewed>(events[1].Data);
        Assert.Equal((account, "app_r", true, Now), (reviewed.AccountId, reviewed.ApplicationId, reviewed.Approved, reviewed.ReviewedAt.ToDateTimeOffset()));
    }

    [Fact]
    public async Task R_ONB_2_a_rejection_writes_only_ApplicationReviewed_and_leaves_the_service_not_applied()
    {
        var account = await AccountAsync();
        await SubmitApplicationScript.Instance.RunAsync(Db, Submit(account, "k1", "app_j"));

        Assert.Equal(new ReviewApplicationScript.Result(ReviewOutcome.Decided, ApplicationState.Rejected, false),
            await ReviewApplicationScript.Instance.RoundTripAsync(Db,
                new ReviewApplicationScript.Request(Application(account, "app_j"), "review-key", false, "blurred", "rev-1", Now, "2021-06", Settlement.Daily)));
        Assert.Equal(StoredWords.NotApplied, (string?)await Db.HashGetAsync(AccountStore.AccountKey(account), "state"));
        var reviewed = ScriptRoundTrip.StrictEvent<ApplicationReviewed>(
            Assert.Single(await ScriptRoundTrip.OutboxAsync(Db, RedisKeys.Outbox(RedisKeys.AccountTag(account)))).Data);
        Assert.Equal((false, "blurred"), (reviewed.Approved, reviewed.Reason));
    }

    [Fact]
    public void Unknown_review_answers_are_errors_naming_the_script()
    {
        static RedisResult Reply(string status, string state, int flag) =>
            RedisResult.Create([RedisResult.Create((RedisValue)status), RedisResult.Create((RedisValue)state), RedisResult.Create(flag)]);
        Assert.Equal("review-application.lua", Assert.Throws<UnexpectedScriptReplyException>(() => ReviewApplicationScript.Instance.Parse(Reply("maybe", "", 0))).ScriptName);
        Assert.Throws<UnexpectedScriptReplyException>(() => ReviewApplicationScript.Instance.Parse(Reply("ok", StoredWords.Approved, 2)));
        Assert.Contains("archived", Assert.Throws<UnexpectedScriptReplyException>(() => ReviewApplicationScript.Instance.Parse(Reply("ok", "archived", 0))).Message);
    }
}
