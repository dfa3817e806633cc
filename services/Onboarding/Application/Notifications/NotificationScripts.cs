using FaceId.Redis;
using StackExchange.Redis;

namespace FaceId.Onboarding.Application.Notifications;

/// <summary>
/// The value of a delivery marker <c>{acct:M}:onb:notified:&lt;event id&gt;:&lt;channel&gt;</c>, written by the
/// scripts and by <see cref="NotificationStore"/>: one source for both languages.
/// </summary>
public static class DeliveryMarker
{
    /// <summary>Delivered on the channel: every later attempt skips it.</summary>
    public const string Sent = "sent";

    /// <summary>An attempt holds the claim until its lease ends: <c>claimed:&lt;token&gt;</c>.</summary>
    public const string ClaimedPrefix = "claimed:";

    public static string Claimed(string token) => ClaimedPrefix + token;

    internal static readonly (string Name, object Value)[] Lua = [("MARKER_SENT", Sent), ("MARKER_CLAIMED", ClaimedPrefix)];
}

/// <summary>deliver-inbox.lua: puts a notice in the main account's inbox once per event (marker and message together).</summary>
public sealed class DeliverInboxScript() : ScriptContract<DeliverInboxScript.Request, bool>(Loaded)
{
    private static readonly RedisScript Loaded = RedisScript.FromResource(typeof(DeliverInboxScript).Assembly, "deliver-inbox.lua",
        LuaPreamble.Of(DeliveryMarker.Lua));

    public static readonly DeliverInboxScript Instance = new();

    /// <param name="MarkerRetention">How long the (event, inbox) marker is kept.</param>
    public sealed record Request(string Main, Notice Notice, DateTimeOffset Now, TimeSpan MarkerRetention);

    public override ScriptCall Bind(Request r) => new(
        [
            NotificationStore.MarkerKey(r.Main, r.Notice.EventId, Channels.Inbox), NotificationStore.InboxKey(r.Main),
            NotificationStore.UnreadKey(r.Main), NotificationStore.MessagesKey(r.Main),
        ],
        [
            NotificationStore.MessageIdFor(r.Notice.EventId), r.Now.ToUnixTimeMilliseconds(), NotificationStore.MessageJson(r.Notice, r.Now),
            (long)r.MarkerRetention.TotalSeconds,
        ]);

    /// <summary>True when delivered now, false when it had been delivered before.</summary>
    public override bool Parse(RedisResult reply) => (long)reply switch
    {
        1 => true,
        0 => false,
        var n => throw Unexpected($"{n}"),
    };
}

/// <summary>One message of a listed inbox page as stored: id, stored JSON ("" when the message is gone), unread.</summary>
public sealed record InboxRow(string Id, string Json, bool Unread);

/// <summary>A page of the inbox as list-inbox.lua reads it in one step.</summary>
public sealed record InboxListing(int UnreadCount, int Total, IReadOnlyList<InboxRow> Rows);

/// <summary>list-inbox.lua: one consistent page of a main account's inbox, newest first, with the unread count.</summary>
public sealed class ListInboxScript() : ScriptContract<ListInboxScript.Request, InboxListing>(Loaded)
{
    private static readonly RedisScript Loaded = RedisScript.FromResource(typeof(ListInboxScript).Assembly, "list-inbox.lua", LuaPreamble.Of(ScriptFlag.Lua));

    public static readonly ListInboxScript Instance = new();

    public sealed record Request(string Main, bool UnreadOnly, int Offset, int Count);

    public override ScriptCall Bind(Request r) => new(
        [NotificationStore.InboxKey(r.Main), NotificationStore.UnreadKey(r.Main), NotificationStore.MessagesKey(r.Main)],
        [ScriptFlag.Of(r.UnreadOnly), r.Offset, r.Count]);

    public override InboxListing Parse(RedisResult reply)
    {
        var r = Array(reply);
        if (r.Length < 2 || (r.Length - 2) % 3 != 0) throw Unexpected($"{r.Length} values, not 2 and triples");
        var rows = new List<InboxRow>((r.Length - 2) / 3);
        for (var i = 2; i < r.Length; i += 3)
            rows.Add(new InboxRow((string)r[i]!, (string)r[i + 1]!, (long)r[i + 2] switch { 1 => true, 0 => false, var n => throw Unexpected($"unread flag {n}") }));
        return new InboxListing((int)(long)r[0], (int)(long)r[1], rows);
    }
}

public enum ClaimResult { Claimed, AlreadySent, Busy }

/// <summary>claim-delivery.lua: claims the delivery of one (event, channel) on an external channel for a lease.</summary>
public sealed class ClaimDeliveryScript() : ScriptContract<ClaimDeliveryScript.Request, ClaimResult>(Loaded)
{
    private static readonly Dictionary<string, ClaimResult> Outcomes = new()
    {
        ["claimed"] = ClaimResult.Claimed, ["sent"] = ClaimResult.AlreadySent, ["busy"] = ClaimResult.Busy,
    };

    private static readonly RedisScript Loaded = RedisScript.FromResource(typeof(ClaimDeliveryScript).Assembly, "claim-delivery.lua",
        LuaPreamble.Of([.. DeliveryMarker.Lua, .. ReplyWords.Lua(Outcomes)]));

    public static readonly ClaimDeliveryScript Instance = new();

    public sealed record Request(string Main, string EventId, string Channel, string Token, TimeSpan Lease);

    public override ScriptCall Bind(Request r) =>
        new([NotificationStore.MarkerKey(r.Main, r.EventId, r.Channel)], [r.Token, (long)r.Lease.TotalMilliseconds]);

    public override ClaimResult Parse(RedisResult reply) => Status(reply, Outcomes);
}
