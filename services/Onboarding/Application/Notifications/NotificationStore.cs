using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FaceId.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FaceId.Onboarding.Application.Notifications;

public sealed record InboxMessageRecord(string Id, string AccountId, string Kind, string Title, string Body, DateTimeOffset CreatedAt, bool Read, string EventId);

public sealed record InboxPage(IReadOnlyList<InboxMessageRecord> Messages, int UnreadCount, int Total);

/// <summary>
/// The in-site inbox and the per-(event, channel) delivery markers, all in the main account's
/// slot (docs/redis-keys.md): <c>{acct:M}:onb:inbox</c> (zset, all messages by time),
/// <c>:inbox:unread</c> (zset), <c>:inbox:msgs</c> (hash id → JSON) and
/// <c>{acct:M}:onb:notified:&lt;event id&gt;:&lt;channel&gt;</c>.
/// </summary>
public sealed class NotificationStore(IDatabase redis, IOptions<NotificationOptions> options)
{
    public static string MarkerKey(string main, string eventId, string channel) => RedisKeys.ForAccount(main, $"onb:notified:{eventId}:{channel}");
    public static string InboxKey(string main) => RedisKeys.ForAccount(main, "onb:inbox");
    public static string UnreadKey(string main) => RedisKeys.ForAccount(main, "onb:inbox:unread");
    public static string MessagesKey(string main) => RedisKeys.ForAccount(main, "onb:inbox:msgs");

    private TimeSpan Retention => TimeSpan.FromDays(options.Value.MarkerRetentionDays);

    /// <summary>The inbox message id of an event: stable, so the same event can never make two messages.</summary>
    public static string MessageIdFor(string eventId) =>
        "msg_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(eventId)))[..24];

    /// <summary>Adds the notice to the inbox unless it was delivered before; returns whether it was added now.</summary>
    public Task<bool> DeliverToInboxAsync(string main, Notice notice, DateTimeOffset now) =>
        DeliverInboxScript.Instance.RunAsync(redis, new(main, notice, now, Retention));

    /// <summary>The stored form of an inbox message (also written by webhook-record-attempt.lua).</summary>
    public static string MessageJson(Notice notice, DateTimeOffset now) =>
        JsonSerializer.Serialize(new StoredMessage(notice.Kind, notice.Title, notice.Body, now.ToUnixTimeMilliseconds(), notice.EventId));

    public Task<ClaimResult> ClaimAsync(string main, string eventId, string channel, string token) =>
        ClaimDeliveryScript.Instance.RunAsync(redis, new(main, eventId, channel, token, TimeSpan.FromSeconds(options.Value.ClaimLeaseSeconds)));

    public Task MarkSentAsync(string main, string eventId, string channel) =>
        redis.StringSetAsync(MarkerKey(main, eventId, channel), DeliveryMarker.Sent, Retention);

    /// <summary>Releases this attempt's claim after a failed send, only while it still holds it.</summary>
    public Task ReleaseAsync(string main, string eventId, string channel, string token) =>
        CompareAndDelete.Instance.RunAsync(redis, new(MarkerKey(main, eventId, channel), DeliveryMarker.Claimed(token)));

    /// <summary>A page of the inbox, newest first, with the unread count, read in one consistent step.</summary>
    public async Task<InboxPage> ListAsync(string main, bool unreadOnly, int offset, int count)
    {
        var listing = await ListInboxScript.Instance.RunAsync(redis, new(main, unreadOnly, offset, count));
        var messages = new List<InboxMessageRecord>(listing.Rows.Count);
        foreach (var row in listing.Rows)
        {
            if (row.Json.Length == 0) continue;
            var m = JsonSerializer.Deserialize<StoredMessage>(row.Json)!;
            messages.Add(new InboxMessageRecord(row.Id, main, m.Kind, m.Title, m.Body, DateTimeOffset.FromUnixTimeMilliseconds(m.CreatedAtMs), !row.Unread, m.EventId));
        }
        return new InboxPage(messages, listing.UnreadCount, listing.Total);
    }

    /// <summary>Marks messages read (unknown ids are ignored); returns the unread count after.</summary>
    public async Task<int> MarkReadAsync(string main, IReadOnlyList<string> messageIds)
    {
        var tran = redis.CreateTransaction();
        _ = tran.SortedSetRemoveAsync(UnreadKey(main), messageIds.Select(id => (RedisValue)id).ToArray());
        var count = tran.SortedSetLengthAsync(UnreadKey(main));
        await tran.ExecuteAsync();
        return (int)await count;
    }

    private sealed record StoredMessage(string Kind, string Title, string Body, long CreatedAtMs, string EventId);
}
