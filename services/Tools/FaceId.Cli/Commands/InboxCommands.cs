using System.CommandLine;
using FaceId.Contracts.Common.V1;
using FaceId.Contracts.Onboarding.V1;
using Grpc.Core;
using Spectre.Console;

namespace FaceId.Cli.Commands;

/// <summary><c>inbox tail</c>: an account's in-site messages (OnboardingService ListInbox), optionally followed.</summary>
public static class InboxCommands
{
    public static Command Build(CommandRunner runner)
    {
        var inbox = new Command("inbox", "In-site messages of a main account (OnboardingService)");

        var account = Common.Account("The main account");
        var lines = new Option<int>("--lines", "-n")
        {
            Description = "How many of the newest messages to show first (1..500)",
            DefaultValueFactory = _ => 20,
            Validators =
            {
                r =>
                {
                    if (r.GetValueOrDefault<int>() is < 1 or > 500) r.AddError("--lines must be 1..500.");
                },
            },
        };
        var unread = new Option<bool>("--unread-only") { Description = "Only unread messages" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep polling and print new messages as they arrive, until Ctrl-C" };
        var interval = new Option<double>("--interval")
        {
            Description = "Seconds between polls with --follow",
            DefaultValueFactory = _ => 2,
            Validators =
            {
                r =>
                {
                    if (r.GetValueOrDefault<double>() is < 0.05 or > 3600 or double.NaN) r.AddError("--interval must be 0.05..3600 seconds.");
                },
            },
        };
        var tail = new Command("tail", "Print the newest messages, oldest of them first; with --follow, then every new one") { account, lines, unread, follow, interval };
        runner.Handle(tail, async (ctx, parse) =>
        {
            var request = new ListInboxRequest
            {
                AccountId = parse.GetValue(account) ?? "",
                UnreadOnly = parse.GetValue(unread),
                Page = new PageRequest { PageSize = parse.GetValue(lines) },
            };
            if (!parse.GetValue(follow))
            {
                var first = await ctx.Onboarding.ListInboxAsync(request, ctx.Call());
                if (ctx.Json)
                {
                    ctx.WriteJson(first);
                    return ExitCodes.Ok;
                }
                var table = Render.Table("time (UTC+8)", "kind", "read", "title", "body");
                foreach (var m in first.Messages.Reverse()) table.Row(m.CreatedAt, m.Kind, m.Read, m.Title, m.Body);
                table.Caption = new TableTitle(Markup.Escape($"{first.Messages.Count} message(s) of {request.AccountId}, {first.UnreadCount} unread"));
                ctx.Console.Write(table);
                return ExitCodes.Ok;
            }

            // Follow: one line per message (JSON lines with --json), the newest --lines oldest first,
            // then each new one as it comes. Every poll reads the newest FollowWindow messages, so
            // what is older than the window at the start is never printed late.
            var poll = new ListInboxRequest(request) { Page = new PageRequest { PageSize = FollowWindow } };
            var start = await ctx.Onboarding.ListInboxAsync(poll, ctx.Call());
            var seen = start.Messages.Select(m => m.MessageId).ToHashSet();
            Print(ctx, start.Messages.Take(request.Page.PageSize).Reverse(), []);
            var period = TimeSpan.FromSeconds(parse.GetValue(interval));
            try
            {
                while (true)
                {
                    await Task.Delay(period, ctx.Cancellation);
                    try
                    {
                        var page = await ctx.Onboarding.ListInboxAsync(poll, ctx.Call());
                        Print(ctx, page.Messages.Where(m => !seen.Contains(m.MessageId)).Reverse(), seen);
                    }
                    catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded && !ctx.Cancellation.IsCancellationRequested)
                    {
                        // Keep following across a restart of Onboarding; say so once per outage.
                        await ctx.Err.WriteLineAsync(ErrorReport.Describe(e, PlatformService.Onboarding, ctx.Endpoints) + " (still following)");
                    }
                }
            }
            catch (Exception e) when (ctx.Cancellation.IsCancellationRequested && e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                return ExitCodes.Ok; // Ctrl-C ends a follow normally
            }
        });
        inbox.Add(tail);
        return inbox;
    }

    /// <summary>Messages read per poll with --follow (more new ones than this between two polls are not all shown).</summary>
    public const int FollowWindow = 500;

    private static void Print(CliContext ctx, IEnumerable<InboxMessage> messages, HashSet<string> seen)
    {
        foreach (var m in messages)
        {
            if (!seen.Add(m.MessageId)) continue;
            if (ctx.Json) ctx.WriteJsonLine(m);
            else ctx.Out.WriteLine($"{Render.Time(m.CreatedAt)}  {m.Kind,-22} {(m.Read ? " " : "*")} {m.Title} — {ErrorReport.OneLine(m.Body)}");
        }
        ctx.Out.Flush();
    }
}
