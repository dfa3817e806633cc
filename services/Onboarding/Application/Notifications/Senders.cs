using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;
using MimeKit;

namespace FaceId.Onboarding.Application.Notifications;

public static class Channels
{
    public const string Inbox = "inbox";
    public const string Email = "email";
    public const string Sms = "sms";
}

/// <summary>
/// One message on one external channel. <see cref="EventId"/> + <see cref="Channel"/> is its
/// delivery key: senders that can pass a de-duplication key to their provider use it.
/// </summary>
public sealed record OutboundMessage(string EventId, string Channel, string To, string Kind, string Title, string Body);

public interface IEmailSender
{
    Task SendAsync(OutboundMessage message, CancellationToken cancellationToken);
}

/// <summary>An SMS provider. The platform ships the file sink; a provider adapter implements this and replaces it in DI.</summary>
public interface ISmsSender
{
    Task SendAsync(OutboundMessage message, CancellationToken cancellationToken);
}

/// <summary>
/// Local runs and tests: messages appended as JSON lines to <c>&lt;SinkDirectory&gt;/email.jsonl</c> and
/// <c>sms.jsonl</c>, each <c>{eventId, channel, to, kind, title, body, at}</c>. Appending is idempotent: a
/// line with the same eventId and channel is never written twice (checked under an exclusive lock
/// first), so a resend after a crash does not double a line. The lines already seen are kept in memory
/// per file, so an append reads only what was appended since (by this process or another): a whole
/// rescan per message made sending quadratic in the file's size (ten thousand package notices took a
/// core for half an hour).
/// </summary>
public sealed class NotificationFileSink(IOptions<NotificationOptions> options, TimeProvider time)
{
    public const string EmailFile = "email.jsonl";
    public const string SmsFile = "sms.jsonl";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // a file, never HTML: keep Chinese text readable
    };

    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Per file: how many bytes were scanned, and the (eventId, channel) of the lines in them.</summary>
    private readonly Dictionary<string, (long Scanned, HashSet<string> Sent)> _seen = new(StringComparer.Ordinal);

    public string Directory => Path.GetFullPath(options.Value.SinkDirectory);

    public string PathOf(string fileName) => Path.Combine(Directory, fileName);

    /// <summary>Appends the message unless a line for its (eventId, channel) exists; returns whether it appended.</summary>
    public async Task<bool> AppendOnceAsync(string fileName, OutboundMessage message, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            var path = PathOf(fileName);
            await using var file = await OpenExclusiveAsync(path, ct);
            var sent = await ScanNewLinesAsync(path, file, ct);
            if (sent.Contains(SentKey(message.EventId, message.Channel))) return false;

            var record = new SinkLine(message.EventId, message.Channel, message.To, message.Kind, message.Title, message.Body,
                time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
            var bytes = new List<byte>();
            // A torn last line (a crash mid-write) stays a line of its own, skipped by readers.
            if (file.Length > 0 && !await EndsWithNewLineAsync(file, ct)) bytes.Add((byte)'\n');
            bytes.AddRange(JsonSerializer.SerializeToUtf8Bytes(record, Json));
            bytes.Add((byte)'\n');
            file.Seek(0, SeekOrigin.End);
            await file.WriteAsync(bytes.ToArray(), ct);
            await file.FlushAsync(ct);
            file.Flush(flushToDisk: true);
            sent.Add(SentKey(message.EventId, message.Channel));
            _seen[path] = (file.Length, sent);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The (eventId, channel) of every line of the file, reading only the complete lines after those scanned before
    /// (all of it again if the file shrank: replaced or truncated by hand).
    /// </summary>
    private async Task<HashSet<string>> ScanNewLinesAsync(string path, FileStream file, CancellationToken ct)
    {
        if (!_seen.TryGetValue(path, out var known) || file.Length < known.Scanned) known = (0, new HashSet<string>(StringComparer.Ordinal));
        var content = new byte[file.Length - known.Scanned];
        file.Seek(known.Scanned, SeekOrigin.Begin);
        await file.ReadExactlyAsync(content, ct);
        var complete = Array.LastIndexOf(content, (byte)'\n') + 1; // a torn last line is rescanned once completed
        foreach (var line in Encoding.UTF8.GetString(content, 0, complete).Split('\n'))
            if (ParseLine(line) is { } l) known.Sent.Add(SentKey(l.EventId, l.Channel));
        _seen[path] = (known.Scanned + complete, known.Sent);
        return known.Sent;
    }

    private static async Task<bool> EndsWithNewLineAsync(FileStream file, CancellationToken ct)
    {
        var last = new byte[1];
        file.Seek(-1, SeekOrigin.End);
        await file.ReadExactlyAsync(last, ct);
        return last[0] == (byte)'\n';
    }

    private static string SentKey(string eventId, string channel) => eventId + "\n" + channel;

    private static SinkLine? ParseLine(string line)
    {
        if (line.Length == 0) return null;
        try
        {
            return JsonSerializer.Deserialize<SinkLine>(line, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Exclusive across processes too (FileShare.None): a second Onboarding process waits its turn.</summary>
    private static async Task<FileStream> OpenExclusiveAsync(string path, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 4096, useAsync: true);
            }
            catch (IOException) when (attempt < 200)
            {
                await Task.Delay(10, ct);
            }
        }
    }

    public sealed record SinkLine(string EventId, string Channel, string To, string Kind, string Title, string Body, string At);
}

public sealed class FileEmailSender(NotificationFileSink sink) : IEmailSender
{
    public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken) =>
        sink.AppendOnceAsync(NotificationFileSink.EmailFile, message, cancellationToken);
}

public sealed class FileSmsSender(NotificationFileSink sink) : ISmsSender
{
    public Task SendAsync(OutboundMessage message, CancellationToken cancellationToken) =>
        sink.AppendOnceAsync(NotificationFileSink.SmsFile, message, cancellationToken);
}

/// <summary>
/// Email through SMTP with MailKit (Notifications:Smtp:*). The Message-ID is derived from the
/// event id, so a resend after a crash carries the same Message-ID and mail systems that
/// de-duplicate on it show one message.
/// </summary>
public sealed class SmtpEmailSender(IOptions<NotificationOptions> options) : IEmailSender
{
    public async Task SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        var smtp = options.Value.Smtp;
        var mail = new MimeMessage();
        mail.From.Add(new MailboxAddress(smtp.FromName, smtp.From));
        mail.To.Add(MailboxAddress.Parse(message.To));
        mail.Subject = message.Title;
        mail.MessageId = MessageIdFor(message.EventId, message.Channel);
        mail.Headers.Add("X-FaceId-Notification", message.Kind);
        mail.Body = new TextPart("plain") { Text = message.Body };

        using var client = new SmtpClient { Timeout = smtp.TimeoutMs };
        await client.ConnectAsync(smtp.Host, smtp.Port, smtp.Security, cancellationToken);
        if (smtp.UserName.Length > 0) await client.AuthenticateAsync(smtp.UserName, smtp.Password, cancellationToken);
        await client.SendAsync(mail, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }

    /// <summary>Stable per (event, channel): <c>&lt;sha256 prefix&gt;@faceid.notifications</c>.</summary>
    public static string MessageIdFor(string eventId, string channel) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(eventId + "\n" + channel)))[..32] + "@faceid.notifications";
}
