using FaceId.Onboarding.Application.Notifications;
using Microsoft.Extensions.Options;
using Xunit;

namespace FaceId.Onboarding.Tests;

/// <summary>
/// The local run's message files (R-PKG-6 notices by email and SMS): a line per (event, channel), never two, whichever
/// process appended the first one, and an append reads only what was appended since, not the whole file again.
/// </summary>
public sealed class NotificationFileSinkTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "faceid-sink-" + Guid.NewGuid().ToString("N"));

    private NotificationFileSink NewSink() => new(Options.Create(new NotificationOptions { SinkDirectory = _dir }), TimeProvider.System);

    private static OutboundMessage Message(string eventId, string channel = "email") => new(eventId, channel, "ops@example.com", "package.delivered", "title", "body");

    [Fact]
    public async Task R_PKG_6_a_message_is_appended_once_per_event_and_channel_even_when_two_processes_share_the_file()
    {
        var (a, b) = (NewSink(), NewSink()); // two Onboarding processes on one folder
        Assert.True(await a.AppendOnceAsync(NotificationFileSink.EmailFile, Message("e1"), default));
        Assert.True(await b.AppendOnceAsync(NotificationFileSink.EmailFile, Message("e2"), default));
        Assert.False(await a.AppendOnceAsync(NotificationFileSink.EmailFile, Message("e2"), default)); // b's line, seen by a
        Assert.False(await b.AppendOnceAsync(NotificationFileSink.EmailFile, Message("e1"), default));
        Assert.True(await a.AppendOnceAsync(NotificationFileSink.EmailFile, Message("e1", "sms"), default)); // another channel

        Assert.Equal(3, File.ReadAllLines(Path.Combine(_dir, NotificationFileSink.EmailFile)).Length);
    }

    [Fact]
    public async Task A_torn_last_line_and_a_file_emptied_by_hand_are_handled()
    {
        var sink = NewSink();
        Assert.True(await sink.AppendOnceAsync(NotificationFileSink.EmailFile, Message("e1"), default));
        var path = Path.Combine(_dir, NotificationFileSink.EmailFile);
        await File.AppendAllTextAsync(path, "{\"eventId\":\"e2\",\"chan"); // a crash mid-write
        Assert.True(await sink.AppendOnceAsync(NotificationFileSink.EmailFile, Message("e2"), default));
        Assert.False(await sink.AppendOnceAsync(NotificationFileSink.EmailFile, Message("e2"), default));
        Assert.Equal(3, File.ReadAllLines(path).Length); // e1, the torn line on its own, e2

        await File.WriteAllTextAsync(path, ""); // emptied by hand: everything may be written again
        Assert.True(await sink.AppendOnceAsync(NotificationFileSink.EmailFile, Message("e1"), default));
    }

    [Fact]
    public async Task An_append_reads_only_what_was_appended_since_not_the_whole_file_again()
    {
        var sink = NewSink();
        for (var i = 0; i < 100; i++) Assert.True(await sink.AppendOnceAsync(NotificationFileSink.SmsFile, Message($"warm-{i:D3}", "sms"), default));
        var path = Path.Combine(_dir, NotificationFileSink.SmsFile);

        // Bytes already scanned are not read again: a line changed in place there goes unseen (a whole rescan per
        // append would see it), while a line appended by another process is seen.
        var text = await File.ReadAllTextAsync(path);
        await File.WriteAllTextAsync(path, text.Replace("warm-000", "xarm-000", StringComparison.Ordinal));
        await NewSink().AppendOnceAsync(NotificationFileSink.SmsFile, Message("other", "sms"), default);

        Assert.True(await sink.AppendOnceAsync(NotificationFileSink.SmsFile, Message("xarm-000", "sms"), default));
        Assert.False(await sink.AppendOnceAsync(NotificationFileSink.SmsFile, Message("other", "sms"), default));
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
