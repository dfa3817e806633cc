using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FaceId.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FaceId.Onboarding.Application.Notifications;

public enum ClaimResult { Claimed, AlreadySent, Busy }

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
    private static readonly RedisScript DeliverInboxScript = RedisScript.FromResource(typeof(NotificationStore).Assembly, "deliver-inbox.lua");
    private static readonly RedisScript ClaimScript = RedisScript.FromResource(typeof(NotificationStore).Assembly, "claim-delivery.lua");
    private static readonly RedisScript ReleaseScript = RedisScript.FromResource(typeof(NotificationStore).Assembly, "release-delivery.lua");
    private static readonly RedisScript ListScript = RedisScript.FromResource(typeof(NotificationStore).Assembly, "list-inbox.lua");

    public static string MarkerKey(string main, string eventId, string channel) => RedisKeys.ForAccount(main, $"onb:notified:{eventId}:{channel}");
    public static string InboxKey(string main) => RedisKeys.ForAccount(main, "onb:inbox");
    public static string UnreadKey(string main) => RedisKeys.ForAccount(main, "onb:inbox:unread");
    public static string MessagesKey(string main) => RedisKeys.ForAccount(main, "onb:inbox:msgs");

    private long RetentionSeconds => (long)TimeSpan.FromDays(options.Value.MarkerRetentionDays).TotalSeconds;

    /// <summary>The inbox message id of an event: stable, so the same event can never make two messages.</summary>
    public static string MessageIdFor(string eventId) =>
        "msg_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(eventId)))[..24];

    /// <summary>Adds the notice to the inbox unless it was delivered before; returns whether it was added now.</summary>
    public async Task<bool> DeliverToInboxAsync(string main, Notice notice, DateTimeOffset now)
    {
        var json = MessageJson(notice, now);
        var r = await DeliverInboxScript.RunAsync(redis,
            [MarkerKey(main, notice.EventId, Channels.Inbox), InboxKey(main), UnreadKey(main), MessagesKey(main)],
            [MessageIdFor(notice.EventId), now.ToUnixTimeMilliseconds(), json, RetentionSeconds]);
        return (long)r == 1;
    }

    /// <summary>The stored form of an inbox message (also written by webhook-record-attempt.lua).</summary>
    public static string MessageJson(Notice notice, DateTimeOffset now) =>
        JsonSerializer.Serialize(new StoredMessage(notice.Kind, notice.Title, notice.Body, now.ToUnixTimeMilliseconds(), notice.EventId));

    public async Task<ClaimResult> ClaimAsync(string main, string eventId, string channel, string token)
    {
        var r = (string)(await ClaimScript.RunAsync(redis, [MarkerKey(main, eventId, channel)],
            [token, (long)TimeSpan.FromSeconds(options.Value.ClaimLeaseSeconds).TotalMilliseconds]))!;
        return r switch
        {
            "sent" => ClaimResult.AlreadySent,
            "busy" => ClaimResult.Busy,
            "claimed" => ClaimResult.Claimed,
            _ => throw new InvalidOperationException($"claim-delivery.lua answered unknown status '{r}'"),
        };
    }

    public Task MarkSentAsync(string main, string eventId, string channel) =>
        redis.StringSetAsync(MarkerKey(main, eventId, channel), "sent", TimeSpan.FromSeconds(RetentionSeconds));

    public Task ReleaseAsync(string main, string eventId, string channel, string token) =>
        ReleaseScript.RunAsync(redis, [MarkerKey(main, eventId, channel)], [token]);

    /// <summary>A page of the inbox, newest first, with the unread count, read in one consistent step.</summary>
    public async Task<InboxPage> ListAsync(string main, bool unreadOnly, int offset, int count)
    {
        var r = (RedisResult[])(await ListScript.RunAsync(redis, [InboxKey(main), UnreadKey(main), MessagesKey(main)],
            [unreadOnly ? 1 : 0, offset, count]))!;
        var messages = new List<InboxMessageRecord>();
        for (var i = 2; i + 2 < r.Length; i += 3)
        {
            var id = (string)r[i]!;
            var json = (string)r[i + 1]!;
            if (json.Length == 0) continue;
            var m = JsonSerializer.Deserialize<StoredMessage>(json)!;
            messages.Add(new InboxMessageRecord(id, main, m.Kind, m.Title, m.Body, DateTimeOffset.FromUnixTimeMilliseconds(m.CreatedAtMs), (long)r[i + 2] == 0, m.EventId));
        }
        return new InboxPage(messages, (int)(long)r[0], (int)(long)r[1]);
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
