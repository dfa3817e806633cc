using FaceId.Common;
using FaceId.Onboarding.Application.Notifications;
using FaceId.Redis;
using FaceId.TestKit;
using StackExchange.Redis;
using Xunit;

namespace FaceId.Onboarding.Tests.Scripts;

/// <summary>
/// deliver-inbox.lua, list-inbox.lua and claim-delivery.lua through their typed contracts on real
/// Redis (Bind → run → Parse, result and state written), and the release of a claim by
/// FaceId.Redis's compare-and-delete of the claimed marker value.
/// </summary>
public sealed class NotificationScriptTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 10, 0, 0, ChinaCalendar.Offset);
    private IDatabase Db => redis.Database;

    private static Notice Notice(string main, string eventId) => new(eventId, main, "package.low_balance", "Low", "Body");

    [Fact]
    public async Task Deliver_puts_a_notice_in_the_inbox_once_per_event_and_list_pages_it()
    {
        var main = TestIds.New("acct");
        var retention = TimeSpan.FromDays(8);
        Assert.True(await DeliverInboxScript.Instance.RoundTripAsync(Db, new(main, Notice(main, "ev-1"), Now, retention)));
        Assert.False(await DeliverInboxScript.Instance.RoundTripAsync(Db, new(main, Notice(main, "ev-1"), Now.AddSeconds(1), retention)));
        Assert.True(await DeliverInboxScript.Instance.RoundTripAsync(Db, new(main, Notice(main, "ev-2"), Now.AddSeconds(2), retention)));
        Assert.Equal(DeliveryMarker.Sent, (string?)await Db.StringGetAsync(NotificationStore.MarkerKey(main, "ev-1", Channels.Inbox)));
        var ttl = await Db.KeyTimeToLiveAsync(NotificationStore.MarkerKey(main, "ev-1", Channels.Inbox));
        Assert.InRange(ttl!.Value, retention - TimeSpan.FromMinutes(1), retention);
        await Db.SortedSetRemoveAsync(NotificationStore.UnreadKey(main), NotificationStore.MessageIdFor("ev-1"));

        var all = await ListInboxScript.Instance.RoundTripAsync(Db, new(main, false, 0, 10));
        Assert.Equal((1, 2), (all.UnreadCount, all.Total));
        Assert.Equal([(NotificationStore.MessageIdFor("ev-2"), true), (NotificationStore.MessageIdFor("ev-1"), false)], all.Rows.Select(r => (r.Id, r.Unread)));
        Assert.Equal(NotificationStore.MessageJson(Notice(main, "ev-2"), Now.AddSeconds(2)), all.Rows[0].Json);
        var unread = await ListInboxScript.Instance.RoundTripAsync(Db, new(main, true, 0, 10));
        Assert.Equal((1, 1, NotificationStore.MessageIdFor("ev-2")), (unread.UnreadCount, unread.Total, Assert.Single(unread.Rows).Id));
        var beyond = await ListInboxScript.Instance.RoundTripAsync(Db, new(main, false, 2, 10));
        Assert.Equal((0, 2), (beyond.Rows.Count, beyond.Total));
    }

    [Fact]
    public async Task Claim_is_exclusive_until_released_by_its_holder_or_marked_sent()
    {
        var main = TestIds.New("acct");
        var claim = new ClaimDeliveryScript.Request(main, "ev-1", Channels.Email, "t1", TimeSpan.FromMinutes(1));
        var marker = (RedisKey)NotificationStore.MarkerKey(main, "ev-1", Channels.Email);

        Assert.Equal(ClaimResult.Claimed, await ClaimDeliveryScript.Instance.RoundTripAsync(Db, claim));
        Assert.Equal(DeliveryMarker.Claimed("t1"), (string?)await Db.StringGetAsync(marker));
        Assert.Equal(ClaimResult.Busy, await ClaimDeliveryScript.Instance.RoundTripAsync(Db, claim with { Token = "t2" }));
        // Only the holder's token releases the claim.
        Assert.False(await CompareAndDelete.Instance.RunAsync(Db, new(marker, DeliveryMarker.Claimed("t2"))));
        Assert.True(await CompareAndDelete.Instance.RunAsync(Db, new(marker, DeliveryMarker.Claimed("t1"))));
        Assert.Equal(ClaimResult.Claimed, await ClaimDeliveryScript.Instance.RoundTripAsync(Db, claim with { Token = "t2" }));
        await Db.StringSetAsync(marker, DeliveryMarker.Sent);
        Assert.Equal(ClaimResult.AlreadySent, await ClaimDeliveryScript.Instance.RoundTripAsync(Db, claim with { Token = "t3" }));
    }

    [Fact]
    public void Unknown_answers_are_errors_naming_the_script()
    {
        Assert.Equal("deliver-inbox.lua", Assert.Throws<UnexpectedScriptReplyException>(() => DeliverInboxScript.Instance.Parse(RedisResult.Create(2))).ScriptName);
        Assert.Equal("claim-delivery.lua", Assert.Throws<UnexpectedScriptReplyException>(() => ClaimDeliveryScript.Instance.Parse(RedisResult.Create((RedisValue)"stolen"))).ScriptName);
        Assert.Equal("list-inbox.lua", Assert.Throws<UnexpectedScriptReplyException>(() => ListInboxScript.Instance.Parse(
            RedisResult.Create([RedisResult.Create(0), RedisResult.Create(1), RedisResult.Create((RedisValue)"msg_1")]))).ScriptName);
    }
}
