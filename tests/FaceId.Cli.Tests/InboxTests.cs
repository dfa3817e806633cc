using System.Text;
using FaceId.Contracts.Onboarding.V1;
using FaceId.TestKit;
using Xunit;

namespace FaceId.Cli.Tests;

/// <summary>inbox tail, with and without --follow.</summary>
[Collection(PlatformCollection.Name)]
public sealed class InboxTests(PlatformFixture platform)
{
    [Fact]
    public async Task Tail_shows_the_approval_and_the_trial_deliveries_and_follow_prints_new_messages_until_cancelled()
    {
        var accountId = await platform.OpenedAccountAsync();
        // One notice for the approval, one per delivered trial package.
        var tail = await Eventually.GetAsync(
            async () => (await platform.RunAsync("inbox", "tail", "--account", accountId, "--json")).AssertExit(ExitCodes.Ok).Json<ListInboxResponse>(),
            r => r.Messages.Count == 7, PlatformFixture.Timeout, "seven inbox messages");
        Assert.Single(tail.Messages, m => m.Kind == "application.approved");
        Assert.Equal(6, tail.Messages.Count(m => m.Kind == "package.delivered"));
        Assert.Equal(7, tail.UnreadCount);

        var table = (await platform.RunAsync("inbox", "tail", "--account", accountId, "-n", "3")).AssertExit(ExitCodes.Ok);
        Assert.Contains("3 message(s)", table.Out);
        Assert.Contains("7 unread", table.Out);

        using var cancel = new CancellationTokenSource();
        var output = new StringBuilder();
        var writer = TextWriter.Synchronized(new StringWriter(output));
        var errors = new StringWriter();
        var error = TextWriter.Synchronized(errors);
        var follow = Task.Run(() => CliApp.RunAsync(
            ["inbox", "tail", "--account", accountId, "--follow", "--interval", "0.1", .. platform.ConnectionArgs], writer, error, cancel.Token));
        try
        {
            await Eventually.AssertAsync(() => Lines(writer, output).Length == 7, PlatformFixture.Timeout, "the seven messages printed first");
            var first = Lines(writer, output);
            Assert.Single(first, l => l.Contains("application.approved"));
            Assert.Equal(first.Select(l => l[..19]).Order(StringComparer.Ordinal), first.Select(l => l[..19])); // oldest first

            (await platform.RunAsync("packages", "buy", "--account", accountId, "--label", "enhanced_self_photo_app", "--size", "1000", "--order-id", TestIds.New("order"))).AssertExit(ExitCodes.Ok);
            await Eventually.AssertAsync(() => Lines(writer, output).Length == 8, PlatformFixture.Timeout, "the new delivery printed by --follow");
            Assert.Contains("package.delivered", Lines(writer, output)[7]);
        }
        finally
        {
            await cancel.CancelAsync();
        }
        Assert.Equal(ExitCodes.Ok, await follow);
        Assert.Equal("", errors.ToString());
    }

    private static string[] Lines(TextWriter writer, StringBuilder output)
    {
        lock (writer) return output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
