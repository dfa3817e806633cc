using FaceId.Common;
using FaceId.Onboarding.Application.Notifications;
using FaceId.Onboarding.Application.Webhooks;
using FaceId.Redis;
using FaceId.TestKit;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Xunit;

namespace FaceId.Onboarding.Tests.Scripts;

/// <summary>
/// The webhook scripts through their typed contracts on real Redis: Bind → run → Parse, the typed
/// result and the state written; unknown answers are errors naming the script.
/// </summary>
public sealed class WebhookScriptTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 10, 0, 0, ChinaCalendar.Offset);
    private static readonly TimeSpan Retention = TimeSpan.FromDays(30);
    private IDatabase Db => redis.Database;

    private static WebhookEndpointRecord Endpoint(string main, string id) =>
        new(id, main, "https://example.com/hook", ["package.low_balance"], "", true, "", Now, Now, "whsec_a", "", null, 0);

    private static WebhookDeliveryRecord Delivery(string main, string endpointId, string id, int attempts = 0) =>
        new(id, main, endpointId, "ev-1", "package.low_balance", "{}", WebhookDeliveryState.Pending, Now, Now, attempts, 0, "", "", []);

    private static WebhookRecordAttemptScript.Request Attempt(WebhookDeliveryRecord d, bool success, DateTimeOffset? nextAt, int threshold = 100) =>
        new(d, new WebhookAttemptRecord(Now.ToUnixTimeMilliseconds(), success ? 200 : 500, 12, success ? "" : "http 500"), success, nextAt, Now, threshold,
            new Notice("webhook-disabled:" + d.EndpointId, d.AccountId, "webhook.endpoint_disabled", "Disabled", "Body"), Retention);

    [Fact]
    public async Task Create_makes_an_endpoint_once_per_key_within_the_limit()
    {
        var main = TestIds.New("acct");
        Assert.Equal(new EndpointCreateResult(EndpointCreateOutcome.Created, "we_1", "url=a"), await WebhookCreateScript.Instance.RoundTripAsync(Db, new("k1", Endpoint(main, "we_1"), 1, "url=a")));
        // A replay answers the first request's endpoint and fingerprint, whatever it asks.
        Assert.Equal(new EndpointCreateResult(EndpointCreateOutcome.Replayed, "we_1", "url=a"), await WebhookCreateScript.Instance.RoundTripAsync(Db, new("k1", Endpoint(main, "we_2"), 1, "url=b")));
        Assert.Equal(new EndpointCreateResult(EndpointCreateOutcome.Limit, "", ""), await WebhookCreateScript.Instance.RoundTripAsync(Db, new("k2", Endpoint(main, "we_3"), 1, "url=c")));
        Assert.Equal(WebhookWords.Enabled, (string?)await Db.HashGetAsync(WebhookStore.EndpointKey(main, "we_1"), "enabled"));
        var ttl = await Db.KeyTimeToLiveAsync(WebhookStore.IdempotencyKey(main, "k1"));
        Assert.InRange(ttl!.Value, WebhookWords.IdempotencyRetention - TimeSpan.FromMinutes(1), WebhookWords.IdempotencyRetention);
        Assert.False(await Db.KeyExistsAsync(WebhookStore.EndpointKey(main, "we_3")));
    }

    [Fact]
    public async Task Enqueue_once_then_attempts_retry_deliver_and_a_redelivery_starts_a_new_round()
    {
        var main = TestIds.New("acct");
        await WebhookCreateScript.Instance.RunAsync(Db, new("k", Endpoint(main, "we_1"), 20, ""));
        var d = Delivery(main, "we_1", "msg_1");
        Assert.True(await WebhookEnqueueScript.Instance.RoundTripAsync(Db, new(d, Retention, 1000)));
        Assert.False(await WebhookEnqueueScript.Instance.RoundTripAsync(Db, new(d, Retention, 1000)));
        Assert.Equal(WebhookWords.Pending, (string?)await Db.HashGetAsync(WebhookStore.DeliveryKey(main, "msg_1"), "state"));
        Assert.Equal(["msg_1"], (await Db.SortedSetRangeByRankAsync(WebhookStore.LogKey(main, "we_1"))).Select(v => (string?)v));

        Assert.Equal(new WebhookRecordAttemptScript.Result(WebhookStore.AttemptOutcome.Retry, false),
            await WebhookRecordAttemptScript.Instance.RoundTripAsync(Db, Attempt(d, false, Now.AddSeconds(5))));
        // The claimant saw 0 attempts, the delivery has 1 now: a second record of that claim is stale.
        Assert.Equal(new WebhookRecordAttemptScript.Result(WebhookStore.AttemptOutcome.Stale, false),
            await WebhookRecordAttemptScript.Instance.RoundTripAsync(Db, Attempt(d, true, null)));
        Assert.Equal(new WebhookRecordAttemptScript.Result(WebhookStore.AttemptOutcome.Failed, false),
            await WebhookRecordAttemptScript.Instance.RoundTripAsync(Db, Attempt(d with { Attempts = 1 }, false, null)));
        Assert.Equal(WebhookWords.Failed, (string?)await Db.HashGetAsync(WebhookStore.DeliveryKey(main, "msg_1"), "state"));
        Assert.Equal(2, await Db.ListLengthAsync(WebhookStore.AttemptsKey(main, "msg_1")));

        Assert.False(await WebhookRedeliverScript.Instance.RoundTripAsync(Db, new(main, "we_other", "msg_1", Now)));
        Assert.True(await WebhookRedeliverScript.Instance.RoundTripAsync(Db, new(main, "we_1", "msg_1", Now.AddMinutes(1))));
        Assert.Equal([WebhookWords.Pending, "2"], (await Db.HashGetAsync(WebhookStore.DeliveryKey(main, "msg_1"), ["state", "round_start"])).Select(v => (string?)v));
        Assert.Equal(new WebhookRecordAttemptScript.Result(WebhookStore.AttemptOutcome.Delivered, false),
            await WebhookRecordAttemptScript.Instance.RoundTripAsync(Db, Attempt(d with { Attempts = 2, Redeliveries = 1 }, true, null)));
        Assert.Equal(WebhookWords.Delivered, (string?)await Db.HashGetAsync(WebhookStore.DeliveryKey(main, "msg_1"), "state"));
    }

    /// <summary>
    /// A redelivery asked for while an attempt is in flight (after the claimant read the delivery, before it recorded
    /// the attempt): the record keeps the attempt but leaves the delivery pending in a new round, so it is sent again.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_redelivery_during_an_attempt_in_flight_leaves_the_delivery_pending_for_another_attempt(bool success)
    {
        var main = TestIds.New("acct");
        await WebhookCreateScript.Instance.RunAsync(Db, new("k", Endpoint(main, "we_1"), 20, ""));
        var claimed = Delivery(main, "we_1", "msg_4");
        await WebhookEnqueueScript.Instance.RunAsync(Db, new(claimed, Retention, 1000));
        var redeliveredAt = Now.AddSeconds(1);
        Assert.True(await WebhookRedeliverScript.Instance.RoundTripAsync(Db, new(main, "we_1", "msg_4", redeliveredAt)));

        Assert.Equal(new WebhookRecordAttemptScript.Result(WebhookStore.AttemptOutcome.Redelivered, false),
            await WebhookRecordAttemptScript.Instance.RoundTripAsync(Db, Attempt(claimed, success, Now.AddSeconds(5))));
        var key = WebhookStore.DeliveryKey(main, "msg_4");
        Assert.Equal([WebhookWords.Pending, redeliveredAt.ToUnixTimeMilliseconds().ToString(), "1", "1", "1"],
            (await Db.HashGetAsync(key, ["state", "next_at", "attempts", "round_start", "redeliveries"])).Select(v => (string?)v));

        var again = await new WebhookStore(Db, Options.Create(new WebhookOptions())).GetDeliveryAsync(main, "msg_4");
        Assert.Equal((1, 1, 0), (again!.Attempts, again.Redeliveries, again.AttemptsThisRound));
        Assert.Equal(new WebhookRecordAttemptScript.Result(WebhookStore.AttemptOutcome.Delivered, false),
            await WebhookRecordAttemptScript.Instance.RoundTripAsync(Db, Attempt(again, true, null)));
        Assert.Equal(2, await Db.ListLengthAsync(WebhookStore.AttemptsKey(main, "msg_4")));
    }

    /// <summary>
    /// What the scripts write under the delivery's and endpoint's field names (F_DL_*, F_EP_* from their RecordFormat) the
    /// store reads back under the same C# names, and the stored names are the documented ones (docs/redis-keys.md).
    /// </summary>
    [Fact]
    public async Task Records_written_by_the_scripts_read_back_through_the_store_under_the_documented_field_names()
    {
        var main = TestIds.New("acct");
        var store = new WebhookStore(Db, Options.Create(new WebhookOptions()));
        var endpoint = Endpoint(main, "we_1") with { Description = "orders", PreviousSecret = "whsec_old", PreviousSecretUntil = Now.AddDays(1) };
        await WebhookCreateScript.Instance.RunAsync(Db, new("k", endpoint, 20, ""));
        var readEndpoint = await store.GetEndpointAsync(main, "we_1");
        Assert.Equal(endpoint.EventTypes, readEndpoint!.EventTypes);
        Assert.Equal(endpoint, readEndpoint with { EventTypes = endpoint.EventTypes });
        Assert.Equal(["created_at", "description", "disabled_reason", "enabled", "events", "failures", "previous_secret", "previous_until", "secret", "updated_at", "url"],
            (await Db.HashKeysAsync(WebhookStore.EndpointKey(main, "we_1"))).Select(k => (string)k!).Order());

        var delivery = Delivery(main, "we_1", "msg_5") with { TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", TraceState = "k=v" };
        await WebhookEnqueueScript.Instance.RunAsync(Db, new(delivery, Retention, 1000));
        Assert.Equal(delivery, (await store.GetDeliveryAsync(main, "msg_5"))! with { Log = delivery.Log });
        Assert.Equal(["attempts", "created_at", "endpoint", "event_id", "next_at", "payload", "round_start", "state", "traceparent", "tracestate", "type"],
            (await Db.HashKeysAsync(WebhookStore.DeliveryKey(main, "msg_5"))).Select(k => (string)k!).Order());

        await WebhookRecordAttemptScript.Instance.RunAsync(Db, Attempt(delivery, false, Now.AddSeconds(5), threshold: 1));
        var retried = await store.GetDeliveryAsync(main, "msg_5");
        Assert.Equal((WebhookDeliveryState.Pending, Now.AddSeconds(5), 1, 500), (retried!.State, retried.NextAttemptAt, retried.Attempts, retried.Log.Single().StatusCode));
        var disabled = await store.GetEndpointAsync(main, "we_1");
        Assert.Equal((false, WebhookWords.DisabledFailing, 1), (disabled!.Enabled, disabled.DisabledReason, disabled.Failures));

        await WebhookRedeliverScript.Instance.RunAsync(Db, new(main, "we_1", "msg_5", Now.AddMinutes(1)));
        var redelivered = await store.GetDeliveryAsync(main, "msg_5");
        Assert.Equal((Now.AddMinutes(1), 1, 1, 0), (redelivered!.NextAttemptAt, redelivered.RoundStart, redelivered.Redeliveries, redelivered.AttemptsThisRound));
        await WebhookRecordAttemptScript.Instance.RunAsync(Db, Attempt(redelivered, true, null));
        var delivered = await store.GetDeliveryAsync(main, "msg_5");
        Assert.Equal((WebhookDeliveryState.Delivered, (DateTimeOffset?)null, 2), (delivered!.State, delivered.NextAttemptAt, delivered.Attempts));
        Assert.Equal(0, (await store.GetEndpointAsync(main, "we_1"))!.Failures);
    }

    [Fact]
    public async Task Reaching_the_failure_threshold_disables_the_endpoint_once_with_its_inbox_notice()
    {
        var main = TestIds.New("acct");
        await WebhookCreateScript.Instance.RunAsync(Db, new("k", Endpoint(main, "we_1"), 20, ""));
        var d = Delivery(main, "we_1", "msg_2");
        await WebhookEnqueueScript.Instance.RunAsync(Db, new(d, Retention, 1000));

        Assert.Equal(new WebhookRecordAttemptScript.Result(WebhookStore.AttemptOutcome.Retry, true),
            await WebhookRecordAttemptScript.Instance.RoundTripAsync(Db, Attempt(d, false, Now.AddSeconds(5), threshold: 1)));
        Assert.Equal([WebhookWords.Disabled, WebhookWords.DisabledFailing],
            (await Db.HashGetAsync(WebhookStore.EndpointKey(main, "we_1"), ["enabled", "disabled_reason"])).Select(v => (string?)v));
        Assert.True(await Db.HashExistsAsync(NotificationStore.MessagesKey(main), NotificationStore.MessageIdFor("webhook-disabled:we_1")));
        Assert.Equal(new WebhookRecordAttemptScript.Result(WebhookStore.AttemptOutcome.Retry, false),
            await WebhookRecordAttemptScript.Instance.RoundTripAsync(Db, Attempt(d with { Attempts = 1 }, false, Now.AddSeconds(9), threshold: 1)));
    }

    [Fact]
    public async Task Release_due_removes_a_member_only_while_it_has_the_claims_score()
    {
        var member = WebhookStore.DueMember(TestIds.New("acct"), "msg_3");
        var claimedUntil = Now.AddMinutes(1);
        await Db.SortedSetAddAsync(WebhookStore.DueKey, member, Now.ToUnixTimeMilliseconds());
        Assert.Contains(member, await ClaimDue.Instance.RunAsync(Db, new(WebhookStore.DueKey, Now, claimedUntil, 1000)));

        Assert.False(await WebhookReleaseDueScript.Instance.RoundTripAsync(Db, new(member, claimedUntil.AddMilliseconds(1))));
        Assert.True(await WebhookReleaseDueScript.Instance.RoundTripAsync(Db, new(member, claimedUntil)));
        Assert.Null(await Db.SortedSetScoreAsync(WebhookStore.DueKey, member));
    }

    [Fact]
    public void Unknown_answers_are_errors_naming_the_script()
    {
        static RedisResult Pair(string word, RedisResult second) => RedisResult.Create([RedisResult.Create((RedisValue)word), second]);
        Assert.Equal("webhook-create.lua", Assert.Throws<UnexpectedScriptReplyException>(() => WebhookCreateScript.Instance.Parse(Pair("exists", RedisResult.Create((RedisValue)"")))).ScriptName);
        Assert.Equal("webhook-enqueue.lua", Assert.Throws<UnexpectedScriptReplyException>(() => WebhookEnqueueScript.Instance.Parse(RedisResult.Create(3))).ScriptName);
        Assert.Equal("webhook-redeliver.lua", Assert.Throws<UnexpectedScriptReplyException>(() => WebhookRedeliverScript.Instance.Parse(RedisResult.Create(-1))).ScriptName);
        Assert.Equal("webhook-release-due.lua", Assert.Throws<UnexpectedScriptReplyException>(() => WebhookReleaseDueScript.Instance.Parse(RedisResult.Create(2))).ScriptName);
        Assert.Equal("webhook-record-attempt.lua",
            Assert.Throws<UnexpectedScriptReplyException>(() => WebhookRecordAttemptScript.Instance.Parse(Pair("bounced", RedisResult.Create(0)))).ScriptName);
    }
}
